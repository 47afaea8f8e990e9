//! The actions people take on a request (plan, approve, merge, apply,
//! confirm, destroy, retry, a new revision): each checked by the policy,
//! applied with compare-and-swap, audited, and followed by the step driver.

use super::{Flow, FlowError, refuse, short};
use crate::git::GitError;
use crate::store::repo::Versioned;
use app::domain::config::{Config as InputConfig, check_update, normalize};
use app::domain::ids::{RequestId, Target};
use app::domain::policy::{Action, Actor, decide};
use app::domain::transitions::{self, Refusal};
use std::sync::Arc;

impl Flow {
    /// Runs `action` for `actor` on request `id`; the result is the stored
    /// document right after the action (follow-up steps run in the background).
    /// A refusal is audited with the rule that refused.
    pub async fn perform(
        self: &Arc<Self>,
        actor: &Actor,
        id: &RequestId,
        action: Action,
    ) -> Result<Versioned, FlowError> {
        let result = self.perform_unaudited(actor, id, action).await;
        self.audit_refusal(&result, actor, id, action).await;
        if let Err(FlowError::Refused { rule, .. }) = &result
            && rule == "approval.stale"
        {
            // The step driver brings the branch up to date and plans again.
            self.spawn_advance(*id);
        }
        result
    }

    async fn perform_unaudited(
        self: &Arc<Self>,
        actor: &Actor,
        id: &RequestId,
        action: Action,
    ) -> Result<Versioned, FlowError> {
        let login = actor.login.clone();
        let stored = match action {
            Action::Plan => {
                let doc = self.repo.get(id).await?.doc;
                refuse(decide(action, &doc, actor, &self.projects.policy()))?;
                let tip = self.main_tip(&doc.project).await?;
                self.act(actor, id, Some(action), |doc| {
                    Ok(transitions::plan(doc, &login, &tip, &self.now())?)
                })
                .await?
            }
            Action::Apply => {
                self.act(actor, id, Some(action), |doc| {
                    Ok(transitions::apply(doc, &login, &self.now())?)
                })
                .await?
            }
            Action::Reapply => {
                self.act(actor, id, Some(action), |doc| {
                    Ok(transitions::reapply(doc, &login, &self.now())?)
                })
                .await?
            }
            Action::Confirm => self.confirm(actor, id, None).await?,
            Action::Approve => {
                let doc = self.repo.get(id).await?.doc;
                refuse(decide(action, &doc, actor, &self.projects.policy()))?;
                let tip = self.main_tip(&doc.project).await?;
                self.act(actor, id, Some(action), |doc| {
                    Ok(transitions::approve(doc, &login, &tip, &self.now())?)
                })
                .await?
            }
            Action::Merge => self.merge(actor, id).await?,
            Action::Destroy => self.destroy(actor, id).await?,
            Action::Retry => self.retry(actor, id).await?,
            Action::Update => {
                return Err(FlowError::Conflict(
                    "use PATCH with a new config to update".into(),
                ));
            }
        };
        self.spawn_advance(*id);
        Ok(stored)
    }

    async fn merge(
        self: &Arc<Self>,
        actor: &Actor,
        id: &RequestId,
    ) -> Result<Versioned, FlowError> {
        let doc = self.repo.get(id).await?.doc;
        refuse(decide(Action::Merge, &doc, actor, &self.projects.policy()))?;
        let cleanup = doc.cleanup_pr.is_some();
        let pr = if cleanup {
            doc.cleanup_pr.clone()
        } else {
            doc.pr.clone()
        }
        .ok_or_else(|| FlowError::Conflict("no PR to merge".into()))?;
        if !cleanup {
            let tip = self.main_tip(&doc.project).await?;
            let seen = doc.approval.as_ref().and_then(|a| a.base_sha.as_deref());
            if seen != Some(tip.as_str()) {
                return Err(Refusal::Stale {
                    tip,
                    seen: seen.map(str::to_owned),
                }
                .into());
            }
        }
        // The merge and its record as one step: no driver reads the PR
        // merged before the request says so.
        let held = self
            .hold(id, super::advance::HAND_OVER)
            .await?
            .ok_or_else(|| {
                FlowError::Conflict(
                    "tfpilot is working on this request on another replica right now: try again in a moment".into(),
                )
            })?;
        let merged = match self
            .git
            .merge_pr(&doc.project, pr.number, &pr.head_sha)
            .await
        {
            Ok(merged) => merged,
            Err(GitError::MergeConflict(_)) => {
                held.release().await;
                let sha = self.refresh_branch(&doc, cleanup).await?;
                self.spawn_advance(*id);
                return Err(FlowError::Conflict(format!(
                    "main changed since PR #{} was planned and the PR no longer merged cleanly; tfpilot brought its branch up to date ({}): it is being planned again{}",
                    pr.number,
                    short(&sha),
                    if cleanup {
                        ""
                    } else {
                        " and needs a new approval"
                    }
                )));
            }
            Err(e) => {
                held.release().await;
                return Err(e.into());
            }
        };
        crate::crash::point(if cleanup {
            "cleanup.merged"
        } else {
            "merge.merged"
        });
        let login = actor.login.clone();
        let merged = app::domain::request::PullRequest {
            number: merged.number,
            state: merged.state,
            head_sha: merged.head_sha,
            merged_sha: merged.merged_sha,
            ..Default::default()
        };
        let stored = self
            .act(actor, id, None, |doc| {
                Ok(transitions::record_merge(
                    doc,
                    &merged,
                    cleanup,
                    &login,
                    &self.now(),
                ))
            })
            .await;
        held.release().await;
        let stored = stored?;
        self.main_moved(&doc.project);
        Ok(stored)
    }

