//! The workflow's edits of a request document: pure functions from a
//! request (and the time, the actor and what the caller read from the
//! world) to the next request or a typed refusal.
//!
//! The server loads the document, calls one of these inside its
//! compare-and-swap update, stores, audits and starts runs; nothing here
//! does I/O, reads a clock or draws a random number.

mod approvals;
mod attempts;

pub use approvals::{Approved, approvals};
pub use attempts::{
    RunKind, event, history, history_mut, queue_attempt, run_id, run_sha, short, void_approval,
};

use super::config::Config;
use super::request::{Approval, Confirmation, PullRequest, Request};
use super::scope::PlannedChange;
use super::status::{Step, derive_status};
use std::collections::BTreeSet;

/// Why a transition does not apply to the document as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Nothing to run yet (no PR head, no merge commit).
    #[error("there is no commit to {} yet", .0.as_str())]
    NoCommit(RunKind),
    /// The request has no PR.
    #[error("no PR")]
    NoPr,
    /// The PR head has no plan.
    #[error("no plan to approve")]
    NoPlan,
    /// The plan saw an older main than the tip (`approval.stale`).
    #[error(
        "the plan was made against main at {}, but main is now at {}: tfpilot brings the PR up to date and plans it again; approve that plan",
        .seen.as_deref().map_or("an older commit", short),
        short(.tip)
    )]
    Stale {
        /// The tip of main now.
        tip: String,
        /// The tip the plan saw, if any.
        seen: Option<String>,
    },
    /// A retry with no failed step.
    #[error("nothing has failed")]
    NothingFailed,
    /// A rejection needs a reason of 1 to 500 characters.
    #[error("a rejection needs a reason of 1 to 500 characters")]
    Reason,
    /// A confirm with no blocked run.
    #[error("no blocked run to confirm")]
    NothingBlocked,
    /// A confirm naming other changes than the blocked run's
    /// (`confirm.mismatch`).
    #[error("addresses must be exactly the blocked run's: {}", .listed.join(", "))]
    ConfirmMismatch {
        /// The blocked run's addresses, sorted.
        listed: Vec<String>,
    },
}

impl Refusal {
    /// The named rule, for the refusals that have one.
    pub fn rule(&self) -> Option<&'static str> {
        match self {
            Self::Stale { .. } => Some("approval.stale"),
            Self::ConfirmMismatch { .. } => Some("confirm.mismatch"),
            Self::Reason => Some("reject.reason"),
            _ => None,
        }
    }
}

/// A plan asked for by a person: any approval is void, and a merged
/// change is planned as main's `tip`.
pub fn plan(doc: &Request, actor: &str, tip: &str, now: &str) -> Result<Request, Refusal> {
    let mut next = doc.clone();
    void_approval(&mut next, actor, "a new plan was asked for", now);
    let merged = doc.pr.as_ref().is_some_and(|p| p.merged_sha.is_some());
    queue_attempt(&mut next, RunKind::Plan, actor, None, now)?;
    if merged && let Some(a) = next.runs.plan.attempts.last_mut() {
        a.base_sha = Some(tip.to_owned());
    }
    Ok(next)
}

/// An apply asked for by a person.
pub fn apply(doc: &Request, actor: &str, now: &str) -> Result<Request, Refusal> {
    let mut next = doc.clone();
    queue_attempt(&mut next, RunKind::Apply, actor, None, now)?;
    Ok(next)
}

/// Why a reapply attempt was queued: the flow gives such an attempt the
/// request's own block as its whole scope.
pub const REAPPLY: &str = "reapply: the request's own block, on main's tip";

/// An applied request's current config applied again on main's tip (its
/// own block only): reverts drift. The drift stays recorded until the
/// apply succeeds.
pub fn reapply(doc: &Request, actor: &str, now: &str) -> Result<Request, Refusal> {
    let mut next = doc.clone();
    queue_attempt(&mut next, RunKind::Apply, actor, Some(REAPPLY.into()), now)?;
    Ok(next)
}

