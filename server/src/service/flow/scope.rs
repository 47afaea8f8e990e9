//! What an apply or destroy may change (its scope, decided when it is
//! dispatched), and what follows an apply of the tip of main: the other
//! requests it applied are marked applied by that run.

use super::{Flow, FlowError, history_mut, short};
use crate::exec::{RunInfo, RunKind, run_id};
use crate::service::index::Query;
use app::domain::ids::RequestId;
use app::domain::policy::approval_holds;
use app::domain::render::block_name;
use app::domain::request::{Attempt, Conclusion, Request, RunStatus};
use app::domain::scope::{Scope, ScopeKind, check};
use app::domain::status::{Status, Step, derive_status};

const SYSTEM: &str = "tfpilot";

/// How many times in a row an apply is queued again by itself because
/// requests merged while it waited.
const MAX_REQUEUES: usize = 2;

/// Merged, approved and not applied yet: its block may change in any
/// apply of its environment.
pub fn waiting_for_apply(req: &Request) -> bool {
    approval_holds(req)
        && matches!(
            derive_status(req),
            Status::Merged | Status::Applying | Status::Failed(Step::Apply)
        )
}

impl Flow {
    /// The scope of attempt `attempt` of `doc`'s run of `kind`.
    pub(super) async fn scope_for(
        &self,
        doc: &Request,
        kind: RunKind,
        attempt: u32,
    ) -> Result<Scope, FlowError> {
        // A confirmation covers the one attempt queued by it, never later ones.
        let confirmed = doc
            .confirmation
            .as_ref()
            .filter(|c| c.kind == kind.as_str() && c.attempt + 1 == attempt)
            .map(|c| c.changes.clone())
            .unwrap_or_default();
        if kind == RunKind::Destroy {
            return Ok(Scope {
                kind: ScopeKind::Destroy,
                apply: vec![],
                destroy: vec![doc.id],
                confirmed,
                target: Some(format!("module.{}", block_name(&doc.module, &doc.id))),
            });
        }
        let mut apply = vec![doc.id];
        // A reapply (drift reverted) may change its own block only.
        let reapply = doc.runs.apply.attempts.iter().any(|a| {
            a.attempt == attempt && a.reason.as_deref() == Some(app::domain::transitions::REAPPLY)
        });
        if !reapply {
            apply.extend(self.waiting_in(doc).await?);
        }
        Ok(Scope {
            kind: ScopeKind::Apply,
            apply,
            destroy: vec![],
            confirmed,
            target: None,
        })
    }

    /// The other requests of `doc`'s environment waiting for apply.
    async fn waiting_in(&self, doc: &Request) -> Result<Vec<RequestId>, FlowError> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.index.query(&Query {
                project: Some(doc.project.to_string()),
                environment: Some(doc.environment.to_string()),
                limit: 500,
                cursor,
                ..Default::default()
            });
            for row in &page.items {
                if row.id == doc.id
                    || !matches!(
                        row.status,
                        Status::Merged | Status::Applying | Status::Failed(_)
                    )
                {
                    continue;
                }
                match self.repo.get(&row.id).await {
                    Ok(other) if waiting_for_apply(&other.doc) => out.push(row.id),
                    Ok(_) | Err(crate::store::repo::RepoError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            match page.next_cursor.and_then(|c| RequestId::parse(&c).ok()) {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// After `applier`'s run applied the tip of main: every other request
    /// of its scope still waiting is marked applied by that run.
    pub(super) async fn sweep(&self, applier: &Request, attempt: &Attempt, info: &RunInfo) {
        let Some(scope) = &attempt.scope else { return };
        for id in scope.apply.iter().filter(|id| **id != applier.id) {
            let result = self
                .record(id, |next| {
                    let busy = next
                        .runs
                        .apply
                        .latest()
                        .is_some_and(|a| a.status != RunStatus::Completed);
                    let Some(merged) = next.pr.as_ref().and_then(|p| p.merged_sha.clone()) else {
                        return;
                    };
                    if busy || !waiting_for_apply(next) {
                        return; // its own run reports it, or it moved on
                    }
                    let history = history_mut(next, RunKind::Apply);
                    let n = history.current_attempt + 1;
                    history.current_attempt = n;
                    let now = self.now();
                    history.attempts.push(Attempt {
                        attempt: n,
                        run_id: run_id(id, RunKind::Apply, n),
                        url: info.url.clone(),
                        head_sha: merged,
                        ran_at: info.ran_at.clone(),
                        via: Some(info.run_id.clone()),
                        status: RunStatus::Completed,
                        conclusion: Some(Conclusion::Success),
                        dispatched_at: now.clone(),
                        completed_at: Some(now),
                        ..Default::default()
                    });
                    next.events.push(self.event(
                        SYSTEM,
                        "apply_completed",
                        format!(
                            "applied by run {} of request {} on main at {}",
                            info.run_id,
                            applier.id,
                            short(info.ran_at.as_deref().unwrap_or("?"))
                        ),
                    ));
                })
                .await;
            if let Err(e) = result {
                tracing::warn!(request = %id, "could not mark the request applied by {}: {e}", info.run_id);
            }
        }
    }

    /// A blocked apply whose unexpected changes all belong to requests
    /// merged and approved since it was dispatched is queued again (a
    /// bounded number of times): they are now part of what may change.
    pub(super) async fn requeue_if_scope_grew(
        &self,
        doc: &Request,
        attempt: &Attempt,
        info: &RunInfo,
    ) -> Result<(), FlowError> {
        let Some(old) = &attempt.scope else {
            return Ok(());
        };
        let requeued = doc
            .runs
            .apply
            .attempts
            .iter()
            .rev()
            .take_while(|a| {
                a.reason
                    .as_deref()
                    .is_some_and(|r| r.starts_with("requests "))
            })
            .count();
        if requeued >= MAX_REQUEUES {
            return Ok(());
        }
        let fresh = self
            .scope_for(doc, RunKind::Apply, attempt.attempt + 1)
            .await?;
        let planned: Vec<_> = info
            .blocked
            .iter()
            .map(|u| app::domain::scope::PlannedChange {
                address: u.address.clone(),
                action: u.action.clone(),
            })
            .collect();
        if fresh.apply == old.apply || !check(&fresh, &planned).is_empty() {
            return Ok(());
        }
        let joined: Vec<String> = fresh
            .apply
            .iter()
            .filter(|id| !old.apply.contains(id))
            .map(ToString::to_string)
            .collect();
        let reason = format!(
            "requests {} were merged and approved while it waited",
            joined.join(", ")
        );
        let n = attempt.attempt;
        self.record(&doc.id, |next| {
            if next.runs.apply.current_attempt == n {
                let _ = self.queue_attempt(next, RunKind::Apply, SYSTEM, Some(reason.clone()));
            }
        })
        .await
    }
}
