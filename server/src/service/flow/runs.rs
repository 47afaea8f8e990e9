//! Runs as the workflow sees them: completed runs fed back, the queue
//! ahead of a waiting run, and the log and plan of the newest attempts.

use super::{Flow, history};
use crate::exec::{RunInfo, RunKind, RunSpec};
use app::domain::request::{Attempt, Conclusion, Request, RunStatus};
use std::sync::Arc;

impl Flow {
    /// Why this attempt waits, while it is queued: the runs ahead of it
    /// for a terraform slot (`2 ahead`), a busy workspace…
    pub fn waiting(&self, attempt: &Attempt) -> Option<String> {
        (attempt.status == RunStatus::Queued)
            .then(|| self.exec.waiting(&attempt.run_id))
            .flatten()
    }

    /// Feeds a completed run back into its request.
    pub async fn on_run(self: &Arc<Self>, info: RunInfo) {
        let id = info.spec.request;
        if let Err(e) = self.advance(&id).await {
            tracing::warn!(request = %id, "could not record run {}: {e}", info.run_id);
        }
    }

    /// The log of the newest attempt of `kind`, if there is one.
    pub async fn run_log(
        &self,
        doc: &Request,
        kind: RunKind,
    ) -> Result<Option<String>, crate::exec::ExecError> {
        let Some(attempt) = history(doc, kind).latest() else {
            return Ok(None);
        };
        match self.exec.log(&Self::spec(doc, kind, attempt)).await {
            Ok(log) => Ok(Some(log)),
            Err(crate::exec::ExecError::NotFound(_)) => Ok(Some(String::new())),
            Err(e) => Err(e),
        }
    }

    /// The plan of the request's newest plan attempt, if it has one.
    pub async fn plan_output(
        &self,
        doc: &Request,
    ) -> Result<Option<crate::exec::PlanOutput>, crate::exec::ExecError> {
        let Some(attempt) = doc.runs.plan.latest() else {
            return Ok(None);
        };
        self.exec
            .plan_output(&Self::spec(doc, RunKind::Plan, attempt))
            .await
            .map(Some)
    }

    /// Counts a run just recorded as completed: by executor, kind and
    /// conclusion, and its time from dispatch as the step's latency.
    pub(super) fn count_completed(
        &self,
        doc: &Request,
        kind: RunKind,
        attempt: &Attempt,
        info: &RunInfo,
    ) {
        let conclusion = match info.conclusion {
            Some(Conclusion::Success) => "success",
            Some(Conclusion::Failure) => "failure",
            Some(Conclusion::Cancelled) => "cancelled",
            Some(Conclusion::TimedOut) => "timed_out",
            Some(Conclusion::Blocked) => "blocked",
            None => "unknown",
        };
        crate::meters::run_completed(self.exec.name(&doc.project), kind.as_str(), conclusion);
        if let Some(seconds) = self.seconds_since(&attempt.dispatched_at) {
            crate::meters::step(kind.as_str(), seconds);
        }
    }

    pub(super) fn spec(doc: &Request, kind: RunKind, attempt: &Attempt) -> RunSpec {
        let merged = doc.pr.as_ref().is_some_and(|p| p.merged_sha.is_some());
        let sha = match (kind, &attempt.base_sha) {
            // A merged change is planned as the tip of main it was merged into.
            (RunKind::Plan, Some(base)) if merged && doc.cleanup_pr.is_none() => base.clone(),
            _ => attempt.head_sha.clone(),
        };
        RunSpec {
            project: doc.project.clone(),
            environment: doc.environment.clone(),
            request: doc.id,
            kind,
            sha,
            attempt: attempt.attempt,
            scope: attempt.scope.clone(),
        }
    }
}
