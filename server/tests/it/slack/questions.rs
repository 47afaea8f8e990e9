//! Questions about platform state from Slack: answered in the thread as the linked user, under the policy.

use super::app::{SlackApp, TEAM};
use crate::support::WAIT;
use app::domain::policy::Role;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approver_asks_what_waits_for_their_approval() {
    let s = SlackApp::start(&[]).await;
    let rita = s.person("rita", Role::Requester, Some("U0RITA")).await;
    s.person("alex", Role::Approver, Some("U0ALEX")).await;
    let id = s
        .app
        .file(&rita, "dev", "sqs-queue", json!({"name": "orders"}))
        .await;
    s.app.wait_for_status(&rita, &id, "plan_ready", WAIT).await;
    s.app.wait_for_row(&rita, &id, "plan_ready", WAIT).await;

    let asked = s
        .mention("U0ALEX", "what is waiting for my approval?", None)
        .await;
    let answer = s
        .wait_in_thread(TEAM, &asked, "1 request waits for your approval.")
        .await;
    let link = format!("{}|{id}>", s.app.url(&format!("/requests/{id}")));
    assert!(answer.text.contains(&link), "{}", answer.text);
    assert!(
        answer.text.contains("SQS queue orders: *plan_ready*"),
        "{}",
        answer.text
    );

    // The requester may not approve: nothing waits for them, and why.
    let theirs = s
        .mention("U0RITA", "anything for me to approve", None)
        .await;
    s.wait_in_thread(
        TEAM,
        &theirs,
        "Nothing is waiting for your approval: `approve` needs the approver or admin role.",
    )
    .await;
    // Someone unlinked is told how to link.
    let stranger = s.mention("U0NOBODY", "pending approvals", None).await;
    s.wait_in_thread(TEAM, &stranger, "link-slack").await;
}
