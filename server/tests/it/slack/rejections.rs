//! Rejections from Slack: Reject asks for the reason in the approval message's thread, the reply (plain, as `@tfpilot <reason>`, from the last to press Reject) records it, the message and the requester's thread say so, and a refused reason is refused once.

use super::app::{APPROVALS, SOON, SlackApp, TEAM, button};
use crate::support::slack::BOT_USER_ID;
use crate::support::{WAIT, wait_until};
use app::domain::policy::Role;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reject_takes_the_reason_from_the_thread_and_tells_the_requester() {
    let s = SlackApp::start(&[]).await;
    let alice = s.person("alice", Role::Requester, Some("U0ALICE")).await;
    s.person("bob", Role::Approver, Some("U0BOB")).await;
    let (thread, id) = s.file_from_slack("U0ALICE", "reject-me").await;
    s.app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    let (ask, _) = s.wait_for_button(APPROVALS, "tfpilot_reject").await;
    assert!(ask.text.contains(&id));

    // The requester cannot reject (nor approve) their own plan.
    s.click("U0ALICE", APPROVALS, &ask.ts, None, "tfpilot_reject", &id)
        .await;
    let told = s.wait_response("Not rejected").await;
    assert!(told.contains("needs the approver or admin role"), "{told}");
    let res = s
        .click("U0BOB", APPROVALS, &ask.ts, None, "tfpilot_reject", &id)
        .await;
    assert_eq!(res.status(), 200);
    s.wait_in_thread(APPROVALS, &ask.ts, "why reject").await;
    // Someone else's reply in that thread is not the reason.
    s.say_in(
        "U0ALICE",
        APPROVALS,
        "channel",
        Some(&ask.ts),
        "please don't",
    )
    .await;
    let reason = "the name breaks our naming rules";
    s.say_in("U0BOB", APPROVALS, "channel", Some(&ask.ts), reason)
        .await;
    s.wait_in_thread(APPROVALS, &ask.ts, &format!("Rejected `{id}`"))
        .await;

    let view: Value = s
        .app
        .get_as(&alice, &format!("/api/v1/requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let events = view["request"]["events"].as_array().expect("events");
    let rejected: Vec<&Value> = events.iter().filter(|e| e["kind"] == "rejected").collect();
    assert_eq!(rejected.len(), 1, "{events:#?}");
    assert_eq!(rejected[0]["actor"], "bob");
    let detail = rejected[0]["detail"].as_str().unwrap_or_default();
    assert!(detail.ends_with(reason), "{detail}");

    let done = s.wait_acted(APPROVALS, &ask.ts, "Rejected by bob").await;
    assert!(done.contains(reason), "{done}");
    s.wait_in_thread(TEAM, &thread, &format!("rejected by bob: {reason}"))
        .await;

    s.click("U0BOB", APPROVALS, &ask.ts, None, "tfpilot_approve", &id)
        .await;
    s.wait_response("Already rejected by bob").await;
    let view: Value = s
        .app
        .get_as(&alice, &format!("/api/v1/requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(view["request"]["approval"].is_null(), "{view:#}");
}

impl SlackApp {
    /// Waits for request `id`'s approval message.
    async fn approval_for(&self, id: &str) -> crate::support::slack::Posted {
        wait_until(SOON, &format!("the approval message of {id}"), || async {
            let all = self.slack.messages_in(APPROVALS);
            all.iter()
                .find(|m| button(m, "tfpilot_reject").as_deref() == Some(id))
                .cloned()
                .ok_or_else(|| format!("{:?}", all.iter().map(|m| &m.text).collect::<Vec<_>>()))
        })
        .await
    }

    /// The reason of request `id`'s rejection, once there is one.
    async fn rejection_of(&self, token: &str, id: &str) -> String {
        wait_until(SOON, &format!("{id} rejected"), || async {
            let view: Value = self
                .app
                .get_as(token, &format!("/api/v1/requests/{id}"))
                .await
                .json()
                .await
                .unwrap();
            let events = view["request"]["events"].as_array().cloned();
            events
                .unwrap_or_default()
                .iter()
                .find(|e| e["kind"] == "rejected")
                .and_then(|e| e["detail"].as_str().map(str::to_owned))
                .ok_or_else(|| format!("{view:#}"))
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reason_may_mention_tfpilot_or_a_colleague() {
    let s = SlackApp::start(&[]).await;
    let alice = s.person("alice", Role::Requester, Some("U0ALICE")).await;
    s.person("bob", Role::Approver, Some("U0BOB")).await;
    let mut asks = Vec::new();
    for name in ["mention-one", "mention-two"] {
        let id = s
            .app
            .file(&alice, "dev", "s3-bucket", json!({"name": name}))
            .await;
        s.app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
        let ask = s.approval_for(&id).await;
        s.click("U0BOB", APPROVALS, &ask.ts, None, "tfpilot_reject", &id)
            .await;
        s.wait_in_thread(APPROVALS, &ask.ts, "why reject").await;
        asks.push((id, ask));
    }

    // "@tfpilot <reason>" in the thread.
    let (id, ask) = &asks[0];
    let ts = s.ts();
    let text = format!("<@{BOT_USER_ID}> too many buckets already");
    let event = s.slack.mention_event(
        &format!("Ev{}", ts.replace('.', "")),
        "U0BOB",
        APPROVALS,
        &text,
        &ts,
        Some(&ask.ts),
    );
    s.deliver(&event).await;
    let reason = s.rejection_of(&alice, id).await;
    assert!(reason.ends_with(": too many buckets already"), "{reason}");
    s.wait_in_thread(APPROVALS, &ask.ts, &format!("Rejected `{id}`"))
        .await;

    // A reason naming a colleague is still a reason.
    let (id, ask) = &asks[1];
    let reason = "ask <@U0CAROL> for the shared one";
    s.say_in("U0BOB", APPROVALS, "channel", Some(&ask.ts), reason)
        .await;
    let said = s.rejection_of(&alice, id).await;
    assert!(said.ends_with(reason), "{said}");
    // Nothing else was started in those threads.
    for (_, ask) in &asks {
        let texts: Vec<String> = s
            .thread(APPROVALS, &ask.ts)
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert!(
            !texts.iter().any(|t| t.contains("Which project")),
            "{texts:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_last_to_press_reject_gives_the_reason() {
    let s = SlackApp::start(&[]).await;
    let alice = s.person("alice", Role::Requester, Some("U0ALICE")).await;
    s.person("bob", Role::Approver, Some("U0BOB")).await;
    s.person("dave", Role::Approver, Some("U0DAVE")).await;
    let id = s
        .app
        .file(&alice, "dev", "s3-bucket", json!({"name": "two-rejecters"}))
        .await;
    s.app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    let ask = s.approval_for(&id).await;
    for user in ["U0BOB", "U0DAVE"] {
        s.click(user, APPROVALS, &ask.ts, None, "tfpilot_reject", &id)
            .await;
        s.wait_in_thread(APPROVALS, &ask.ts, &format!("<@{user}>, why reject"))
            .await;
    }
    s.say_in("U0DAVE", APPROVALS, "channel", Some(&ask.ts), "not needed")
        .await;
    let reason = s.rejection_of(&alice, &id).await;
    assert!(reason.ends_with("not needed"), "{reason}");
    s.wait_acted(APPROVALS, &ask.ts, "Rejected by dave").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reason_for_a_plan_approved_meanwhile_is_refused_once() {
    let s = SlackApp::start(&[]).await;
    let alice = s.person("alice", Role::Requester, Some("U0ALICE")).await;
    let bob = s.person("bob", Role::Approver, Some("U0BOB")).await;
    let id = s
        .app
        .file(
            &alice,
            "dev",
            "s3-bucket",
            json!({"name": "approved-meanwhile"}),
        )
        .await;
    s.app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    let ask = s.approval_for(&id).await;
    s.click("U0BOB", APPROVALS, &ask.ts, None, "tfpilot_reject", &id)
        .await;
    s.wait_in_thread(APPROVALS, &ask.ts, "why reject").await;
    let approve = format!("/api/v1/requests/{id}/approve");
    assert_eq!(
        s.app.post_as(&bob, &approve, &json!({})).await.status(),
        202
    );
    s.say_in("U0BOB", APPROVALS, "channel", Some(&ask.ts), "too big")
        .await;
    s.wait_in_thread(APPROVALS, &ask.ts, "Not rejected").await;
    // Later talk in the thread is just talk.
    s.say_in("U0BOB", APPROVALS, "channel", Some(&ask.ts), "ok then")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let refusals = s
        .thread(APPROVALS, &ask.ts)
        .iter()
        .filter(|m| m.text.contains("Not rejected"))
        .count();
    assert_eq!(refusals, 1);
    s.app.wait_for_status(&alice, &id, "approved", SOON).await;
}
