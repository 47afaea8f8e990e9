//! What a job does, as the remediation actor `policy:<name>` through the
//! services the API uses: a new revision with the alert's inputs
//! (`update_inputs`), a new plan (`replan`), a notice (`notify`); then
//! [`Jobs::ship`] takes the request to applied or leaves it waiting for
//! a person. Each step is recorded on the job before the next, and each
//! is found done before it is done again.

use super::worker::Ended;
use super::{Jobs, remediation};
use crate::service::flow::FlowError;
use crate::store::journal::AuditRecord;
use crate::store::repo::RepoError;
use app::domain::config::normalize;
use app::domain::ids::{RequestId, Target};
use app::domain::jobs::{Job, JobAction, JobStatus};
use app::domain::policy::{Action, Actor, Credential, Role};
use app::domain::request::Request;
use std::sync::atomic::AtomicBool;

pub(super) fn failed(why: impl Into<String>) -> Ended {
    Ended::Done(JobStatus::Failed, why.into())
}

/// A flow error as the job's failure.
pub(super) fn flow_failed(what: &str, e: FlowError) -> Ended {
    match e {
        FlowError::Fields(errors) => failed(format!(
            "{what}: {}",
            errors
                .iter()
                .map(|f| format!("input {} {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        )),
        FlowError::Repo(RepoError::Store(e)) => Ended::Interrupted(e.to_string()),
        e => failed(format!("{what}: {e}")),
    }
}

impl Jobs {
    /// The actor a job acts as: its policy, with an approver's rights
    /// outside production and none in it.
    pub(super) fn actor(job: &Job) -> Actor {
        Actor {
            login: format!("policy:{}", job.policy.as_deref().unwrap_or("none")),
            role: Role::Approver,
            credential: Credential::Remediation,
        }
    }

    pub(super) async fn drive(&self, job: &Job, holder: &str, lost: &AtomicBool) -> Ended {
        let Some(action) = job.action.clone() else {
            return failed("the job has no action");
        };
        match self.drive_action(job, &action, holder, lost).await {
            Ok(ended) | Err(ended) => ended,
        }
    }

    async fn drive_action(
        &self,
        job: &Job,
        action: &JobAction,
        holder: &str,
        lost: &AtomicBool,
    ) -> Result<Ended, Ended> {
        let named = action.request.as_deref().unwrap_or_default();
        let id = RequestId::parse(named).map_err(|_| {
            failed(format!(
                "the policy names request `{}`, which is not a request id",
                named.chars().take(64).collect::<String>()
            ))
        })?;
        let doc = self.load(&id).await?;
        let actor = Self::actor(job);
        match action.kind.as_str() {
            "notify" => {
                if job.steps.notified.is_none() {
                    let message = action.message.as_deref().unwrap_or("an alert fired");
                    let notice = self
                        .notices
                        .remediation(&doc, &job.id, &actor.login, message)
                        .await;
                    self.record(&job.id, holder, |j| j.steps.notified = Some(notice.clone()))
                        .await?;
                    self.audit_step(job, &id, "job.notified", "notice stored")
                        .await;
                }
                Ok(Ended::Done(
                    JobStatus::Succeeded,
                    format!("told the people of request {id}"),
                ))
            }
            "update_inputs" => {
                let job = self
                    .file_revision(job, action, &doc, &actor, holder)
                    .await?;
                self.ship(&job, &id, holder, lost).await
            }
            "replan" => {
                let job = self.request_plan(job, &doc, &actor, holder).await?;
                self.ship(&job, &id, holder, lost).await
            }
            "reapply" => self.reapply(job, action, &doc, holder, lost).await,
            other => Err(failed(format!("unknown action `{other}`"))),
        }
    }

    /// `reapply`: the request's current config applied again on the tip
    /// of main (it reverts drift) — by the job where the policy
    /// auto-approves the environment (never production), else left to a
    /// person, who is told.
    async fn reapply(
        &self,
        job: &Job,
        action: &JobAction,
        doc: &Request,
        holder: &str,
        lost: &AtomicBool,
    ) -> Result<Ended, Ended> {
        let id = doc.id;
        let env = doc.environment.as_str();
        let auto = action.auto_approve_environments.iter().any(|e| e == env)
            && !self.guardrails.is_prod(env);
        if !auto {
            if job.steps.notified.is_none() {
                let message = format!(
                    "an alert asks to apply request {id} again (Revert on its page); {}",
                    if self.guardrails.is_prod(env) {
                        format!("{env} is production, so a person does it")
                    } else {
                        format!("the policy does not auto-approve {env}")
                    }
                );
                let actor = Self::actor(job);
                let notice = self
                    .notices
                    .remediation(doc, &job.id, &actor.login, &message)
                    .await;
                self.record(&job.id, holder, |j| j.steps.notified = Some(notice.clone()))
                    .await?;
            }
            return Ok(Ended::Done(
                JobStatus::WaitingApproval,
                format!("request {id} waits for a person to apply it again (Revert on its page)"),
            ));
        }
        let latest = doc.runs.apply.latest().map_or(0, |a| a.attempt);
        let wanted = job.steps.apply_requested;
        if wanted.is_none_or(|w| latest < w) {
            let job = match wanted {
                Some(_) => job.clone(),
                None => {
                    self.record(&job.id, holder, |j| {
                        j.steps.apply_requested = Some(latest + 1)
                    })
                    .await?
                }
            };
            self.flow
                .perform(&Self::actor(&job), &id, Action::Reapply)
                .await
                .map_err(|e| flow_failed("cannot apply the request again", e))?;
            self.audit_step(&job, &id, "job.reapply", "apply asked")
                .await;
        }
        self.ship(job, &id, holder, lost).await
    }

    pub(super) async fn load(&self, id: &RequestId) -> Result<Request, Ended> {
        match self.repo.get(id).await {
            Ok(v) => Ok(v.doc),
            Err(RepoError::NotFound(_)) => Err(failed(format!(
                "request {id} named by the alert does not exist (or was destroyed)"
            ))),
            Err(e) => Err(Ended::Interrupted(e.to_string())),
        }
    }

    /// `update_inputs`: the request's config with the alert's inputs,
    /// checked by the registry like any input, filed as a new revision
    /// through the same path as `PATCH /api/v1/requests/{id}` — unless
    /// the request already has exactly that config (filed before a stop).
    async fn file_revision(
        &self,
        job: &Job,
        action: &JobAction,
        doc: &Request,
        actor: &Actor,
        holder: &str,
    ) -> Result<Job, Ended> {
        if job.steps.revision_filed.is_some() {
            return Ok(job.clone());
        }
        let module = self.registry.module(&doc.module).ok_or_else(|| {
            failed(format!(
                "module {} is no longer in the registry",
                doc.module
            ))
        })?;
        let raw = remediation::apply_inputs(module, &doc.config, &action.inputs)
            .map_err(|e| failed(format!("input {} {}", e.field, e.message)))?;
        let target = Target {
            request_id: &doc.id,
            project: &doc.project,
            environment: &doc.environment,
        };
        let config = normalize(module, &raw, target).map_err(|errors| {
            flow_failed("the new inputs are invalid", FlowError::Fields(errors))
        })?;
        let revision = if config == doc.config {
            doc.revision
        } else {
            let stored = self
                .flow
                .update(actor, &doc.id, &raw)
                .await
                .map_err(|e| flow_failed("cannot file a new revision", e))?;
            if job.attempts == 1 {
                crate::crash::point("job.revision_filed");
            }
            stored.doc.revision
        };
        let job = self
            .record(&job.id, holder, |j| j.steps.revision_filed = Some(revision))
            .await?;
        self.audit_step(
            &job,
            &doc.id,
            "job.revision_filed",
            &format!("revision {revision}"),
        )
        .await;
        Ok(job)
    }

    /// `replan`: a new plan of the request's PR, asked once: the attempt
    /// it will be is recorded first, and found before it is asked again.
    async fn request_plan(
        &self,
        job: &Job,
        doc: &Request,
        actor: &Actor,
        holder: &str,
    ) -> Result<Job, Ended> {
        let latest = doc.runs.plan.latest().map_or(0, |a| a.attempt);
        let job = match job.steps.plan_requested {
            Some(wanted) if latest >= wanted => return Ok(job.clone()),
            Some(_) => job.clone(),
            None => {
                self.record(&job.id, holder, |j| {
                    j.steps.plan_requested = Some(latest + 1)
                })
                .await?
            }
        };
        self.flow
            .perform(actor, &doc.id, Action::Plan)
            .await
            .map_err(|e| flow_failed("cannot plan the request", e))?;
        self.audit_step(&job, &doc.id, "job.plan_requested", "plan asked")
            .await;
        Ok(job)
    }

    /// An audit record of one step, naming the job and its policy.
    pub(super) async fn audit_step(&self, job: &Job, id: &RequestId, what: &str, detail: &str) {
        let record = AuditRecord {
            at: self.clock.rfc3339_millis(),
            actor: Self::actor(job).login,
            action: what.to_owned(),
            request: Some(id.to_string()),
            before_version: None,
            after_version: None,
            detail: format!(
                "job {} (policy {}): {detail}",
                job.id,
                job.policy.as_deref().unwrap_or("-")
            ),
            count: 1,
            until: None,
            via: Some("remediation".into()),
        };
        if let Err(e) = self.audit.append(&record).await {
            tracing::error!(job = %job.id, "could not append the audit record: {e}");
        }
    }

    /// The audit record of a job's end.
    pub(super) async fn audit_end(&self, job: &Job) {
        let record = AuditRecord {
            at: self.clock.rfc3339_millis(),
            actor: Self::actor(job).login,
            action: format!("job.{}", job.status.as_str()),
            request: job.request.clone().filter(|r| RequestId::parse(r).is_ok()),
            before_version: None,
            after_version: None,
            detail: format!(
                "job {} (policy {}): {}",
                job.id,
                job.policy.as_deref().unwrap_or("-"),
                job.result.as_deref().unwrap_or_default()
            ),
            count: 1,
            until: None,
            via: Some("remediation".into()),
        };
        if let Err(e) = self.audit.append(&record).await {
            tracing::error!(job = %job.id, "could not append the audit record: {e}");
        }
    }
}
