//! Approvals from Slack's buttons: the prod allow-list refuses with the rule (audited `via: slack`, as is an unlinked user) and lets a listed approver through, with the change in plain words and the risk notes on the message.

use super::app::{APPROVALS, SOON, SlackApp, button};
use crate::support::{WAIT, wait_until};
use app::domain::policy::Role;
use serde_json::{Value, json};

impl SlackApp {
    /// Waits until the message `ts` in `channel` has no `action_id`
    /// button and its blocks contain `needle`; the blocks.
    pub(super) async fn wait_acted(&self, channel: &str, ts: &str, needle: &str) -> String {
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
    let words = "Creates 1 Terraform data resource for the S3 bucket `prod-logs` in prod with versioning on; deletable while it holds objects; AES256 encryption. Nothing is changed or destroyed.";
    assert!(shown.contains(words), "the change in plain words: {shown}");
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
    assert!(done.contains(words), "the words kept: {done}");
}
