//! `POST /api/v1/requests/{id}/reject`: whoever may approve may reject, with a reason that goes on the timeline; the request stays where it is.

use crate::support::{TestApp, WAIT};
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::exec::fake::{FakeExecutor, Outcome};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approver_rejects_a_plan_with_a_reason() {
    let exec = Arc::new(FakeExecutor::new().with_auto_complete(|_| Outcome::success()));
    let app = TestApp::builder().executor(exec).spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;
    let id = app
        .file(&alice, "dev", "sqs-queue", json!({"name": "too-big"}))
        .await;
    app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    let path = format!("/api/v1/requests/{id}/reject");

    let res = app.post_as(&alice, &path, &json!({"reason": "mine"})).await;
    assert_eq!(res.status(), 403, "a requester may not reject");
    let res = app.post_as(&bob, &path, &json!({"reason": "  "})).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["field"], "reason");
    let res = app.post_as(&bob, &path, &json!({"why": "x"})).await;
    assert_eq!(res.status(), 400, "unknown fields are refused");
    let res = app
        .post_as(
            &bob,
            "/api/v1/requests/abcdefghjkmnpqrs/reject",
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(res.status(), 404);

    let res = app
        .post_as(&bob, &path, &json!({"reason": "use a smaller retention"}))
        .await;
    assert_eq!(res.status(), 200);
    let view: Value = res.json().await.expect("json");
    assert_eq!(
        view["status"], "plan_ready",
        "the request stays where it is"
    );
    let last = view["request"]["events"]
        .as_array()
        .and_then(|e| e.iter().rev().find(|e| e["kind"] == "rejected"))
        .expect("a rejected event")
        .clone();
    assert_eq!(last["actor"], "bob");
    assert!(
        last["detail"]
            .as_str()
            .is_some_and(|d| d.ends_with(": use a smaller retention")),
        "{last}"
    );
}