    async fn destroy(&self, actor: &Actor, id: &RequestId) -> Result<Versioned, FlowError> {
        let doc = self.repo.get(id).await?.doc;
        refuse(decide(
            Action::Destroy,
            &doc,
            actor,
            &self.projects.policy(),
        ))?;
        // Idempotent: a repeated destroy finds the same branch, commit and PR.
        let cleanup = self.open_cleanup(&doc).await?;
        let login = actor.login.clone();
        self.act(actor, id, Some(Action::Destroy), |doc| {
            Ok(transitions::request_destroy(
                doc,
                &cleanup,
                &login,
                &self.now(),
            ))
        })
        .await
    }

    /// An approver's yes to exactly the changes a blocked apply or destroy
    /// listed; the run is queued again with those changes allowed. From the
    /// API, `addresses` must name exactly the blocked run's addresses.
    pub async fn confirm(
        self: &Arc<Self>,
        actor: &Actor,
        id: &RequestId,
        addresses: Option<Vec<String>>,
    ) -> Result<Versioned, FlowError> {
        let login = actor.login.clone();
        let result = self
            .act(actor, id, Some(Action::Confirm), |doc| {
                Ok(transitions::confirm(
                    doc,
                    &login,
                    addresses.as_deref(),
                    &self.now(),
                )?)
            })
            .await;
        self.audit_refusal(&result, actor, id, Action::Confirm)
            .await;
        if result.is_ok() {
            self.spawn_advance(*id);
        }
        result
    }

    async fn retry(&self, actor: &Actor, id: &RequestId) -> Result<Versioned, FlowError> {
        let login = actor.login.clone();
        self.act(actor, id, Some(Action::Retry), |doc| {
            Ok(transitions::retry(doc, &login, &self.now())?)
        })
        .await
    }

    /// A new revision of the config: the old PR is closed and a new one
    /// supersedes it.
    pub async fn update(
        self: &Arc<Self>,
        actor: &Actor,
        id: &RequestId,
        raw: &InputConfig,
    ) -> Result<Versioned, FlowError> {
        let result = self.update_unaudited(actor, id, raw).await;
        self.audit_refusal(&result, actor, id, Action::Update).await;
        result
    }

    async fn update_unaudited(
        self: &Arc<Self>,
        actor: &Actor,
        id: &RequestId,
        raw: &InputConfig,
    ) -> Result<Versioned, FlowError> {
        let current = self.repo.get(id).await?.doc;
        refuse(decide(
            Action::Update,
            &current,
            actor,
            &self.projects.policy(),
        ))?;
        let module = self.registry.module(&current.module).ok_or_else(|| {
            FlowError::Conflict(format!(
                "module {} is no longer in the registry",
                current.module
            ))
        })?;
        let ctx = Target {
            request_id: &current.id,
            project: &current.project,
            environment: &current.environment,
        };
        let raw = app::domain::config::keep_redacted(module, &current.config, raw);
        let config = normalize(module, &raw, ctx).map_err(FlowError::Fields)?;
        check_update(module, &current.config, &config).map_err(FlowError::Fields)?;
        if app::domain::adopt::wants_import(&current) {
            app::domain::adopt::check(module, current.kind, &config)
                .map_err(|e| FlowError::Fields(e.field_errors()))?;
        }
        if let Some(pr) = current
            .pr
            .as_ref()
            .filter(|p| p.state == app::domain::request::PrState::Open)
        {
            self.git.close_pr(&current.project, pr.number).await?;
        }
        let login = actor.login.clone();
        let stored = self
            .act(actor, id, Some(Action::Update), |doc| {
                Ok(transitions::new_revision(doc, &config, &login, &self.now()))
            })
            .await?;
        self.spawn_advance(*id);
        Ok(stored)
    }
}
