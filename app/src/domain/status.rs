//! The lifecycle status, derived from a request's facts (never stored).

use super::request::{Attempt, PrState, Request, RunStatus};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The step that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The plan run failed.
    Plan,
    /// The PR was closed without merge.
    Pr,
    /// The apply run failed.
    Apply,
    /// The cleanup PR was closed without merge.
    Cleanup,
    /// The destroy run failed.
    Destroy,
}

impl Step {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Pr => "pr",
            Self::Apply => "apply",
            Self::Cleanup => "cleanup",
            Self::Destroy => "destroy",
        }
    }
}

/// Where a request is in its lifecycle. (Serialized only to remember what
/// people were told; the truth is always derived.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Stored; no plan has run yet.
    Created,
    /// A plan is queued or running for the PR's head.
    Planning,
    /// The plan of the PR's head succeeded; waiting for approval.
    PlanReady,
    /// The current plan at the current head is approved.
    Approved,
    /// The PR is merged; not applied yet.
    Merged,
    /// An apply of the merge commit is queued or running.
    Applying,
    /// The merge commit is applied.
    Applied,
    /// Destroy was asked for: cleanup PR or destroy run under way.
    Destroying,
    /// Destroyed; the request is archived.
    Destroyed,
    /// A step failed; retry or update.
    Failed(Step),
}

impl Status {
    /// Every status name, in lifecycle order (for filters and counts).
    pub const NAMES: [&'static str; 10] = [
        "created",
        "planning",
        "plan_ready",
        "approved",
        "merged",
        "applying",
        "applied",
        "destroying",
        "destroyed",
        "failed",
    ];

    /// The status name (`failed` for every failed step).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Planning => "planning",
            Self::PlanReady => "plan_ready",
            Self::Approved => "approved",
            Self::Merged => "merged",
            Self::Applying => "applying",
            Self::Applied => "applied",
            Self::Destroying => "destroying",
            Self::Destroyed => "destroyed",
            Self::Failed(_) => "failed",
        }
    }

    /// The failing step, for `Failed`.
    pub fn failed_step(self) -> Option<Step> {
        match self {
            Self::Failed(step) => Some(step),
            _ => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed(step) => write!(f, "failed ({})", step.as_str()),
            other => f.write_str(other.as_str()),
        }
    }
}

fn in_flight(a: &Attempt) -> bool {
    a.status != RunStatus::Completed
}

/// The one function that maps a request's facts to its status.
pub fn derive_status(req: &Request) -> Status {
    if let Some(cleanup) = &req.cleanup_pr {
        return match req.runs.destroy.latest() {
            Some(a) if in_flight(a) => Status::Destroying,
            Some(a) if a.succeeded() => Status::Destroyed,
            Some(_) => Status::Failed(Step::Destroy),
            None if cleanup.state == PrState::Closed => Status::Failed(Step::Cleanup),
            None => Status::Destroying,
        };
    }
    let Some(pr) = &req.pr else {
        return Status::Created;
    };
    match (pr.state, &pr.merged_sha) {
        (PrState::Merged, Some(sha)) => match req.runs.apply.latest_at(sha) {
            None => Status::Merged,
            Some(a) if in_flight(a) => Status::Applying,
            Some(a) if a.succeeded() => Status::Applied,
            Some(_) => Status::Failed(Step::Apply),
        },
        (PrState::Closed, _) => Status::Failed(Step::Pr),
        _ => match req.runs.plan.latest_at(&pr.head_sha) {
            None => Status::Created,
            Some(a) if in_flight(a) => Status::Planning,
            Some(a) if a.failed() => Status::Failed(Step::Plan),
            Some(a) => {
                let approved = req
                    .approval
                    .as_ref()
                    .is_some_and(|ap| ap.plan_attempt == a.attempt && ap.head_sha == pr.head_sha);
                if approved {
                    Status::Approved
                } else {
                    Status::PlanReady
                }
            }
        },
    }
}

/// A short note that qualifies the status, for the dashboard and the
/// request page: a plan made stale by main moving, a blocked run, a merged
/// change waiting for a fresh approval.
pub fn note(req: &Request) -> Option<String> {
    let blocked = |a: &Attempt| {
        a.is_blocked().then(|| {
            format!(
                "blocked: {} change{} outside what was approved",
                a.blocked.len(),
                if a.blocked.len() == 1 { "" } else { "s" }
            )
        })
    };
    if req.cleanup_pr.is_some() {
        return req.runs.destroy.latest().and_then(blocked);
    }
    let pr = req.pr.as_ref()?;
    if pr.state == PrState::Merged {
        if let Some(b) = req.runs.apply.latest().and_then(blocked) {
            return Some(b);
        }
        let approved = req.approval.as_ref().is_some_and(|a| {
            a.head_sha == pr.head_sha
                && req
                    .runs
                    .plan
                    .latest()
                    .is_some_and(|p| p.attempt == a.plan_attempt)
        });
        return (!approved && derive_status(req) == Status::Merged)
            .then(|| "merged without an approval of its head: plan and approve again".to_owned());
    }
    let plan = req.runs.plan.latest()?;
    if in_flight(plan) && plan.reason.is_some() {
        return Some("main moved: planning again".to_owned());
    }
    (pr.main_sha.is_some() && pr.main_sha != pr.base_sha)
        .then(|| "main moved: the plan is stale and will be made again".to_owned())
}

#[cfg(test)]
pub(crate) mod tests;
