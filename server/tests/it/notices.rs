//! Request notices: a request driven through the flow on the fake executor
//! (no terraform) notifies each lifecycle event once, in order, and its
//! change is explained in plain words (API, plan notices, PR description).

use crate::flow::{act, wait_archived};
use crate::support::{TestApp, WAIT, wait_until};
use app::domain::policy::Role;
use app::domain::request::PlanSummary;
use serde_json::json;
use server::exec::fake::{FakeExecutor, Outcome};
use server::exec::{PlanOutput, ResourceChange, RunKind, RunSpec};
use server::notify::{MemoryNotifier, NoticeKind};
use server::store::ObjectStore;
use std::sync::Arc;

/// A plan of the queue the request's block holds: created by plans,
/// deleted by destroys.
fn queue_plan(spec: &RunSpec) -> Outcome {
    let action = match spec.kind {
        RunKind::Plan => "create",
        RunKind::Destroy => "delete",
        RunKind::Apply => return Outcome::success(),
    };
    let block = format!("module.sqs-queue_{}", spec.request);
    let summary = PlanSummary {
        import: 0,
        add: u32::from(action == "create"),
        change: 0,
        destroy: u32::from(action == "delete"),
    };
    Outcome::success().with_plan(PlanOutput {
        summary,
        changes: vec![ResourceChange {
            address: format!("{block}.aws_sqs_queue.this"),
            module: Some(block),
            action: action.into(),
        }],
        log: String::new(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_notifies_each_step_once_in_order() {
    let notices = Arc::new(MemoryNotifier::new());
    let exec = Arc::new(FakeExecutor::new().with_auto_complete(queue_plan));
    let app = TestApp::builder()
        .executor(exec.clone())
        .notifier(notices.clone())
        .spawn()
        .await;
    let alice = app.token("alice", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;

    let id = app
        .file(&alice, "dev", "sqs-queue", json!({"name": "noticed"}))
        .await;
    let view = app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    // The change in plain words: in the request's JSON, the plan notices
    // (the Slack message's), and — written before any plan — the PR's description.
    let creates = "Creates 1 SQS queue `noticed` in dev with a 30-second visibility timeout; messages kept for 345600 seconds. Nothing is changed or destroyed.";
    assert_eq!(view["explanation"], creates, "{view:#}");
    let number = view["request"]["pr"]["number"].as_u64().expect("a PR");
    let record = app
        .requests_store()
        .get(&format!("prs/sandbox/{number:06}.json"))
        .await
        .expect("the local PR record");
    let pr: serde_json::Value = serde_json::from_slice(&record.bytes).unwrap();
    assert_eq!(
        pr["body"],
        format!(
            "Asks for 1 SQS queue `noticed` in dev with a 30-second visibility timeout; messages kept for 345600 seconds; the plan will show exact changes.\n\nRequest {id} revision 1 by alice."
        )
    );
    for step in ["approve", "merge", "apply"] {
        assert_eq!(act(&app, &bob, &id, step).await.status(), 202, "{step}");
    }
    app.wait_for_status(&bob, &id, "applied", WAIT).await;
    assert_eq!(act(&app, &alice, &id, "destroy").await.status(), 202);
    app.wait_for_status(&alice, &id, "destroyed", WAIT).await;
    wait_archived(app.requests_store().as_ref(), &id).await;
    // A notice follows the write that changed the status; a step driven
    // again changes no status and sends none (`notify` unit tests).
    settled(&notices, 9).await;
    assert_eq!(
        notices.events(),
        [
            "request.created",
            "plan.started",
            "plan.succeeded",
            "approval.needed",
            "approved",
            "merged",
            "apply.started",
            "applied",
            "destroyed"
        ]
    );
    let all = notices.notices();
    for n in &all {
        let words = matches!(
            n.kind,
            NoticeKind::PlanSucceeded | NoticeKind::ApprovalNeeded
        );
        assert_eq!(
            n.explanation.as_deref(),
            words.then_some(creates),
            "{}",
            n.kind.as_str()
        );
    }
    let archived: serde_json::Value = app
        .get_as(&alice, &format!("/api/v1/requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        archived["explanation"],
        "Destroys the SQS queue `noticed` in dev and everything in it. Nothing is created or changed.",
        "a destroyed request is explained by its destroy's plan"
    );
    assert!(all.iter().all(|n| n.request.as_str() == id));
    assert!(all.iter().all(|n| n.project.as_str() == "sandbox"
        && n.environment.as_str() == "dev"
        && n.module.as_str() == "sqs-queue"));
    assert_eq!(all[0].link, app.url(&format!("/requests/{id}")));
    let kinds: Vec<_> = exec.runs().iter().map(|r| r.spec.kind).collect();
    assert_eq!(
        kinds,
        [
            server::exec::RunKind::Plan,
            server::exec::RunKind::Apply,
            server::exec::RunKind::Destroy
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_plan_notifies_once() {
    let notices = Arc::new(MemoryNotifier::new());
    let exec = Arc::new(
        FakeExecutor::new().with_auto_complete(|_| Outcome::failure("terraform exited with 1")),
    );
    let app = TestApp::builder()
        .executor(exec)
        .notifier(notices.clone())
        .spawn()
        .await;
    let alice = app.token("alice", Role::Requester).await;
    let id = app
        .file(&alice, "dev", "sqs-queue", json!({"name": "unlucky"}))
        .await;
    app.wait_for_status(&alice, &id, "failed", WAIT).await;
    settled(&notices, 3).await;
    assert_eq!(
        notices.events(),
        ["request.created", "plan.started", "plan.failed"]
    );
}

/// Waits until `notices` holds `n` notices (each is sent right after the
/// write the API already shows).
async fn settled(notices: &MemoryNotifier, n: usize) {
    wait_until(WAIT, "the notices", || async {
        let events = notices.events();
        if events.len() >= n {
            Ok(())
        } else {
            Err(format!("{events:?}"))
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notices_a_stop_cut_off_after_a_write_are_stored_at_the_next_start() {
    let exec = Arc::new(FakeExecutor::new());
    let app = TestApp::builder().executor(exec).spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    let id = app
        .file(&alice, "dev", "sqs-queue", json!({"name": "cut-off"}))
        .await;
    app.wait_for_status(&alice, &id, "planning", WAIT).await;
    let TestApp { data, _stop, .. } = app;
    drop(_stop);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The plan's result is written, and the process stops before the
    // notices of that write are stored.
    let store = std::sync::Arc::new(
        server::store::fs::FsStore::open(data.path().join("store/requests")).expect("store"),
    );
    let rid = app::domain::ids::RequestId::parse(&id).expect("an id");
    server::store::repo::RequestRepo::new(store)
        .update(
            &rid,
            || "2026-12-04T00:00:00Z".to_owned(),
            |doc| {
                let mut next = doc.clone();
                let plan = next.runs.plan.attempts.last_mut().expect("a plan attempt");
                plan.status = app::domain::request::RunStatus::Completed;
                plan.conclusion = Some(app::domain::request::Conclusion::Success);
                Ok::<_, std::convert::Infallible>(next)
            },
        )
        .await
        .expect("the store")
        .expect("the write");
    let notices = Arc::new(MemoryNotifier::new());
    let app = TestApp::builder()
        .data(data)
        .executor(Arc::new(FakeExecutor::new()))
        .notifier(notices.clone())
        .spawn()
        .await;
    settled(&notices, 2).await;
    assert_eq!(notices.events()[..2], ["plan.succeeded", "approval.needed"]);
    app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
}
