//! The step driver: looks at a request's facts, does the next step, and
//! repeats until it has to wait for a person or a run.

use super::{Flow, FlowError, cleanup_branch, history_mut, request_branch, short};
use crate::exec::{ExecError, RunKind};
use crate::git::{FileChange, GitError};
use crate::store::repo::RepoError;
use app::domain::blocks;
use app::domain::ids::{RequestId, Target};
use app::domain::render::render_block;
use app::domain::request::{PrState, PullRequest, Request, RunStatus};
use std::sync::Arc;

const SYSTEM: &str = "tfpilot";

/// A `record_if` closure that had nothing to change.
struct Unchanged;

impl Flow {
    /// Drives request `id` as far as it can go without a person.
    pub async fn advance(self: &Arc<Self>, id: &RequestId) -> Result<(), FlowError> {
        let _one_at_a_time = self.advance_lock(id).lock().await;
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
                PrState::Open if !self.policy.is_prod(doc.environment.as_str()) => {
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

    /// Branch → block commit → PR, each found before it is created.
    async fn open_request_pr(&self, doc: &Request) -> Result<(), FlowError> {
        let module = self.registry.module(&doc.module).ok_or_else(|| {
            FlowError::Conflict(format!("module {} is not in the registry", doc.module))
        })?;
        let target = Target {
            request_id: &doc.id,
            project: &doc.project,
            environment: &doc.environment,
        };
        let block = render_block(module, target, &doc.config).map_err(|e| {
            FlowError::Conflict(format!("the template of {} failed: {e}", doc.module))
        })?;
        let path = format!("envs/{}/{}", doc.environment, block.file);
        let branch = request_branch(&doc.id, doc.revision);
        self.git.ensure_repo(&doc.project).await?;
        let tip = self.main_tip(&doc.project).await?;
        let head = self
            .commit_until_done(doc, &branch, &path, |text| {
                blocks::upsert(text, doc.id.as_str(), &block.body)
                    .map_err(|e| FlowError::Conflict(format!("{path}: {e}")))
            })
            .await?;
        let title = format!(
            "tfpilot: {} in {} ({})",
            module.title, doc.environment, doc.id
        );
        let body = format!(
            "Request {} revision {} by {}.",
            doc.id, doc.revision, doc.created_by
        );
        let pr = self
            .git
            .open_pr(
                &doc.project,
                &branch,
                &self.git.default_branch(&doc.project),
                &title,
                &body,
            )
            .await?;
        crate::crash::point("request.pr");
        // The head's base: main's tip, if the head contains it (it does
        // unless main moved meanwhile; then the step driver brings it up to date).
        let base_sha = self
            .git
            .is_ancestor(&doc.project, &tip, &pr.head_sha)
            .await?
            .then_some(tip);
        let number = pr.number;
        self.record(&doc.id, |next| {
            next.pr = Some(PullRequest {
                number: pr.number,
                url: pr.url.clone(),
                branch: branch.clone(),
                head_sha: pr.head_sha.clone(),
                base_sha: base_sha.clone(),
                main_sha: None,
                merged_sha: None,
                state: PrState::Open,
            });
            next.events.push(self.event(
                SYSTEM,
                "pr_opened",
                format!("PR #{number} at {}", short(&head)),
            ));
        })
        .await
    }

    /// Makes `branch` (from main) hold `edit(file)`; commits only if needed.
    async fn commit_until_done(
        &self,
        doc: &Request,
        branch: &str,
        path: &str,
        edit: impl Fn(&str) -> Result<String, FlowError>,
    ) -> Result<String, FlowError> {
        let step = branch.split('/').next().unwrap_or("change");
        let main = self.git.default_branch(&doc.project);
        self.git.ensure_branch(&doc.project, branch, &main).await?;
        crate::crash::point(&format!("{step}.branch"));
        for _ in 0..5 {
            let head = self
                .git
                .branch_head(&doc.project, branch)
                .await?
                .ok_or_else(|| FlowError::Git(GitError::NotFound(branch.to_owned())))?;
            let current = self
                .git
                .read_file(&doc.project, &head, path)
                .await?
                .unwrap_or_default();
            let desired = edit(&current)?;
            if desired == current {
                return Ok(head);
            }
            let change = FileChange {
                path: path.to_owned(),
                content: (!desired.is_empty()).then_some(desired),
            };
            let message = format!(
                "tfpilot: {step} {} (request {}, revision {})",
                doc.module, doc.id, doc.revision
            );
            match self
                .git
                .commit(&doc.project, branch, &head, &[change], &message)
                .await
            {
                Ok(sha) => {
                    crate::crash::point(&format!("{step}.commit"));
                    return Ok(sha);
                }
                Err(GitError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(FlowError::Conflict(format!(
            "branch {branch} keeps moving; try again"
        )))
    }

    /// The cleanup PR: branch `cleanup/<id>` from main without the block.
    pub(super) async fn open_cleanup(&self, doc: &Request) -> Result<PullRequest, FlowError> {
        if let Some(pr) = doc.pr.as_ref().filter(|p| p.state == PrState::Open) {
            self.git.close_pr(&doc.project, pr.number).await?;
        }
        let module = self.registry.module(&doc.module).ok_or_else(|| {
            FlowError::Conflict(format!("module {} is not in the registry", doc.module))
        })?;
        let path = format!("envs/{}/{}", doc.environment, module.file);
        let branch = cleanup_branch(&doc.id);
        self.git.ensure_repo(&doc.project).await?;
        self.commit_until_done(doc, &branch, &path, |text| {
            match blocks::remove(text, doc.id.as_str()) {
                Ok(t) => Ok(t),
                Err(blocks::BlockError::NotFound { .. }) => Ok(text.to_owned()),
                Err(e) => Err(FlowError::Conflict(format!("{path}: {e}"))),
            }
        })
        .await?;
        let title = format!(
            "tfpilot: remove {} from {} ({})",
            module.title, doc.environment, doc.id
        );
        let pr = self
            .git
            .open_pr(
                &doc.project,
                &branch,
                &self.git.default_branch(&doc.project),
                &title,
                "Cleanup before destroy.",
            )
            .await?;
        crate::crash::point("cleanup.pr");
        Ok(PullRequest {
            number: pr.number,
            url: pr.url,
            branch,
            head_sha: pr.head_sha,
            base_sha: None,
            main_sha: None,
            merged_sha: pr.merged_sha,
            state: pr.state,
        })
    }

    /// Writes the request's block again (or its removal, for the cleanup
    /// PR) onto the current main, as a merge commit on the PR's branch:
    /// the answer to a PR that no longer merges cleanly because another
    /// request changed the same file. The new head voids any approval and
    /// is planned again.
    pub(super) async fn refresh_branch(
        &self,
        doc: &Request,
        cleanup: bool,
    ) -> Result<String, FlowError> {
        let pr = if cleanup { &doc.cleanup_pr } else { &doc.pr }
            .clone()
            .ok_or_else(|| FlowError::Conflict("no PR to bring up to date".into()))?;
        let module = self.registry.module(&doc.module).ok_or_else(|| {
            FlowError::Conflict(format!("module {} is not in the registry", doc.module))
        })?;
        let path = format!("envs/{}/{}", doc.environment, module.file);
        let default_branch = self.git.default_branch(&doc.project);
        let main = self
            .git
            .branch_head(&doc.project, &default_branch)
            .await?
            .ok_or(FlowError::Git(GitError::NotFound(default_branch)))?;
        let text = self
            .git
            .read_file(&doc.project, &main, &path)
            .await?
            .unwrap_or_default();
        let desired = if cleanup {
            match blocks::remove(&text, doc.id.as_str()) {
                Ok(t) => t,
                Err(blocks::BlockError::NotFound { .. }) => text,
                Err(e) => return Err(FlowError::Conflict(format!("{path}: {e}"))),
            }
        } else {
            let target = Target {
                request_id: &doc.id,
                project: &doc.project,
                environment: &doc.environment,
            };
            let block = render_block(module, target, &doc.config).map_err(|e| {
                FlowError::Conflict(format!("the template of {} failed: {e}", doc.module))
            })?;
            blocks::upsert(&text, doc.id.as_str(), &block.body)
                .map_err(|e| FlowError::Conflict(format!("{path}: {e}")))?
        };
        let change = FileChange {
            path,
            content: (!desired.is_empty()).then_some(desired),
        };
        let message = format!(
            "tfpilot: bring {} up to date with main (request {})",
            pr.branch, doc.id
        );
        let sha = self
            .git
            .commit_merge(
                &doc.project,
                &pr.branch,
                &pr.head_sha,
                &main,
                &[change],
                &message,
            )
            .await?;
        // Only the PR this commit was built on moves: when it was merged
        // (or got another commit) meanwhile, the stored request stays as
        // it is, and its approval with it.
        self.record_if(&doc.id, |next| {
            let target = if cleanup {
                next.cleanup_pr.as_mut()
            } else {
                next.pr.as_mut()
            };
            let p = target.filter(|p| {
                p.number == pr.number && p.state == PrState::Open && p.head_sha == pr.head_sha
            })?;
            p.head_sha = sha.clone();
            p.base_sha = Some(main.clone());
            p.main_sha = None;
            if !cleanup {
                self.void_approval(next, SYSTEM, "main moved; the approved plan is stale");
            }
            next.events.push(self.event(
                SYSTEM,
                "branch_refreshed",
                format!(
                    "main moved to {}: PR #{} now builds on it ({}) and is planned again",
                    short(&main),
                    pr.number,
                    short(&sha)
                ),
            ));
            Some(())
        })
        .await?;
        Ok(sha)
    }

    async fn merge_cleanup(
        self: &Arc<Self>,
        doc: &Request,
        cleanup: &PullRequest,
    ) -> Result<bool, FlowError> {
        let merged = match self
            .git
            .merge_pr(&doc.project, cleanup.number, &cleanup.head_sha)
            .await
        {
            Ok(merged) => merged,
            Err(GitError::MergeConflict(_)) => {
                self.refresh_branch(doc, true).await?;
                return Ok(true);
            }
            Err(e) => return Err(e.into()),
        };
        crate::crash::point("cleanup.merged");
        self.record(&doc.id, |next| {
            let Some(p) = next.cleanup_pr.as_mut().filter(|p| p.state != merged.state) else {
                return; // recorded by a concurrent driver
            };
            p.state = merged.state;
            p.merged_sha = merged.merged_sha.clone();
            next.events.push(self.event(
                SYSTEM,
                "cleanup_merged",
                format!("PR #{} (automatic outside production)", merged.number),
            ));
        })
        .await?;
        self.main_moved(&doc.project);
        Ok(true)
    }

    /// Dispatches the newest queued attempt of `kind`, or syncs it with the
    /// executor; a destroy that succeeded archives the request.
    async fn drive_run(&self, doc: &Request, kind: RunKind) -> Result<bool, FlowError> {
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
            if info.status == RunStatus::Completed {
                a.completed_at = Some(self.now());
                a.ran_at = info.ran_at.clone();
                a.blocked = info.blocked.clone();
                let at = info
                    .ran_at
                    .as_deref()
                    .map(|t| format!(" on main at {}", short(t)))
                    .unwrap_or_default();
                let outcome = match (&info.conclusion, &info.error) {
                    (Some(app::domain::request::Conclusion::Success), _) => {
                        format!("succeeded{at}")
                    }
                    (Some(app::domain::request::Conclusion::Blocked), Some(err)) => err.clone(),
                    (_, Some(err)) => format!("failed: {err}"),
                    _ => "failed".to_owned(),
                };
                next.events.push(self.event(
                    SYSTEM,
                    &format!("{}_completed", kind.as_str()),
                    format!("attempt {n} {outcome}"),
                ));
            }
        })
        .await?;
        if info.status == RunStatus::Completed && kind == RunKind::Apply {
            match info.conclusion {
                Some(app::domain::request::Conclusion::Success) => {
                    self.sweep(doc, &latest, &info).await;
                }
                Some(app::domain::request::Conclusion::Blocked) => {
                    self.requeue_if_scope_grew(doc, &latest, &info).await?;
                }
                _ => {}
            }
        }
        Ok(true)
    }
}
