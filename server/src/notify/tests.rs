//! Which notices a status change gives, as a table; and that `Notices` sends them with a link.

use super::*;
use crate::fixtures::request;
use app::domain::request::{Attempt, Conclusion, PrState, PullRequest, RunStatus};
use app::domain::status::Status::*;

fn attempt(sha: &str, conclusion: Option<Conclusion>) -> Attempt {
    Attempt {
        attempt: 1,
        head_sha: sha.into(),
        status: if conclusion.is_some() {
            RunStatus::Completed
        } else {
            RunStatus::Running
        },
        conclusion,
        ..Default::default()
    }
}

/// A request with an open PR whose plan ended `plan`.
fn planned(plan: Option<Conclusion>) -> Request {
    let mut doc = request();
    doc.pr = Some(PullRequest {
        head_sha: "head".into(),
        ..Default::default()
    });
    doc.runs.plan.attempts.push(attempt("head", plan));
    doc
}

/// A request with a merged PR whose apply ended `apply`.
fn applied(apply: Option<Conclusion>) -> Request {
    let mut doc = planned(Some(Conclusion::Success));
    if let Some(pr) = doc.pr.as_mut() {
        pr.state = PrState::Merged;
        pr.merged_sha = Some("merge".into());
    }
    doc.runs.apply.attempts.push(attempt("merge", apply));
    doc
}

#[test]
fn status_changes_give_their_notices() {
    let table: Vec<(Option<Status>, Request, Vec<NoticeKind>)> = vec![
        (None, request(), vec![NoticeKind::Created]),
        (Some(Created), request(), vec![]),
        (Some(Created), planned(None), vec![NoticeKind::Planning]),
        (Some(Planning), planned(None), vec![]),
        (
            Some(Planning),
            planned(Some(Conclusion::Success)),
            vec![NoticeKind::PlanSucceeded, NoticeKind::ApprovalNeeded],
        ),
        (
            Some(Approved),
            planned(Some(Conclusion::Success)),
            vec![NoticeKind::ApprovalNeeded],
        ),
        (Some(PlanReady), planned(Some(Conclusion::Success)), vec![]),
        (
            Some(Planning),
            planned(Some(Conclusion::Failure)),
            vec![NoticeKind::PlanFailed],
        ),
        (Some(Merged), applied(None), vec![NoticeKind::Applying]),
        (Some(Applying), applied(None), vec![]),
        (
            Some(Applying),
            applied(Some(Conclusion::Success)),
            vec![NoticeKind::Applied],
        ),
        (
            Some(Applying),
            applied(Some(Conclusion::Blocked)),
            vec![NoticeKind::ApplyBlocked],
        ),
        (
            Some(Applying),
            applied(Some(Conclusion::Failure)),
            vec![NoticeKind::Failed],
        ),
        (
            Some(Failed(Step::Apply)),
            applied(Some(Conclusion::Failure)),
            vec![],
        ),
    ];
    for (before, after, want) in table {
        assert_eq!(
            notices_for(before, &after),
            want,
            "{before:?} -> {:?}",
            derive_status(&after)
        );
    }
}

#[tokio::test]
async fn notices_carry_the_request_and_its_link() {
    let memory = Arc::new(MemoryNotifier::new());
    let notices = Notices::new(memory.clone(), "http://tfpilot.example/");
    let doc = planned(Some(Conclusion::Success));
    notices.changed(Some(Status::Planning), &doc).await;
    notices.changed(Some(Status::PlanReady), &doc).await;
    assert_eq!(memory.events(), ["plan.succeeded", "approval.needed"]);
    let notice = &memory.notices()[0];
    assert_eq!(notice.request, doc.id);
    assert_eq!(notice.project.as_str(), "sandbox");
    assert_eq!(notice.environment.as_str(), "dev");
    assert_eq!(notice.module.as_str(), "sqs-queue");
    assert_eq!(
        notice.link,
        format!("http://tfpilot.example/requests/{}", doc.id)
    );
}

#[tokio::test]
async fn notices_a_stop_cut_off_after_the_write_are_recovered_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn crate::store::ObjectStore> =
        Arc::new(crate::store::fs::FsStore::open(dir.path()).expect("store"));
    let memory = Arc::new(MemoryNotifier::new());
    let outbox = Arc::new(Outbox::new(
        store,
        Arc::new(crate::clock::ManualClock::at_system_time()),
        vec![memory.clone()],
    ));
    let notices = Notices::durable(outbox.clone(), "http://tfpilot.example");
    let mut planning = planned(None);
    planning.version = 3;
    notices.changed(Some(Status::Created), &planning).await;
    // The plan's result was written, then the process stopped before its
    // notices were stored.
    let mut ready = planned(Some(Conclusion::Success));
    ready.version = 4;
    assert_eq!(notices.recover(&ready).await, 2);
    assert_eq!(notices.recover(&ready).await, 0, "once");
    outbox.deliver_due().await.expect("deliver");
    assert_eq!(
        memory.events(),
        ["plan.started", "plan.succeeded", "approval.needed"]
    );
    // A request the ledger never saw is left alone.
    let mut unseen = planned(None);
    unseen.id = app::domain::ids::RequestId::parse("abcdefghjkmnpqrs").expect("an id");
    assert_eq!(notices.recover(&unseen).await, 0);
}
