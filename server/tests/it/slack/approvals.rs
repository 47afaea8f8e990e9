//! Approvals from Slack's buttons: the prod allow-list refuses with the rule (audited `via: slack`) and lets a listed approver through, risk notes on the message, and Reject with its reason taken from the approval message's thread (plain, as `@tfpilot <reason>`, or from the last to press Reject).

use super::app::{APPROVALS, SOON, SlackApp, TEAM, button};
use crate::support::slack::BOT_USER_ID;
use crate::support::{WAIT, wait_until};
use app::domain::policy::Role;
use serde_json::{Value, json};

impl SlackApp {
    /// Waits until the message `ts` in `channel` has no `action_id`
    /// button and its blocks contain `needle`; the blocks.
    async fn wait_acted(&self, channel: &str, ts: &str, needle: &str) -> String {
        wait_until(SOON, needle, || async {
            let m = self.slack.message(channel, ts).expect("the message");
            let all = m.blocks.clone().unwrap_or(Value::Null).to_string();
            if button(&m, "tfpilot_approve").is_none() && all.contains(needle) {
                Ok(all)
            } else {
                Err(all)
            }
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prod_approval_follows_the_allow_list_and_shows_the_risks() {
    let s = SlackApp::start(&[("TFPILOT_PROD_ALLOWED_USERS", "carol")]).await;
    let alice = s.person("alice", Role::Requester, Some("U0ALICE")).await;
    s.person("bob", Role::Approver, Some("U0BOB")).await;
    s.person("carol", Role::Approver, Some("U0CAROL")).await;
    let root = s.app.token("root", Role::Admin).await;
    let config = json!({"name": "prod-logs", "force_destroy": true});
    let id = s.app.file(&alice, "prod", "s3-bucket", config).await;
    s.app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;

    let (ask, value) = s.wait_for_button(APPROVALS, "tfpilot_approve").await;
    assert_eq!(value, id);
    let shown = ask.blocks.clone().unwrap_or(Value::Null).to_string();
    assert!(shown.contains("High-risk inputs"), "{shown}");
    assert!(shown.contains("force_destroy"), "{shown}");
    assert!(shown.contains("/prod"), "{shown}");

    // Someone Slack knows but tfpilot does not.
    s.click("U0NOBODY", APPROVALS, &ask.ts, None, "tfpilot_approve", &id)
        .await;
    let told = s.wait_response("not linked to a tfpilot user").await;
    assert!(told.contains("tfpilot users link-slack"), "{told}");
    // bob may approve, but not in prod.
    let res = s
        .click("U0BOB", APPROVALS, &ask.ts, None, "tfpilot_approve", &id)
        .await;
    assert_eq!(res.status(), 200);
    let told = s.wait_response("Not approved").await;
    assert!(
        told.contains("approve in production needs a user on the prod allow-list"),
        "{told}"
    );
    let view: Value = s
        .app
        .get_as(&alice, &format!("/api/v1/requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "plan_ready");
    let audit: Value = s
        .app
        .get_as(&root, &format!("/api/v1/audit?request={id}"))
        .await
        .json()
        .await
        .unwrap();
    let refused = audit["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["action"] == "auth.denied" && r["actor"] == "bob")
        .unwrap_or_else(|| panic!("the refusal is audited: {audit:#}"))
        .clone();
    let stranger = audit["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["actor"] == "slack:U0NOBODY")
        .unwrap_or_else(|| panic!("the unlinked click is audited: {audit:#}"));
    assert_eq!(stranger["action"], "auth.denied");
    assert_eq!(stranger["via"], "slack");
    assert_eq!(refused["actor"], "bob", "{refused}");
    assert_eq!(refused["via"], "slack", "{refused}");
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains("prod.allow_list")),
        "{refused}"
    );
    let still = s.slack.message(APPROVALS, &ask.ts).expect("the message");
    assert!(button(&still, "tfpilot_approve").is_some(), "buttons kept");

    // carol is on the list.
    let res = s
        .click("U0CAROL", APPROVALS, &ask.ts, None, "tfpilot_approve", &id)
        .await;
    assert_eq!(res.status(), 200);
    let view = s.app.wait_for_status(&alice, &id, "approved", SOON).await;
    assert_eq!(view["request"]["approval"]["by"], "carol");
    let done = s.wait_acted(APPROVALS, &ask.ts, "Approved by carol").await;
    assert!(done.contains("force_destroy"), "risks kept: {done}");
    assert!(done.contains("to add"), "plan counts kept: {done}");
}

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
