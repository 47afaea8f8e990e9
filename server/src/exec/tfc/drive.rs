//! A TFC run as tfpilot reports it, and the driving of applies and
//! destroys: a run waiting for confirmation has its saved plan checked
//! against the run's scope; within it, `actions/apply`; outside it,
//! `actions/discard` and the run is `Blocked`. Every process that reads
//! the run decides the same from the same plan, and an action TFC refuses
//! because the run already moved on (409) is fine.

use super::api::{Resource, RunAttrs};
use super::client::Retry;
use super::state::{Phase, phase};
use super::{TfcExecutor, Workspace, lock, unavailable};
use crate::exec::{ExecError, PlanOutput, RunInfo, RunKind, RunSpec, Unexpected};
use app::domain::request::{Conclusion, RunStatus};
use app::domain::scope::{self, PlannedChange};
use reqwest::Method;

impl TfcExecutor {
    /// The run of `spec` as tfpilot reports it, after driving it a step
    /// when it waits for tfpilot.
    pub(super) async fn describe(
        &self,
        spec: &RunSpec,
        ws: &Workspace,
        ws_id: &str,
        run: Resource<RunAttrs>,
    ) -> Result<RunInfo, ExecError> {
        let mut info = RunInfo {
            url: Some(self.run_url(ws, &run.id)),
            ran_at: super::ran_at(spec, &run.attributes.message),
            ..RunInfo::queued(spec)
        };
        let mut step = phase(&run.attributes.status, spec.kind == RunKind::Plan);
        if step == Phase::AwaitingConfirmation
            && run
                .attributes
                .actions
                .as_ref()
                .is_some_and(|a| !a.is_confirmable)
        {
            // Not confirmable yet (a post-plan stage may still run).
            step = Phase::Running;
        }
        if step != Phase::Waiting {
            lock(&self.memory.busy).remove(&spec.run_id());
        }
        match step {
            Phase::Waiting => {
                if self.busy(ws_id, &run).await? {
                    lock(&self.memory.busy).insert(spec.run_id());
                }
                return Ok(info);
            }
            Phase::Running => {
                info.status = RunStatus::Running;
                return Ok(info);
            }
            Phase::AwaitingConfirmation => {
                let plan = self.plan_of(spec, &run).await?;
                let blocked = check(spec, &plan)?;
                if blocked.is_empty() {
                    self.act(&run.id, "apply", "within the scope tfpilot approved")
                        .await?;
                    info.status = RunStatus::Running;
                    return Ok(info);
                }
                self.act(&run.id, "discard", &scope::describe(&blocked))
                    .await?;
                info.summary = Some(plan.summary);
                info.conclusion = Some(Conclusion::Blocked);
                info.error = Some(scope::describe(&blocked));
                info.blocked = blocked;
            }
            Phase::AwaitingOverride => {
                // tfpilot never overrides a policy: the run ends here.
                self.act(&run.id, "discard", "a policy check soft-failed")
                    .await?;
                info.conclusion = Some(Conclusion::Failure);
                info.error = Some(
                    "a policy check soft-failed; the run was discarded and nothing was applied"
                        .into(),
                );
                info.summary = self.read_plan(&run).await?.map(|p| p.summary);
            }
            Phase::Succeeded => {
                info.conclusion = Some(Conclusion::Success);
                info.summary = Some(self.plan_of(spec, &run).await?.summary);
            }
            Phase::Discarded => {
                let plan = self.read_plan(&run).await?;
                info.summary = plan.as_ref().map(|p| p.summary);
                let blocked = match &plan {
                    Some(plan) if spec.kind != RunKind::Plan => check(spec, plan)?,
                    _ => Vec::new(),
                };
                if blocked.is_empty() {
                    info.conclusion = Some(Conclusion::Cancelled);
                    info.error = Some("the run was discarded in HCP Terraform".into());
                } else {
                    info.conclusion = Some(Conclusion::Blocked);
                    info.error = Some(scope::describe(&blocked));
                    info.blocked = blocked;
                }
            }
            Phase::Canceled => {
                info.conclusion = Some(Conclusion::Cancelled);
                info.error = Some("the run was canceled in HCP Terraform".into());
                info.summary = self.read_plan(&run).await?.map(|p| p.summary);
            }
            Phase::Errored => {
                info.conclusion = Some(Conclusion::Failure);
                info.summary = self.read_plan(&run).await?.map(|p| p.summary);
            }
        }
        info.status = RunStatus::Completed;
        info.checks = self.checks(&run).await;
        if info.conclusion == Some(Conclusion::Failure) && info.error.is_none() {
            info.error = Some(match info.checks.iter().find(|c| c.blocking) {
                Some(c) => format!("the policy check {} {}: {}", c.name, c.outcome, c.detail),
                None => "the HCP Terraform run errored; see its log".into(),
            });
        }
        if step.is_final() {
            self.memory.finals.put(spec.run_id(), info.clone());
        }
        Ok(info)
    }

    /// The plan of a run whose plan is done (an error otherwise).
    async fn plan_of(
        &self,
        spec: &RunSpec,
        run: &Resource<RunAttrs>,
    ) -> Result<PlanOutput, ExecError> {
        self.read_plan(run).await?.ok_or_else(|| {
            unavailable(format!(
                "the plan of {} is not readable yet",
                crate::exec::run_name(spec)
            ))
        })
    }

    /// Whether a pending run waits behind other runs or a lock.
    async fn busy(&self, ws_id: &str, run: &Resource<RunAttrs>) -> Result<bool, ExecError> {
        if run.attributes.position_in_queue.unwrap_or(0) > 0 {
            return Ok(true);
        }
        let reply = self
            .client
            .api(
                Method::GET,
                &format!("/workspaces/{ws_id}"),
                None,
                Retry::Safe,
            )
            .await
            .map_err(unavailable)?;
        if reply.status.as_u16() != 200 {
            return Err(unavailable(reply.error("workspace")));
        }
        let doc: super::api::Doc<Resource<super::api::WorkspaceAttrs>> =
            reply.decode("workspace").map_err(unavailable)?;
        // An active run locks the workspace too.
        Ok(doc.data.attributes.locked)
    }

    /// `actions/apply` or `actions/discard`; a 409 means the run already
    /// moved on (another process acted), which is fine.
    async fn act(&self, run: &str, action: &str, why: &str) -> Result<(), ExecError> {
        let body = super::api::comment(&format!("tfpilot: {why}"));
        let reply = self
            .client
            .api(
                Method::POST,
                &format!("/runs/{run}/actions/{action}"),
                Some(&body),
                Retry::Safe,
            )
            .await
            .map_err(unavailable)?;
        match reply.status.as_u16() {
            200..=299 | 409 => {
                tracing::info!(tfc_run = run, action, "{why}");
                Ok(())
            }
            _ => Err(unavailable(reply.error(&format!("{action} of run {run}")))),
        }
    }
}

/// The changes of `plan` outside `spec`'s scope.
fn check(spec: &RunSpec, plan: &PlanOutput) -> Result<Vec<Unexpected>, ExecError> {
    let scope = spec
        .scope
        .as_ref()
        .ok_or_else(|| ExecError::Invalid(format!("run {} has no scope", spec.run_id())))?;
    let planned: Vec<PlannedChange> = plan
        .changes
        .iter()
        .map(|c| PlannedChange {
            address: c.address.clone(),
            action: c.action.clone(),
        })
        .collect();
    Ok(scope::check(scope, &planned))
}
