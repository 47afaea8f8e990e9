//! The step driver's runs: dispatch the queued attempt, follow it at the
//! executor, record what it reports, archive a destroyed request.

use super::advance::SYSTEM;
use super::{Flow, FlowError, history_mut, short};
use crate::exec::{ExecError, RunInfo, RunKind, RunSpec};
use app::domain::explain;
use app::domain::request::{Conclusion, Request, RunStatus};
use app::domain::scope::PlannedChange;

impl Flow {
    /// Dispatches the newest queued attempt of `kind`, or syncs it with the
    /// executor; a destroy that succeeded archives the request.
    pub(super) async fn drive_run(&self, doc: &Request, kind: RunKind) -> Result<bool, FlowError> {
        let latest = match super::history(doc, kind).latest() {
            Some(a) => a.clone(),
            None if kind == RunKind::Destroy => {
                self.record(&doc.id, |next| {
                    // The cleanup PR is merged, so queueing cannot fail.
                    if next.runs.destroy.latest().is_none() {
                        let _ = self.queue_attempt(next, RunKind::Destroy, SYSTEM, None);
                    }
                })
                .await?;
                return Ok(true);
            }
            None => return Ok(false),
        };
        if latest.status == RunStatus::Completed {
            if kind == RunKind::Destroy && app::domain::transitions::archivable(doc) {
                self.repo.archive(&doc.id).await?;
                self.index.remove(&doc.id);
                // Its hold is not needed any more (a leftover is harmless).
                let _ = self
                    .leases
                    .delete(&super::advance::advance_key(&doc.id))
                    .await;
                return Ok(false);
            }
            return Ok(false);
        }
        let mut spec = Self::spec(doc, kind, &latest);
        let info = match self.exec.status(&spec).await {
            Ok(info) => info,
            Err(ExecError::NotFound(_)) => {
                if kind != RunKind::Plan {
                    // What the run may change, decided now and kept with the attempt.
                    let scope = self.scope_for(doc, kind, latest.attempt).await?;
                    let n = latest.attempt;
                    let kept = scope.clone();
                    self.record(&doc.id, |next| {
                        if let Some(a) = history_mut(next, kind)
                            .attempts
                            .iter_mut()
                            .find(|a| a.attempt == n)
                        {
                            a.scope = Some(kept.clone());
                        }
                    })
                    .await?;
                    spec.scope = Some(scope);
                }
                let info = self.exec.dispatch(&spec).await?;
                crate::crash::point(&format!("run.{}.dispatched", kind.as_str()));
                info
            }
            Err(e) => return Err(e.into()),
        };
        if info.status == RunStatus::Completed {
            crate::crash::point(&format!("run.{}.finished", kind.as_str()));
        }
        if info.status == latest.status && info.conclusion == latest.conclusion {
            return Ok(false);
        }
        let changes = self.planned_changes(doc, kind, &spec, &info).await;
        let n = latest.attempt;
        self.record(&doc.id, |next| {
            let Some(a) = history_mut(next, kind)
                .attempts
                .iter_mut()
                .find(|a| a.attempt == n)
            else {
                return;
            };
            // Run facts only move forward.
            if a.status == RunStatus::Completed || info.status < a.status {
                return;
            }
            a.status = info.status;
            a.conclusion = info.conclusion;
            a.summary = info.summary.or(a.summary);
            a.url = info.url.clone().or(a.url.take());
            if !info.checks.is_empty() {
                a.checks = info.checks.clone();
            }
            if info.status == RunStatus::Completed {
                a.changes = changes.clone();
                a.completed_at = Some(self.now());
                a.ran_at = info.ran_at.clone();
                a.blocked = info.blocked.clone();
                let at = info
                    .ran_at
                    .as_deref()
                    .map(|t| format!(" on main at {}", short(t)))
                    .unwrap_or_default();
                let outcome = match (&info.conclusion, &info.error) {
                    (Some(Conclusion::Success), _) => {
                        format!("succeeded{at}")
                    }
                    (Some(Conclusion::Blocked), Some(err)) => err.clone(),
                    (_, Some(err)) => format!("failed: {err}"),
                    _ => "failed".to_owned(),
                };
                next.events.push(self.event(
                    SYSTEM,
                    &format!("{}_completed", kind.as_str()),
                    format!("attempt {n} {outcome}"),
                ));
                // Applied again: what the config says is what is there.
                if kind == RunKind::Apply
                    && info.conclusion == Some(Conclusion::Success)
                    && next.drift.take().is_some()
                {
                    next.events.push(self.event(
                        SYSTEM,
                        "drift_cleared",
                        format!("attempt {n} applied the config again"),
                    ));
                }
            }
        })
        .await?;
        if info.status == RunStatus::Completed {
            self.count_completed(doc, kind, &latest, &info);
        }
        if info.status == RunStatus::Completed && kind == RunKind::Apply {
            match info.conclusion {
                Some(Conclusion::Success) => {
                    self.sweep(doc, &latest, &info).await;
                }
                Some(Conclusion::Blocked) => {
                    self.requeue_if_scope_grew(doc, &latest, &info).await?;
                }
                _ => {}
            }
        }
        Ok(true)
    }

    /// A completed plan's or destroy's changes to the request's own block,
    /// kept with the attempt for the explanation (`None` when the run has
    /// no plan to read, or it cannot be read now: the explanation then
    /// says what is asked for).
    async fn planned_changes(
        &self,
        doc: &Request,
        kind: RunKind,
        spec: &RunSpec,
        info: &RunInfo,
    ) -> Option<Vec<PlannedChange>> {
        let planned = matches!(
            info.conclusion,
            Some(Conclusion::Success | Conclusion::Blocked)
        );
        if info.status != RunStatus::Completed || kind == RunKind::Apply || !planned {
            return None;
        }
        match self.exec.plan_output(spec).await {
            Ok(out) => Some(explain::own_changes(
                doc.id,
                out.changes.into_iter().map(|c| PlannedChange {
                    address: c.address,
                    action: c.action,
                }),
            )),
            Err(ExecError::NotFound(_)) => None,
            Err(e) => {
                tracing::warn!(request = %doc.id, "the plan's changes cannot be read: {e}");
                None
            }
        }
    }
}
