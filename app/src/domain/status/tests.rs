//! Table tests: every status, from the facts that produce it.

use super::*;
use crate::domain::ids::{EnvName, ModuleType, ProjectKey, RequestId};
use crate::domain::request::{Approval, Attempt, Conclusion, PullRequest, Request, RunHistory};

pub(crate) const HEAD: &str = "aaaa";
pub(crate) const MERGE: &str = "bbbb";

/// A freshly created request in `env`, filed by `alice`.
pub(crate) fn request(env: &str) -> Request {
    Request {
        id: RequestId::generate(1, 1),
        version: 1,
        project: ProjectKey::parse("sandbox").unwrap(),
        environment: EnvName::parse(env).unwrap(),
        module: ModuleType::parse("s3-bucket").unwrap(),
        kind: Default::default(),
        revision: 1,
        config: Default::default(),
        created_by: "alice".into(),
        authors: Vec::new(),
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
        pr: None,
        runs: Default::default(),
        approval: None,
        cleanup_pr: None,
        confirmation: None,
        events: vec![],
        origin: None,
        drift: None,
    }
}

fn pr(state: PrState, merged: bool) -> PullRequest {
    PullRequest {
        number: 1,
        url: "http://example.test/pr/1".into(),
        branch: "request/x".into(),
        head_sha: HEAD.into(),
        merged_sha: merged.then(|| MERGE.into()),
        state,
        ..Default::default()
    }
}

fn attempt(n: u32, sha: &str, status: RunStatus, conclusion: Option<Conclusion>) -> Attempt {
    Attempt {
        attempt: n,
        run_id: format!("run-{n}"),
        url: None,
        head_sha: sha.into(),
        status,
        conclusion,
        dispatched_at: "2026-01-01T00:00:00Z".into(),
        completed_at: None,
        summary: None,
        ..Default::default()
    }
}

fn history(attempts: Vec<Attempt>) -> RunHistory {
    RunHistory {
        current_attempt: attempts.iter().map(|a| a.attempt).max().unwrap_or(0),
        attempts,
    }
}

const OK: Option<Conclusion> = Some(Conclusion::Success);
const FAIL: Option<Conclusion> = Some(Conclusion::Failure);
use RunStatus::{Completed as Done, Queued, Running};

/// A request in the given status, built from facts only.
pub(crate) fn in_status(env: &str, status: Status) -> Request {
    let mut r = request(env);
    let open = Some(pr(PrState::Open, false));
    let merged = Some(pr(PrState::Merged, true));
    let plan_ok = history(vec![attempt(1, HEAD, Done, OK)]);
    let approval = Some(Approval {
        by: "bob".into(),
        at: "t".into(),
        plan_attempt: 1,
        head_sha: HEAD.into(),
        ..Default::default()
    });
    let (approved_plan, approved) = (plan_ok.clone(), approval.clone());
    match status {
        Status::Created => {}
        Status::Planning => {
            r.pr = open;
            r.runs.plan = history(vec![attempt(1, HEAD, Running, None)]);
        }
        Status::PlanReady => {
            r.pr = open;
            r.runs.plan = plan_ok;
        }
        Status::Approved => {
            r.pr = open;
            r.runs.plan = plan_ok;
            r.approval = approval;
        }
        Status::Merged => r.pr = merged,
        Status::Applying => {
            r.pr = merged;
            r.runs.apply = history(vec![attempt(1, MERGE, Queued, None)]);
        }
        Status::Applied => {
            r.pr = merged;
            r.runs.apply = history(vec![attempt(1, MERGE, Done, OK)]);
        }
        Status::Destroying => {
            r.pr = merged;
            r.cleanup_pr = Some(pr(PrState::Open, false));
        }
        Status::Destroyed => {
            r.pr = merged;
            r.cleanup_pr = Some(pr(PrState::Merged, true));
            r.runs.destroy = history(vec![attempt(1, MERGE, Done, OK)]);
        }
        Status::Failed(Step::Plan) => {
            r.pr = open;
            r.runs.plan = history(vec![attempt(1, HEAD, Done, FAIL)]);
        }
        Status::Failed(Step::Pr) => r.pr = Some(pr(PrState::Closed, false)),
        Status::Failed(Step::Apply) => {
            r.pr = merged;
            r.runs.apply = history(vec![attempt(1, MERGE, Done, FAIL)]);
        }
        Status::Failed(Step::Cleanup) => {
            r.pr = merged;
            r.cleanup_pr = Some(pr(PrState::Closed, false));
        }
        Status::Failed(Step::Destroy) => {
            r.pr = merged;
            r.cleanup_pr = Some(pr(PrState::Merged, true));
            r.runs.destroy = history(vec![attempt(1, MERGE, Done, Some(Conclusion::TimedOut))]);
        }
    }
    // A merged change went through tfpilot: its plan was approved.
    if r.pr.as_ref().is_some_and(|p| p.state == PrState::Merged) {
        r.runs.plan = approved_plan;
        r.approval = approved;
    }
    r
}

