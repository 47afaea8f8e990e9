//! Who acts from Slack: an unlinked user files nothing and is told how to link, a user matched by e-mail files as themselves, `status` and `my requests` answer from the index, a DM conversation works, and Change reopens one answer.

use super::app::{SlackApp, TEAM};
use crate::support::WAIT;
use app::domain::policy::Role;
use serde_json::Value;
use server::auth::Users;
use server::auth::contact::LinkChange;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unlinked_user_is_told_how_to_link_and_nothing_is_filed() {
    let s = SlackApp::start(&[]).await;
    let root = s.app.token("root", Role::Admin).await;
    let words = "I need an s3 bucket called orphan-logs in dev with 30 day expiration";
    let thread = s.mention("U0NOBODY", words, None).await;
    s.wait_in_thread(TEAM, &thread, "keep previous versions")
        .await;
    s.reply("U0NOBODY", &thread, "defaults for the rest").await;
    let (summary, draft) = s
        .wait_for_button_in(TEAM, Some(&thread), "tfpilot_submit", None)
        .await;
    let shown = summary.blocks.clone().unwrap_or(Value::Null).to_string();
    assert!(shown.contains("link-slack"), "warned before: {shown}");

    let res = s
        .click(
            "U0NOBODY",
            TEAM,
            &summary.ts,
            Some(&thread),
            "tfpilot_submit",
            &draft,
        )
        .await;
    assert_eq!(res.status(), 200);
    let told = s.wait_response("not linked to a tfpilot user").await;
    assert!(
        told.contains("tfpilot users link-slack <login> U0NOBODY"),
        "{told}"
    );
    assert!(told.contains("nothing was filed"), "{told}");
    let list: Value = s
        .app
        .get_as(&root, "/api/v1/requests")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
    assert!(
        !s.thread(TEAM, &thread)
            .iter()
            .any(|m| m.text.contains("Filed")),
        "nothing filed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_user_matched_by_email_files_and_asks_about_their_requests() {
    let s = SlackApp::start(&[]).await;
    let eve = s.person("eve", Role::Requester, None).await;
    Users::new(s.app.requests_store())
        .set_links(
            "eve",
            LinkChange {
                slack_user_id: None,
                email: Some(Some("eve@example.com".into())),
            },
        )
        .await
        .expect("set the e-mail");
    s.slack.add_user("U0EVE", Some("Eve@Example.com"), false);

    let (_, id) = s.file_from_slack("U0EVE", "eve-logs").await;
    let view = s.app.wait_for_status(&eve, &id, "plan_ready", WAIT).await;
    assert_eq!(view["request"]["created_by"], "eve");
    // `status` answers from the index, which follows the document a moment later.
    s.app.wait_for_row(&eve, &id, "plan_ready", WAIT).await;
    assert!(
        !s.slack.calls_to("users.info").is_empty(),
        "matched through users.info"
    );

    let asked = s.mention("U0EVE", &format!("status {id}"), None).await;
    let status = s.wait_in_thread(TEAM, &asked, &id).await;
    assert!(status.text.contains("by eve"), "{}", status.text);
    assert!(status.text.contains("*plan_ready*"), "{}", status.text);
    let unknown = s.mention("U0EVE", "status 0000000000000000", None).await;
    s.wait_in_thread(TEAM, &unknown, "There is no live request")
        .await;

    let mine = s.mention("U0EVE", "my requests", None).await;
    let list = s.wait_in_thread(TEAM, &mine, "Requests of eve").await;
    assert!(list.text.contains(&id), "{}", list.text);
    assert!(
        list.text.contains("s3-bucket in sandbox/dev"),
        "{}",
        list.text
    );
    // Someone unlinked asking for theirs is told how to link.
    let stranger = s.mention("U0NOBODY", "my requests", None).await;
    s.wait_in_thread(TEAM, &stranger, "link-slack").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_direct_message_conversation_files_a_request() {
    let s = SlackApp::start(&[]).await;
    let alice = s.person("alice", Role::Requester, Some("U0ALICE")).await;
    let dm = "D0ALICE";
    let words = "I need an s3 bucket called dm-logs in dev with 30 day expiration";
    s.say_in("U0ALICE", dm, "im", None, words).await;
    s.wait_in(dm, "keep previous versions").await;
    s.say_in("U0ALICE", dm, "im", None, "defaults for the rest")
        .await;
    let (summary, draft) = s.wait_for_button_in(dm, None, "tfpilot_submit", None).await;
    assert!(
        s.slack
            .messages_in(dm)
            .iter()
            .all(|m| m.thread_ts.is_none()),
        "a DM is answered at its top level"
    );
    let res = s
        .click("U0ALICE", dm, &summary.ts, None, "tfpilot_submit", &draft)
        .await;
    assert_eq!(res.status(), 200);
    let filed = s.wait_in(dm, "Filed request").await;
    let id = filed.text.split('`').nth(1).expect("the request id");
    let view = s.app.wait_for_status(&alice, id, "plan_ready", WAIT).await;
    assert_eq!(view["request"]["created_by"], "alice");
    assert_eq!(view["request"]["config"]["name"], "dm-logs");
    assert_eq!(view["request"]["origin"]["via"], "slack");
    // The DM hears how it goes.
    s.wait_in(dm, "plan ready").await;
    // A second press (a stale copy of the buttons) files nothing more.
    s.click("U0ALICE", dm, &summary.ts, None, "tfpilot_submit", &draft)
        .await;
    let told = s.wait_response("already filed").await;
    assert!(told.contains(id), "{told}");
    let list: Value = s
        .app
        .get_as(&alice, "/api/v1/requests")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn change_reopens_one_answer_and_shows_a_new_summary() {
    let s = SlackApp::start(&[]).await;
    let alice = s.person("alice", Role::Requester, Some("U0ALICE")).await;
    let words = "I need an s3 bucket called change-logs in dev with 30 day expiration";
    let thread = s.mention("U0ALICE", words, None).await;
    s.wait_in_thread(TEAM, &thread, "keep previous versions")
        .await;
    s.reply("U0ALICE", &thread, "defaults for the rest").await;
    let (first, draft) = s
        .wait_for_button_in(TEAM, Some(&thread), "tfpilot_change", None)
        .await;
    let before = first.blocks.clone().unwrap_or(Value::Null).to_string();
    assert!(before.contains("expiration_days = 30"), "{before}");

    let res = s
        .click(
            "U0ALICE",
            TEAM,
            &first.ts,
            Some(&thread),
            "tfpilot_change",
            &draft,
        )
        .await;
    assert_eq!(res.status(), 200);
    s.wait_in_thread(TEAM, &thread, "What should change?").await;
    s.reply("U0ALICE", &thread, "expiration_days 60").await;
    s.wait_in_thread(TEAM, &thread, "expiration_days = 60")
        .await;
    let (second, again) = s
        .wait_for_button_in(TEAM, Some(&thread), "tfpilot_submit", Some(&first.ts))
        .await;
    assert_eq!(again, draft, "the same draft");
    let after = second.blocks.clone().unwrap_or(Value::Null).to_string();
    assert!(after.contains("expiration_days = 60"), "{after}");
    assert!(
        after.contains("name = change-logs"),
        "the rest kept: {after}"
    );
    assert!(!after.contains("expiration_days = 30"), "{after}");

    s.click(
        "U0ALICE",
        TEAM,
        &second.ts,
        Some(&thread),
        "tfpilot_submit",
        &draft,
    )
    .await;
    let filed = s.wait_in_thread(TEAM, &thread, "Filed request").await;
    let id = filed.text.split('`').nth(1).expect("the request id");
    let view = s.app.wait_for_status(&alice, id, "plan_ready", WAIT).await;
    assert_eq!(view["request"]["config"]["expiration_days"], 60);
    assert_eq!(view["request"]["config"]["name"], "change-logs");
}
