//! The step driver's Git side: the request PR (branch, block commit, a
//! description saying what is asked for in plain words), the branch kept
//! up to date with main, the cleanup PR and its merge.

use super::advance::SYSTEM;
use super::{Flow, FlowError, cleanup_branch, request_branch, short};
use crate::git::{FileChange, GitError};
use app::domain::adopt;
use app::domain::blocks;
use app::domain::explain::{self, Ask, Subject};
use app::domain::ids::Target;
use app::domain::request::{PrState, PullRequest, Request};
use std::sync::Arc;

impl Flow {
    /// Branch → block commit → PR, each found before it is created.
    pub(super) async fn open_request_pr(&self, doc: &Request) -> Result<(), FlowError> {
        let module = self.registry.module(&doc.module).ok_or_else(|| {
            FlowError::Conflict(format!("module {} is not in the registry", doc.module))
        })?;
        let target = Target {
            request_id: &doc.id,
            project: &doc.project,
            environment: &doc.environment,
        };
        let block =
            adopt::render(module, target, &doc.config, adopt::wants_import(doc)).map_err(|e| {
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
        // No plan yet: the description says what is asked for.
        let ask = if doc.revision > 1 {
            Ask::Change
        } else if doc.kind == app::domain::request::Kind::Adopt {
            Ask::Adopt
        } else {
            Ask::Create
        };
        let body = format!(
            "{}\n\nRequest {} revision {} by {}.",
            explain::asks(&Subject::of(doc, module), ask),
            doc.id,
            doc.revision,
            doc.created_by
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
        .await?;
        // A first revision's PR: how long from filing to a PR.
        if doc.revision == 1
            && let Some(seconds) = self.seconds_since(&doc.created_at)
        {
            crate::meters::step("create_to_pr", seconds);
        }
        Ok(())
    }

    /// Makes `branch` (from main) hold `edit(file)`; commits only if needed.
    pub(super) async fn commit_until_done(
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
                &format!(
                    "{}\n\nCleanup before destroy: removes the block of request {}.",
                    explain::asks(&Subject::of(doc, module), Ask::Destroy),
                    doc.id
                ),
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
            let block = adopt::render(module, target, &doc.config, adopt::wants_import(doc))
                .map_err(|e| {
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

    pub(super) async fn merge_cleanup(
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
}
