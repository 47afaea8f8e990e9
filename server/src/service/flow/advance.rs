//! The step driver: looks at a request's facts, does the next step, and
//! repeats until it has to wait for a person or a run.

use super::{Flow, FlowError, short};
use crate::exec::RunKind;
use crate::store::lease::Lease;
use crate::store::repo::RepoError;
use app::domain::ids::RequestId;
use app::domain::request::{PrState, Request, RunStatus};
use std::sync::Arc;

pub(super) const SYSTEM: &str = "tfpilot";

/// How long an action waits for another replica driving its request.
pub(super) const HAND_OVER: std::time::Duration = std::time::Duration::from_secs(5);

/// A request held by one driver ([`Flow::hold`]).
pub(super) struct Held<'a> {
    _local: tokio::sync::MutexGuard<'a, ()>,
    lease: Lease,
    /// Counts as a drive under way until the lease is given back: a stop
    /// waits for it ([`Flow::settle`]).
    _under_way: tokio_util::task::task_tracker::TaskTrackerToken,
}

impl Held<'_> {
    /// Gives the request back, to this process and the others.
    pub(super) async fn release(self) {
        self.lease.release().await;
    }
}

/// The lease of whoever drives request `id`.
pub(super) fn advance_key(id: &RequestId) -> String {
    format!("locks/advance/{id}.json")
}

/// A `record_if` closure that had nothing to change.
struct Unchanged;

impl Flow {
    /// Drives request `id` as far as it can go without a person — unless
    /// another replica drives it and keeps doing so for [`HAND_OVER`]
    /// (it then sees whatever changed: every step reads the request anew).
    pub async fn advance(self: &Arc<Self>, id: &RequestId) -> Result<(), FlowError> {
        self.advance_within(id, HAND_OVER).await
    }

    /// [`Flow::advance`], waiting at most `wait` for another replica's
    /// hold on the request (the reconciler does not wait).
    pub(super) async fn advance_within(
        self: &Arc<Self>,
        id: &RequestId,
        wait: std::time::Duration,
    ) -> Result<(), FlowError> {
        let Some(held) = self.hold(id, wait).await? else {
            tracing::debug!(request = %id, "another replica drives this request");
            return Ok(());
        };
        let driven = self.drive(id).await;
        held.release().await;
        driven
    }