/// The approval of the newest plan of the PR head. An open PR's plan must
/// have seen main at `tip`, or the approval is refused as stale.
pub fn approve(doc: &Request, actor: &str, tip: &str, now: &str) -> Result<Request, Refusal> {
    let pr = doc.pr.as_ref().ok_or(Refusal::NoPr)?;
    let plan = doc
        .runs
        .plan
        .latest_at(&pr.head_sha)
        .ok_or(Refusal::NoPlan)?;
    let open = pr.merged_sha.is_none();
    if open && (pr.base_sha.as_deref() != Some(tip) || plan.base_sha != pr.base_sha) {
        return Err(Refusal::Stale {
            tip: tip.to_owned(),
            seen: plan.base_sha.clone(),
        });
    }
    let mut next = doc.clone();
    next.approval = Some(Approval {
        by: actor.to_owned(),
        at: now.to_owned(),
        plan_attempt: plan.attempt,
        head_sha: pr.head_sha.clone(),
        base_sha: plan.base_sha.clone(),
    });
    next.events.push(event(
        now,
        actor,
        "approved",
        format!(
            "plan attempt {} of {} on main at {}",
            plan.attempt,
            short(&pr.head_sha),
            short(plan.base_sha.as_deref().unwrap_or("?"))
        ),
    ));
    Ok(next)
}

/// The longest reason a rejection may give.
pub const MAX_REASON: usize = 500;

/// An approver's no to the current plan, with the reason: recorded on the
/// timeline and told to the requester. The request stays where it is, to
/// be changed (a new revision) or destroyed; another approver may still
/// approve it.
pub fn reject(doc: &Request, actor: &str, reason: &str, now: &str) -> Result<Request, Refusal> {
    let pr = doc.pr.as_ref().ok_or(Refusal::NoPr)?;
    let plan = doc
        .runs
        .plan
        .latest_at(&pr.head_sha)
        .ok_or(Refusal::NoPlan)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Err(Refusal::Reason);
    }
    let mut next = doc.clone();
    next.approval = None;
    next.events.push(event(
        now,
        actor,
        "rejected",
        format!("plan attempt {}: {reason}", plan.attempt),
    ));
    Ok(next)
}

/// The failed step again: a run is queued once more, a closed PR is
/// forgotten so that a new one is opened.
pub fn retry(doc: &Request, actor: &str, now: &str) -> Result<Request, Refusal> {
    let mut next = doc.clone();
    let status = derive_status(doc);
    let kind = match status.failed_step() {
        Some(Step::Plan) => Some(RunKind::Plan),
        Some(Step::Apply) => Some(RunKind::Apply),
        Some(Step::Destroy) => Some(RunKind::Destroy),
        Some(Step::Pr) => {
            next.pr = None;
            None
        }
        Some(Step::Cleanup) => {
            next.cleanup_pr = None;
            None
        }
        None => return Err(Refusal::NothingFailed),
    };
    if let Some(kind) = kind {
        queue_attempt(&mut next, kind, actor, None, now)?;
    }
    next.events
        .push(event(now, actor, "retry", status.to_string()));
    Ok(next)
}