/// Every status, for tables.
pub(crate) const ALL: [Status; 14] = [
    Status::Created,
    Status::Planning,
    Status::PlanReady,
    Status::Approved,
    Status::Merged,
    Status::Applying,
    Status::Applied,
    Status::Destroying,
    Status::Destroyed,
    Status::Failed(Step::Plan),
    Status::Failed(Step::Pr),
    Status::Failed(Step::Apply),
    Status::Failed(Step::Cleanup),
    Status::Failed(Step::Destroy),
];

#[test]
fn every_status_is_derived_from_its_facts() {
    for status in ALL {
        assert_eq!(derive_status(&in_status("dev", status)), status, "{status}");
    }
}

#[test]
fn a_new_commit_or_a_new_plan_voids_the_approval() {
    let mut r = in_status("dev", Status::Approved);
    r.pr.as_mut().unwrap().head_sha = "cccc".into();
    assert_eq!(derive_status(&r), Status::Created, "new head, no plan yet");
    r.runs.plan.attempts.push(attempt(2, "cccc", Done, OK));
    assert_eq!(
        derive_status(&r),
        Status::PlanReady,
        "approval was for the old head"
    );

    let mut r = in_status("dev", Status::Approved);
    r.runs.plan.attempts.push(attempt(2, HEAD, Running, None));
    assert_eq!(derive_status(&r), Status::Planning);
    r.runs.plan.attempts[1] = attempt(2, HEAD, Done, OK);
    assert_eq!(
        derive_status(&r),
        Status::PlanReady,
        "approval was for attempt 1"
    );
}

#[test]
fn the_newest_attempt_decides_and_old_revisions_are_ignored() {
    let mut r = in_status("dev", Status::Failed(Step::Plan));
    r.runs.plan.attempts.push(attempt(2, HEAD, Done, OK));
    assert_eq!(
        derive_status(&r),
        Status::PlanReady,
        "a retry that succeeded"
    );

    let mut r = in_status("dev", Status::Applied);
    r.pr.as_mut().unwrap().merged_sha = Some("dddd".into());
    assert_eq!(
        derive_status(&r),
        Status::Merged,
        "the apply was of another commit"
    );
}

#[test]
fn status_names_are_stable() {
    let names: Vec<_> = ALL.iter().map(|s| s.as_str()).collect();
    for name in Status::NAMES {
        assert!(names.contains(&name), "{name}");
    }
    assert_eq!(Status::Failed(Step::Apply).to_string(), "failed (apply)");
    assert_eq!(Status::Failed(Step::Apply).failed_step(), Some(Step::Apply));
}

#[test]
fn the_note_names_a_stale_plan_a_replan_a_block_and_a_merge_without_approval() {
    use crate::domain::scope::Unexpected;
    let plain = |status| note(&in_status("dev", status));
    for status in ALL {
        if status != Status::Failed(Step::Apply) {
            assert_eq!(plain(status), None, "{status} needs no note");
        }
    }
    // Main moved past the plan's base: stale until planned again.
    let mut r = in_status("dev", Status::Approved);
    r.pr.as_mut().unwrap().base_sha = Some("old-main".into());
    r.pr.as_mut().unwrap().main_sha = Some("new-main".into());
    assert_eq!(
        note(&r).as_deref(),
        Some("main moved: the plan is stale and will be made again")
    );
    // The new plan of the refreshed branch is running.
    let mut r = in_status("dev", Status::Planning);
    r.runs.plan.attempts[0].reason = Some("main moved; the plan before it is stale".into());
    assert_eq!(note(&r).as_deref(), Some("main moved: planning again"));
    // An apply stopped by the change check.
    let mut r = in_status("dev", Status::Failed(Step::Apply));
    r.runs.apply.attempts[0].conclusion = Some(Conclusion::Blocked);
    r.runs.apply.attempts[0].blocked = vec![Unexpected {
        address: "terraform_data.by_hand".into(),
        action: "delete".into(),
        owner: None,
    }];
    assert_eq!(
        note(&r).as_deref(),
        Some("blocked: 1 change outside what was approved")
    );
    // Merged on the host without an approval of its head.
    let mut r = in_status("dev", Status::Merged);
    r.approval = None;
    assert_eq!(
        note(&r).as_deref(),
        Some("merged without an approval of its head: plan and approve again")
    );
}