    /// Request `id` to this driver alone — in this process and across
    /// replicas — waiting at most `wait`; `None` when another replica
    /// kept it all along.
    pub(super) async fn hold(
        &self,
        id: &RequestId,
        wait: std::time::Duration,
    ) -> Result<Option<Held<'_>>, FlowError> {
        // A stopping replica takes nothing new: its reconciler or another
        // replica's drives the request.
        if self.drivers.is_closed() {
            return Ok(None);
        }
        let under_way = self.drives.token();
        let local = self.advance_lock(id).lock().await;
        let lease = Lease::acquire_within(
            self.leases.clone(),
            advance_key(id),
            self.holder.clone(),
            self.lease_ttl,
            self.clock.clone(),
            wait,
        )
        .await
        .map_err(RepoError::from)?;
        Ok(lease.map(|lease| {
            if let Some(dead) = lease.took_over() {
                tracing::info!(request = %id, from = dead, "took over a request a stopped replica was driving");
            }
            Held {
                _local: local,
                lease,
                _under_way: under_way,
            }
        }))
    }

    /// The steps, under the lease.
    async fn drive(self: &Arc<Self>, id: &RequestId) -> Result<(), FlowError> {
        for _ in 0..12 {
            let doc = match self.repo.get(id).await {
                Ok(v) => v.doc,
                Err(RepoError::NotFound(_)) => return Ok(()), // archived
                Err(e) => return Err(e.into()),
            };
            if !self.step(&doc).await? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// One step; `true` if something changed and another may follow.
    async fn step(self: &Arc<Self>, doc: &Request) -> Result<bool, FlowError> {
        if let Some(cleanup) = &doc.cleanup_pr {
            return match cleanup.state {
                PrState::Open if !self.projects.policy().is_prod(doc.environment.as_str()) => {
                    self.merge_cleanup(doc, cleanup).await
                }
                PrState::Open | PrState::Closed => Ok(false),
                PrState::Merged => self.drive_run(doc, RunKind::Destroy).await,
            };
        }
        let Some(pr) = &doc.pr else {
            self.open_request_pr(doc).await?;
            return Ok(true);
        };
        match pr.state {
            PrState::Open => {
                let live = self.git.get_pr(&doc.project, pr.number).await?;
                if live.state != pr.state || live.head_sha != pr.head_sha {
                    let onto = self.merged_onto_unseen_main(doc, &live).await?;
                    self.record(&doc.id, |next| {
                        if let Some(p) = next.pr.as_mut().filter(|p| p.number == live.number) {
                            p.state = live.state;
                            p.head_sha = live.head_sha.clone();
                            p.merged_sha = live.merged_sha.clone();
                            if let Some(main) = &onto {
                                p.main_sha = Some(main.clone());
                            }
                        }
                        if live.head_sha != pr.head_sha {
                            self.void_approval(next, SYSTEM, "the PR has a new commit");
                        }
                        if let Some(main) = &onto {
                            self.void_approval(
                                next,
                                SYSTEM,
                                &format!(
                                    "the PR was merged outside tfpilot onto main at {}, which its plan did not include",
                                    short(main)
                                ),
                            );
                        }
                        next.events.push(self.event(
                            SYSTEM,
                            "pr_changed",
                            format!(
                                "PR #{} is {:?} at {}",
                                live.number,
                                live.state,
                                short(&live.head_sha)
                            ),
                        ));
                    })
                    .await?;
                    return Ok(true);
                }
                let plan_busy = doc
                    .runs
                    .plan
                    .latest()
                    .is_some_and(|a| a.status != RunStatus::Completed);
                if !plan_busy {
                    // Plans are of the change merged with the current main:
                    // when main moved past the head's base, bring it up to date.
                    let tip = self.main_tip(&doc.project).await?;
                    if pr.base_sha.as_deref() != Some(tip.as_str()) {
                        self.refresh_branch(doc, false).await?;
                        return Ok(true);
                    }
                }
                if doc.runs.plan.latest_at(&pr.head_sha).is_none() {
                    let head = pr.head_sha.clone();
                    let reason = doc
                        .events
                        .last()
                        .filter(|e| e.kind == "branch_refreshed")
                        .map(|_| "main moved; the plan before it is stale".to_owned());
                    self.record(&doc.id, |next| {
                        // A PR head exists, so queueing cannot fail.
                        if next.runs.plan.latest_at(&head).is_none() {
                            let _ = self.queue_attempt(next, RunKind::Plan, SYSTEM, reason.clone());
                        }
                    })
                    .await?;
                    return Ok(true);
                }
                self.drive_run(doc, RunKind::Plan).await
            }
            PrState::Merged => {
                let plan_busy = doc
                    .runs
                    .plan
                    .latest()
                    .is_some_and(|a| a.status != RunStatus::Completed);
                if plan_busy {
                    self.drive_run(doc, RunKind::Plan).await
                } else {
                    self.drive_run(doc, RunKind::Apply).await
                }
            }
            PrState::Closed => Ok(false),
        }
    }

    /// For a PR merged on the host outside tfpilot: the main it was merged
    /// onto, when the head did not contain it (so no plan of the head saw
    /// what the merge ships).
    async fn merged_onto_unseen_main(
        &self,
        doc: &Request,
        live: &crate::git::PullRequestInfo,
    ) -> Result<Option<String>, FlowError> {
        let Some(merged) = live
            .merged_sha
            .as_deref()
            .filter(|_| live.state == PrState::Merged)
        else {
            return Ok(None);
        };
        if merged == live.head_sha {
            return Ok(None); // a fast-forward: main was the head's base
        }
        let parents = self.git.parents(&doc.project, merged).await?;
        let Some(onto) = parents.into_iter().find(|p| p != &live.head_sha) else {
            return Ok(None);
        };
        let seen = self
            .git
            .is_ancestor(&doc.project, &onto, &live.head_sha)
            .await?;
        Ok((!seen).then_some(onto))
    }

    /// Applies a system change with CAS and indexes it, only when `f`
    /// changes something (`Some`); nothing is written otherwise.
    pub(super) async fn record_if(
        &self,
        id: &RequestId,
        mut f: impl FnMut(&mut Request) -> Option<()>,
    ) -> Result<(), FlowError> {
        let result = self
            .write(id, |doc| {
                let mut next = doc.clone();
                match f(&mut next) {
                    Some(()) => Ok(next),
                    None => Err(Unchanged),
                }
            })
            .await;
        match result {
            Ok(Ok(stored)) => {
                self.index.upsert(&stored.doc, &stored.etag);
                Ok(())
            }
            Ok(Err(Unchanged)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Applies a system change with CAS and indexes it.
    pub(super) async fn record(
        &self,
        id: &RequestId,
        mut f: impl FnMut(&mut Request),
    ) -> Result<(), FlowError> {
        let stored = self
            .write(id, |doc| {
                let mut next = doc.clone();
                f(&mut next);
                Ok::<_, FlowError>(next)
            })
            .await??;
        self.index.upsert(&stored.doc, &stored.etag);
        Ok(())
    }
}
