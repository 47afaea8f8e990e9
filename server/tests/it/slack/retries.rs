//! Slack failing while requests move: a 429 waits for its `Retry-After`, an `ok: false` is retried with backoff, each notice is posted once, and the request's flow never waits for Slack.

use super::app::{APPROVALS, SlackApp, button};
use crate::flow::act;
use crate::support::WAIT;
use crate::support::slack::{Call, FakeSlack};
use app::domain::policy::Role;
use serde_json::json;
use std::time::{Duration, Instant};

/// Polls the fake's calls every 10 ms until `seen` holds; when it did.
async fn when(slack: &FakeSlack, what: &str, seen: impl Fn(&[Call]) -> bool) -> Instant {
    let deadline = Instant::now() + WAIT;
    loop {
        let calls = slack.calls();
        if seen(&calls) {
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {calls:#?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn posts(calls: &[Call], ok: bool) -> usize {
    calls
        .iter()
        .filter(|c| c.method == "chat.postMessage" && c.ok == ok)
        .count()
}

/// Files a request as a new requester; the requester's token and the
/// request id, once the request is at `plan_ready`.
async fn filed(s: &SlackApp) -> (String, String) {
    let alice = s.person("alice", Role::Requester, None).await;
    let id = s
        .app
        .file(&alice, "dev", "sqs-queue", json!({"name": "slack-retries"}))
        .await;
    s.app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    (alice, id)
}

/// One approval message reached the project channel: the request's, with
/// its Approve button (as posted: it may have been updated since).
fn asked_once(s: &SlackApp, id: &str) {
    assert_eq!(s.slack.messages_in(APPROVALS).len(), 1);
    let posted: Vec<Call> = s
        .slack
        .calls_to("chat.postMessage")
        .into_iter()
        .filter(|c| c.ok && c.channel.as_deref() == Some(APPROVALS))
        .collect();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let blocks = posted[0].body["blocks"].to_string();
    assert!(
        blocks.contains("tfpilot_approve") && blocks.contains(id),
        "{blocks}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_429_waits_for_retry_after_then_posts_once() {
    let s = SlackApp::start(&[]).await;
    s.slack.rate_limit_next(1, 2);
    let (_, id) = filed(&s).await;

    let limited = when(&s.slack, "the 429", |c| posts(c, false) == 1).await;
    let posted = when(&s.slack, "the post after the wait", |c| posts(c, true) == 1).await;
    let waited = posted - limited;
    assert!(
        waited >= Duration::from_millis(1800),
        "posted {waited:?} after the 429 (Retry-After: 2)"
    );
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls = s.slack.calls();
    assert_eq!((posts(&calls, false), posts(&calls, true)), (1, 1));
    asked_once(&s, &id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_ok_false_is_retried_after_a_backoff_then_posts_once() {
    let s = SlackApp::start(&[]).await;
    s.slack.fail_next(1, "channel_not_found");
    let (_, id) = filed(&s).await;

    let failed = when(&s.slack, "the failure", |c| posts(c, false) == 1).await;
    let posted = when(&s.slack, "the retried post", |c| posts(c, true) == 1).await;
    let waited = posted - failed;
    // The first backoff is 4 s.
    assert!(
        waited >= Duration::from_millis(3800),
        "retried {waited:?} after the failure"
    );
    assert!(waited < Duration::from_secs(12), "{waited:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls = s.slack.calls();
    assert_eq!((posts(&calls, false), posts(&calls, true)), (1, 1));
    asked_once(&s, &id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_flow_goes_on_while_slack_fails_and_slack_catches_up_in_order() {
    let s = SlackApp::start(&[]).await;
    let bob = s.person("bob", Role::Approver, None).await;
    s.slack.fail_next(usize::MAX, "fatal_error");
    // Planned and approved while every Slack call fails.
    let (alice, id) = filed(&s).await;
    assert_eq!(act(&s.app, &bob, &id, "approve").await.status(), 202);
    s.app.wait_for_status(&alice, &id, "approved", WAIT).await;
    when(&s.slack, "a failed post", |c| posts(c, false) >= 1).await;
    assert_eq!(posts(&s.slack.calls(), true), 0);

    s.slack.fail_next(0, "");
    // The approval message first, then its update: the request's notices
    // are delivered in order.
    when(&s.slack, "the approval message updated", |c| {
        c.iter().any(|c| c.method == "chat.update" && c.ok)
    })
    .await;
    asked_once(&s, &id);
    let asked = &s.slack.messages_in(APPROVALS)[0];
    assert!(button(asked, "tfpilot_approve").is_none(), "{asked:#?}");
    let shown = asked.blocks.clone().unwrap_or_default().to_string();
    assert!(shown.contains("Approved by bob"), "{shown}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls = s.slack.calls();
    assert_eq!(posts(&calls, true), 1, "{calls:#?}");
}
