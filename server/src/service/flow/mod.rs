//! The request workflow: from a stored request to a PR, a plan, an
//! approval, a merge, an apply — and through a cleanup PR to destroyed.
//!
//! Actions (`approve`, `merge`, `apply`, …) are decided by the one policy
//! function and recorded with compare-and-swap; everything that follows is
//! done by [`Flow::advance`], an idempotent step driver that looks for what
//! each step would create before creating it. It runs after every action,
//! when a run completes, and periodically for every unfinished request (the
//! reconciler), so a crash at any point is repaired, never duplicated.

mod advance;
mod scope;

pub use app::domain::transitions::short;
pub use scope::waiting_for_apply;

use super::index::Index;
use crate::auth::now;
use crate::exec::{Executor, RunInfo, RunKind, RunSpec};
use crate::git::{GitError, GitHost};
use crate::store::journal::{AuditLog, AuditRecord};
use crate::store::repo::{RepoError, RequestRepo, Versioned};
use app::domain::config::{Config as InputConfig, Context, FieldError, check_update, normalize};
use app::domain::ids::RequestId;
use app::domain::policy::{Action, Actor, Decision, Policy, decide};
use app::domain::registry::Registry;
use app::domain::request::{Attempt, Event, Request, RunHistory, RunStatus};
use app::domain::transitions::{self, Refusal};
use std::sync::Arc;