/// An approver's yes to exactly the changes the blocked apply or destroy
/// listed; the run is queued again with them allowed. `addresses`, when
/// given, must name the blocked changes, as addresses or as shown
/// (`<action> <address>`).
pub fn confirm(
    doc: &Request,
    actor: &str,
    addresses: Option<&[String]>,
    now: &str,
) -> Result<Request, Refusal> {
    let blocked = super::policy::blocked_attempt(doc).ok_or(Refusal::NothingBlocked)?;
    let listed: BTreeSet<&str> = blocked.blocked.iter().map(|u| u.address.as_str()).collect();
    if let Some(given) = addresses {
        let given: BTreeSet<&str> = given.iter().map(String::as_str).collect();
        // The request page sends the changes it showed as "<action>
        // <address>" (no address starts with an action and a space), so a
        // newer list with the same addresses but other actions is never
        // confirmed unseen.
        let shown: BTreeSet<String> = blocked
            .blocked
            .iter()
            .map(|u| format!("{} {}", u.action, u.address))
            .collect();
        let as_shown = given.len() == shown.len() && given.iter().all(|g| shown.contains(*g));
        if given != listed && !as_shown {
            return Err(Refusal::ConfirmMismatch {
                listed: listed.iter().map(|a| (*a).to_owned()).collect(),
            });
        }
    }
    let kind = if doc.cleanup_pr.is_some() {
        RunKind::Destroy
    } else {
        RunKind::Apply
    };
    let mut next = doc.clone();
    next.confirmation = Some(Confirmation {
        by: actor.to_owned(),
        at: now.to_owned(),
        kind: kind.as_str().to_owned(),
        attempt: blocked.attempt,
        changes: blocked
            .blocked
            .iter()
            .map(|u| PlannedChange {
                address: u.address.clone(),
                action: u.action.clone(),
            })
            .collect(),
    });
    next.events.push(event(
        now,
        actor,
        "changes_confirmed",
        format!(
            "{} attempt {}: {}",
            kind.as_str(),
            blocked.attempt,
            blocked
                .blocked
                .iter()
                .map(|u| format!("{} {}", u.action, u.address))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ));
    queue_attempt(
        &mut next,
        kind,
        actor,
        Some(format!("changes confirmed by {actor}")),
        now,
    )?;
    Ok(next)
}

/// The next revision of `doc` with `config`, by `actor`: it supersedes the
/// current one, so a new PR comes for it and any approval and
/// confirmation are void. The run history is kept, so attempt numbers
/// (and with them run ids) go on rising and a run of the new revision
/// never has the id of an earlier one.
pub fn new_revision(doc: &Request, config: &Config, actor: &str, now: &str) -> Request {
    let mut next = doc.clone();
    next.revision += 1;
    next.config = config.clone();
    next.add_author(actor);
    next.pr = None;
    next.confirmation = None;
    void_approval(
        &mut next,
        actor,
        "a new revision replaces the approved one",
        now,
    );
    next.events.push(event(
        now,
        actor,
        "updated",
        format!("revision {}", next.revision),
    ));
    next
}

/// Destroy asked for: the request now has its cleanup PR.
pub fn request_destroy(doc: &Request, cleanup: &PullRequest, actor: &str, now: &str) -> Request {
    let mut next = doc.clone();
    next.cleanup_pr = Some(cleanup.clone());
    next.events.push(event(
        now,
        actor,
        "destroy_requested",
        format!("cleanup PR #{}", cleanup.number),
    ));
    next
}

/// The request's PR (or, with `cleanup`, its cleanup PR) was merged as
/// `merged` says (its number, state, head and merge commit); a PR of
/// another number is left as it is.
pub fn record_merge(
    doc: &Request,
    merged: &PullRequest,
    cleanup: bool,
    actor: &str,
    now: &str,
) -> Request {
    let mut next = doc.clone();
    let target = if cleanup {
        next.cleanup_pr.as_mut()
    } else {
        next.pr.as_mut()
    };
    if let Some(p) = target.filter(|p| p.number == merged.number) {
        p.state = merged.state;
        p.merged_sha = merged.merged_sha.clone();
        p.head_sha = merged.head_sha.clone();
    }
    next.events.push(event(
        now,
        actor,
        "merged",
        format!("PR #{} into main", merged.number),
    ));
    next
}

#[cfg(test)]
mod tests;

/// Whether the request is done and leaves the live set for the archive:
/// its cleanup PR merged and its destroy succeeded (status `destroyed`).
/// Archiving moves the document as it is; nothing in it changes.
pub fn archivable(doc: &Request) -> bool {
    derive_status(doc) == super::status::Status::Destroyed
}
