//! Run attempts and the timeline: the small edits every transition is
//! made of (queue an attempt, void an approval, add an event).

use super::Refusal;
use crate::domain::ids::RequestId;
use crate::domain::request::{Attempt, Event, Request, RunHistory, RunStatus};

/// The kind of run an attempt is (the executor's too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// `terraform plan` of a PR head.
    Plan,
    /// `terraform apply` of a merge commit.
    Apply,
    /// Converge after the cleanup merge, destroying the removed block's
    /// resources.
    Destroy,
}

impl RunKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Apply => "apply",
            Self::Destroy => "destroy",
        }
    }
}

/// The deterministic id of an attempt (`<request>-<kind>-<attempt>`).
pub fn run_id(request: &RequestId, kind: RunKind, attempt: u32) -> String {
    format!("{request}-{}-{attempt}", kind.as_str())
}

/// A timeline entry.
pub fn event(now: &str, actor: &str, kind: &str, detail: impl Into<String>) -> Event {
    Event {
        at: now.to_owned(),
        actor: actor.to_owned(),
        kind: kind.to_owned(),
        detail: detail.into(),
    }
}

/// The first 10 characters of a sha.
pub fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}

/// The attempts of one kind.
pub fn history(doc: &Request, kind: RunKind) -> &RunHistory {
    match kind {
        RunKind::Plan => &doc.runs.plan,
        RunKind::Apply => &doc.runs.apply,
        RunKind::Destroy => &doc.runs.destroy,
    }
}

/// The attempts of one kind, to edit.
pub fn history_mut(doc: &mut Request, kind: RunKind) -> &mut RunHistory {
    match kind {
        RunKind::Plan => &mut doc.runs.plan,
        RunKind::Apply => &mut doc.runs.apply,
        RunKind::Destroy => &mut doc.runs.destroy,
    }
}

/// The commit a run of `kind` is for: the PR head for plans, the merge
/// commit for applies, the cleanup merge for destroys (applies and
/// destroys themselves run on the tip of main).
pub fn run_sha(doc: &Request, kind: RunKind) -> Option<String> {
    match kind {
        RunKind::Plan => doc.pr.as_ref().map(|p| p.head_sha.clone()),
        RunKind::Apply => doc.pr.as_ref().and_then(|p| p.merged_sha.clone()),
        RunKind::Destroy => doc.cleanup_pr.as_ref().and_then(|p| p.merged_sha.clone()),
    }
}

/// Records a queued attempt of `kind` (the intent, before dispatch) and the
/// event saying so; returns the attempt number. A plan records the tip of
/// main its head contains (`pr.base_sha`); `reason` says why tfpilot
/// queued it when no person did.
pub fn queue_attempt(
    doc: &mut Request,
    kind: RunKind,
    actor: &str,
    reason: Option<String>,
    now: &str,
) -> Result<u32, Refusal> {
    let sha = run_sha(doc, kind).ok_or(Refusal::NoCommit(kind))?;
    let base_sha = match kind {
        RunKind::Plan => doc.pr.as_ref().and_then(|p| p.base_sha.clone()),
        _ => None,
    };
    let id = doc.id;
    let history = history_mut(doc, kind);
    let attempt = history.current_attempt + 1;
    history.current_attempt = attempt;
    history.attempts.push(Attempt {
        attempt,
        run_id: run_id(&id, kind, attempt),
        head_sha: sha.clone(),
        base_sha,
        status: RunStatus::Queued,
        dispatched_at: now.to_owned(),
        reason: reason.clone(),
        ..Default::default()
    });
    let mut detail = format!("{} attempt {attempt} at {}", kind.as_str(), short(&sha));
    if let Some(reason) = reason {
        detail.push_str(&format!(" ({reason})"));
    }
    doc.events.push(event(
        now,
        actor,
        &format!("{}_queued", kind.as_str()),
        detail,
    ));
    Ok(attempt)
}

/// Drops the approval, saying why on the timeline.
pub fn void_approval(doc: &mut Request, actor: &str, why: &str, now: &str) {
    if let Some(a) = doc.approval.take() {
        doc.events.push(event(
            now,
            actor,
            "approval_voided",
            format!(
                "the approval by {} of plan attempt {} no longer holds: {why}",
                a.by, a.plan_attempt
            ),
        ));
    }
}