/// Why an action was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The caller may not (403).
    #[error("{reason}")]
    Forbidden {
        /// Rule id.
        rule: String,
        /// Why.
        reason: String,
    },
    /// The state forbids it (409).
    #[error("{0}")]
    Conflict(String),
    /// The state forbids it by a named rule (409 with the rule, e.g.
    /// `approval.stale`).
    #[error("{reason}")]
    Refused {
        /// Rule id.
        rule: String,
        /// Why.
        reason: String,
    },
    /// The new config is invalid (422).
    #[error("the config is invalid")]
    Fields(Vec<FieldError>),
    /// The git host failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The executor failed.
    #[error(transparent)]
    Exec(#[from] crate::exec::ExecError),
    /// The store failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// The workflow over the ports.
pub struct Flow {
    registry: Arc<Registry>,
    policy: Policy,
    repo: RequestRepo,
    index: Arc<Index>,
    audit: AuditLog,
    git: Arc<dyn GitHost>,
    exec: Arc<dyn Executor>,
    /// One step driver at a time per request (striped) in this process;
    /// across replicas the CAS writes and found-before-created steps hold.
    advancing: Arc<[tokio::sync::Mutex<()>; ADVANCE_STRIPES]>,
}

const ADVANCE_STRIPES: usize = 64;

/// The branch of a request's revision.
pub fn request_branch(id: &RequestId, revision: u32) -> String {
    if revision <= 1 {
        format!("request/{id}")
    } else {
        format!("request/{id}-r{revision}")
    }
}

/// The branch of a request's cleanup.
pub fn cleanup_branch(id: &RequestId) -> String {
    format!("cleanup/{id}")
}

fn refuse(decision: Decision) -> Result<(), FlowError> {
    match decision {
        Decision::Allowed => Ok(()),
        Decision::Forbidden { rule, reason } => Err(FlowError::Forbidden { rule, reason }),
        Decision::Conflict { reason, rule: None } => Err(FlowError::Conflict(reason)),
        Decision::Conflict {
            reason,
            rule: Some(rule),
        } => Err(FlowError::Refused { rule, reason }),
    }
}

fn event(actor: &str, kind: &str, detail: impl Into<String>) -> Event {
    transitions::event(&now(), actor, kind, detail)
}

impl From<Refusal> for FlowError {
    fn from(refusal: Refusal) -> Self {
        match refusal.rule() {
            Some(rule) => FlowError::Refused {
                rule: rule.to_owned(),
                reason: refusal.to_string(),
            },
            None => FlowError::Conflict(refusal.to_string()),
        }
    }
}

/// The domain's name for a kind of run.
fn domain_kind(kind: RunKind) -> transitions::RunKind {
    match kind {
        RunKind::Plan => transitions::RunKind::Plan,
        RunKind::Apply => transitions::RunKind::Apply,
        RunKind::Destroy => transitions::RunKind::Destroy,
    }
}

/// [`transitions::queue_attempt`] now.
fn queue_attempt(
    doc: &mut Request,
    kind: RunKind,
    actor: &str,
    reason: Option<String>,
) -> Result<u32, FlowError> {
    Ok(transitions::queue_attempt(
        doc,
        domain_kind(kind),
        actor,
        reason,
        &now(),
    )?)
}

fn history(doc: &Request, kind: RunKind) -> &RunHistory {
    transitions::history(doc, domain_kind(kind))
}

fn history_mut(doc: &mut Request, kind: RunKind) -> &mut RunHistory {
    transitions::history_mut(doc, domain_kind(kind))
}

/// [`transitions::void_approval`] now.
fn void_approval(doc: &mut Request, actor: &str, why: &str) {
    transitions::void_approval(doc, actor, why, &now());
}

impl Flow {
    /// Wires the workflow.
    pub fn new(
        registry: Arc<Registry>,
        policy: Policy,
        repo: RequestRepo,
        index: Arc<Index>,
        audit: AuditLog,
        git: Arc<dyn GitHost>,
        exec: Arc<dyn Executor>,
    ) -> Self {
        Self {
            registry,
            policy,
            repo,
            index,
            audit,
            git,
            exec,
            advancing: Arc::new(std::array::from_fn(|_| tokio::sync::Mutex::new(()))),
        }
    }

    fn advance_lock(&self, id: &RequestId) -> &tokio::sync::Mutex<()> {
        let stripe = id
            .as_str()
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
        &self.advancing[stripe % ADVANCE_STRIPES]
    }

    /// Main moved (a merge): every open PR of the project is marked stale
    /// at once (its page and row say so, approve and merge refuse it); the
    /// reconciler's next pass over waiting PRs — or an approve or merge
    /// refused as stale — brings each branch up to date and plans it
    /// again, so a burst of merges costs one new plan per PR, not one per
    /// merge.
    pub(super) fn main_moved(self: &Arc<Self>, project: &app::domain::ids::ProjectKey) {
        let flow = self.clone();
        let project = project.clone();
        tokio::spawn(async move {
            let tip = match flow.main_tip(&project).await {
                Ok(tip) => tip,
                Err(e) => return tracing::warn!(%project, "cannot read main: {e}"),
            };
            let mut cursor = None;
            loop {
                let page = flow.index.query(&super::index::Query {
                    project: Some(project.to_string()),
                    limit: 500,
                    cursor,
                    ..Default::default()
                });
                for row in &page.items {
                    if !matches!(&*row.status, "planning" | "plan_ready" | "approved") {
                        continue;
                    }
                    let marked = flow
                        .record_if(&row.id, |next| {
                            let pr = next.pr.as_mut().filter(|p| p.merged_sha.is_none())?;
                            (pr.base_sha.as_deref() != Some(&tip)
                                && pr.main_sha.as_deref() != Some(&tip))
                            .then(|| pr.main_sha = Some(tip.clone()))
                        })
                        .await;
                    if let Err(e) = marked {
                        tracing::warn!(request = %row.id, "cannot mark the plan stale: {e}");
                    }
                }
                match page.next_cursor.and_then(|c| RequestId::parse(&c).ok()) {
                    Some(c) => cursor = Some(c),
                    None => return,
                }
            }
        });
    }

    /// Applies `f` with CAS after re-checking `action` on the fresh
    /// document; records the event, indexes and audits the write.
    async fn act(
        &self,
        actor: &Actor,
        id: &RequestId,
        action: Option<Action>,
        f: impl FnMut(&Request) -> Result<Request, FlowError>,
    ) -> Result<Versioned, FlowError> {
        let mut f = f;
        let policy = &self.policy;
        let stored = self
            .repo
            .update(id, now, |doc| {
                if let Some(action) = action {
                    refuse(decide(action, doc, actor, policy))?;
                }
                f(doc)
            })
            .await??;
        self.index.upsert(&stored.doc, &stored.etag);
        let record = AuditRecord {
            at: now(),
            actor: actor.login.clone(),
            action: format!("request.{}", action.map_or("system", Action::as_str)),
            request: Some(id.to_string()),
            // The repo bumps the version by exactly one per write.
            before_version: Some(stored.doc.version - 1),
            after_version: Some(stored.doc.version),
            detail: stored
                .doc
                .events
                .last()
                .map(|e| e.kind.clone())
                .unwrap_or_default(),
            count: 1,
            until: None,
        };
        if let Err(e) = self.audit.append(&record).await {
            tracing::error!(request = %id, "could not append the audit record: {e}");
        }
        Ok(stored)
    }

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

    /// The tip of the project's main branch.
    pub(super) async fn main_tip(
        &self,
        project: &app::domain::ids::ProjectKey,
    ) -> Result<String, FlowError> {
        // Seeds the repo on first use, like every step that needs it.
        Ok(self.git.ensure_repo(project).await?)
    }

    async fn audit_refusal<T>(
        &self,
        result: &Result<T, FlowError>,
        actor: &Actor,
        id: &RequestId,
        action: Action,
    ) {
        let Err(FlowError::Forbidden { rule, reason }) = result else {
            return;
        };
        let record = AuditRecord {
            at: now(),
            actor: actor.login.clone(),
            action: "auth.denied".into(),
            request: Some(id.to_string()),
            before_version: None,
            after_version: None,
            detail: format!("{} refused by {rule}: {reason}", action.as_str()),
            count: 1,
            until: None,
        };
        // Identical refusals fold into one record with a count.
        let kind = format!("{}:{rule}", action.as_str());
        if let Err(e) = self.audit.append_refusal(&record, &kind).await {
            tracing::error!(request = %id, "could not append the audit record: {e}");
        }
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
                refuse(decide(action, &doc, actor, &self.policy))?;
                let tip = self.main_tip(&doc.project).await?;
                self.act(actor, id, Some(action), |doc| {
                    Ok(transitions::plan(doc, &login, &tip, &now())?)
                })
                .await?
            }
            Action::Apply => {
                self.act(actor, id, Some(action), |doc| {
                    Ok(transitions::apply(doc, &login, &now())?)
                })
                .await?
            }
            Action::Confirm => self.confirm(actor, id, None).await?,
            Action::Approve => {
                let doc = self.repo.get(id).await?.doc;
                refuse(decide(action, &doc, actor, &self.policy))?;
                let tip = self.main_tip(&doc.project).await?;
                self.act(actor, id, Some(action), |doc| {
                    Ok(transitions::approve(doc, &login, &tip, &now())?)
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
        refuse(decide(Action::Merge, &doc, actor, &self.policy))?;
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
        let merged = match self
            .git
            .merge_pr(&doc.project, pr.number, &pr.head_sha)
            .await
        {
            Ok(merged) => merged,
            Err(GitError::MergeConflict(_)) => {
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
            Err(e) => return Err(e.into()),
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
                    &now(),
                ))
            })
            .await?;
        self.main_moved(&doc.project);
        Ok(stored)
    }

    async fn destroy(&self, actor: &Actor, id: &RequestId) -> Result<Versioned, FlowError> {
        let doc = self.repo.get(id).await?.doc;
        refuse(decide(Action::Destroy, &doc, actor, &self.policy))?;
        // Idempotent: a repeated destroy finds the same branch, commit and PR.
        let cleanup = self.open_cleanup(&doc).await?;
        let login = actor.login.clone();
        self.act(actor, id, Some(Action::Destroy), |doc| {
            Ok(transitions::request_destroy(doc, &cleanup, &login, &now()))
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
                    &now(),
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
            Ok(transitions::retry(doc, &login, &now())?)
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
        refuse(decide(Action::Update, &current, actor, &self.policy))?;
        let module = self.registry.module(&current.module).ok_or_else(|| {
            FlowError::Conflict(format!(
                "module {} is no longer in the registry",
                current.module
            ))
        })?;
        let ctx = Context {
            request_id: &current.id,
            project: &current.project,
            environment: &current.environment,
        };
        let raw = app::domain::config::keep_redacted(module, &current.config, raw);
        let config = normalize(module, &raw, ctx).map_err(FlowError::Fields)?;
        check_update(module, &current.config, &config).map_err(FlowError::Fields)?;
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
                Ok(transitions::new_revision(doc, &config, &login, &now()))
            })
            .await?;
        self.spawn_advance(*id);
        Ok(stored)
    }

    /// How many runs wait ahead of this attempt for a terraform slot, while
    /// it waits (`queued (n ahead)`).
    pub fn queued_ahead(&self, attempt: &Attempt) -> Option<usize> {
        (attempt.status == RunStatus::Queued)
            .then(|| self.exec.queued_ahead(&attempt.run_id))
            .flatten()
    }

    /// Runs [`Flow::advance`] in the background, logging failures.
    pub fn spawn_advance(self: &Arc<Self>, id: RequestId) {
        let flow = self.clone();
        tokio::spawn(async move {
            if let Err(e) = flow.advance(&id).await {
                tracing::warn!(request = %id, "could not advance the request (the reconciler retries): {e}");
            }
        });
    }

    /// Feeds a completed run back into its request.
    pub async fn on_run(self: &Arc<Self>, info: RunInfo) {
        let id = info.spec.request;
        if let Err(e) = self.advance(&id).await {
            tracing::warn!(request = %id, "could not record run {}: {e}", info.run_id);
        }
    }

    /// Advances every unfinished request once (the reconciler's pass);
    /// with `waiting`, also those whose open PR waits for a person (it may
    /// have been merged or changed on the host without a webhook).
    pub async fn reconcile_all(self: &Arc<Self>, waiting: bool) -> usize {
        let mut n = 0;
        let mut cursor = None;
        loop {
            let page = self.index.query(&super::index::Query {
                limit: 500,
                cursor,
                ..Default::default()
            });
            for row in &page.items {
                let due = match &*row.status {
                    "created" | "planning" | "applying" | "destroying" => true,
                    "plan_ready" | "approved" => waiting,
                    _ => false,
                };
                if due {
                    n += 1;
                    if let Err(e) = self.advance(&row.id).await {
                        tracing::warn!(request = %row.id, "reconciler could not advance: {e}");
                    }
                }
            }
            match page.next_cursor.and_then(|c| RequestId::parse(&c).ok()) {
                Some(c) => cursor = Some(c),
                None => return n,
            }
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

    fn spec(doc: &Request, kind: RunKind, attempt: &Attempt) -> RunSpec {
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

#[cfg(test)]
mod tests;
