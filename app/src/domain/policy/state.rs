//! Whether a request's state allows an action (409, some with a rule).

use super::{Action, Decision, approval_holds, blocked_attempt, conflict, conflict_rule};
use crate::domain::request::{PrState, Request, RunStatus};
use crate::domain::status::{Status, Step};

/// Whether the request's cleanup PR waits for a merge (prod destroy).
fn cleanup_waiting(req: &Request) -> bool {
    req.cleanup_pr
        .as_ref()
        .is_some_and(|pr| pr.state == PrState::Open)
}

/// A merged request waiting for an approval of its merged head (merged
/// on the host outside tfpilot, or its approval was voided).
fn merged_unapproved(status: Status, req: &Request) -> bool {
    status == Status::Merged && !approval_holds(req)
}

fn plan_in_flight(req: &Request) -> bool {
    req.runs
        .plan
        .latest()
        .is_some_and(|a| a.status != RunStatus::Completed)
}

pub(super) fn check_state(action: Action, status: Status, req: &Request) -> Decision {
    use Status as S;
    let ok = match action {
        Action::Plan => {
            matches!(
                status,
                S::Created | S::PlanReady | S::Approved | S::Failed(Step::Plan)
            ) || (merged_unapproved(status, req) && !plan_in_flight(req))
        }
        Action::Approve => {
            status == S::PlanReady
                || (merged_unapproved(status, req)
                    && req.pr.as_ref().is_some_and(|pr| {
                        req.runs
                            .plan
                            .latest()
                            .is_some_and(|a| a.head_sha == pr.head_sha && a.succeeded())
                    }))
        }
        Action::Merge => status == S::Approved || (status == S::Destroying && cleanup_waiting(req)),
        Action::Apply => status == S::Merged && approval_holds(req),
        Action::Update => !matches!(status, S::Applying | S::Destroying | S::Destroyed),
        Action::Destroy => !matches!(
            status,
            S::Planning | S::Applying | S::Destroying | S::Destroyed
        ),
        Action::Retry => {
            matches!(status, S::Failed(_))
                && (status != S::Failed(Step::Apply) || approval_holds(req))
        }
        Action::Confirm => {
            matches!(status, S::Failed(Step::Apply | Step::Destroy))
                && blocked_attempt(req).is_some()
        }
        Action::Reapply => status == S::Applied,
    };
    if ok {
        return Decision::Allowed;
    }
    let unapproved_merge = || {
        let pr = req.pr.as_ref();
        // Merged onto a main that no plan of its head saw (outside tfpilot).
        if let Some(main) =
            pr.and_then(|p| p.main_sha.as_deref().filter(|_| p.merged_sha.is_some()))
        {
            return conflict_rule(
                "approval.stale",
                format!(
                    "PR #{} was merged onto main at {}, which its approved plan did not include: plan the merged change and approve it again before it is applied",
                    pr.map_or(0, |p| p.number),
                    short(main)
                ),
            );
        }
        conflict_rule(
            "approval.missing",
            format!(
                "PR #{} was merged at {}, which is not an approved plan's head: plan it and approve it again before it is applied",
                pr.map_or(0, |p| p.number),
                pr.map_or("", |p| short(&p.head_sha))
            ),
        )
    };
    match (action, status) {
        (_, S::Destroyed) => conflict("the request is destroyed"),
        (Action::Approve, S::Approved) => conflict("the current plan is already approved"),
        (Action::Approve, S::Merged) => {
            conflict("the merged change needs a new plan before it can be approved: plan it first")
        }
        (Action::Approve, _) => conflict(format!(
            "only a ready plan can be approved (status: {status})"
        )),
        (Action::Merge, _) => conflict(format!(
            "only an approved plan can be merged (status: {status})"
        )),
        (Action::Apply | Action::Retry, S::Merged | S::Failed(Step::Apply))
            if !approval_holds(req) =>
        {
            unapproved_merge()
        }
        (Action::Apply, S::Applied) => conflict(format!(
            "already applied by run {}",
            applied_by(req).unwrap_or("(unknown)")
        )),
        (Action::Apply, _) => conflict(format!(
            "only a merged change can be applied (status: {status})"
        )),
        (Action::Confirm, _) => conflict(format!(
            "only a blocked apply or destroy can be confirmed (status: {status})"
        )),
        (Action::Retry, _) => conflict(format!("nothing has failed (status: {status})")),
        (Action::Reapply, _) => conflict(format!(
            "only an applied request can be applied again (status: {status})"
        )),
        (_, S::Planning | S::Applying | S::Destroying) => {
            conflict(format!("wait until the request is no longer {status}"))
        }
        _ => conflict(format!("not possible while the request is {status}")),
    }
}

/// The run that applied the request's merge (its own, or another
/// request's run that swept it in).
fn applied_by(req: &Request) -> Option<&str> {
    let sha = req.pr.as_ref()?.merged_sha.as_deref()?;
    let a = req.runs.apply.latest_at(sha)?;
    Some(a.via.as_deref().unwrap_or(&a.run_id))
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}
