//! After a job's change is filed: follow the request through the normal
//! pipeline. In an environment the policy auto-approves (never a
//! production one) the job approves, merges and applies as its policy,
//! as a person would, and succeeds once the request is applied; anywhere
//! else it stops at `waiting_approval` with the request planned — the
//! approval-needed notice the flow sends tells the approvers. A job waits
//! on its request (plans, applies, refusals while the flow plans again) at
//! most `TFPILOT_JOBS_WAIT_SECS` by the `Clock`, counted from the first
//! wait and kept on the job across take-overs; then it fails saying so.

use super::Jobs;
use super::run::{failed, flow_failed};
use super::worker::Ended;
use crate::service::flow::FlowError;
use app::domain::ids::RequestId;
use app::domain::jobs::{Job, JobStatus, overdue};
use app::domain::policy::Action;
use app::domain::status::{Status, Step, derive_status};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often a job looks at its request while it waits for a run.
const WATCH: Duration = Duration::from_millis(250);

impl Jobs {
    pub(super) async fn ship(
        &self,
        job: &Job,
        id: &RequestId,
        holder: &str,
        lost: &AtomicBool,
    ) -> Result<Ended, Ended> {
        let actor = Self::actor(job);
        let mut job = job.clone();
        if job.steps.waiting_since.is_none() {
            let now = self.clock.unix_millis();
            job = self
                .record(&job.id, holder, |j| {
                    j.steps.waiting_since.get_or_insert(now);
                })
                .await?;
        }
        let since = job.steps.waiting_since.unwrap_or_default();
        let mut refused: Option<String> = None;
        loop {
            if lost.load(Ordering::SeqCst) {
                return Err(Ended::Lost);
            }
            let doc = self.load(id).await?;
            let env = doc.environment.as_str();
            let auto = job
                .action
                .as_ref()
                .is_some_and(|a| a.auto_approve_environments.iter().any(|e| e == env))
                && !self.guardrails.is_prod(env);
            let status = derive_status(&doc);
            let step = match status {
                Status::Created | Status::Planning | Status::Applying => None,
                Status::PlanReady if !auto => {
                    let why = if self.guardrails.is_prod(env) {
                        format!("{env} is production: remediations there always wait for a person")
                    } else {
                        format!("the policy does not auto-approve {env}")
                    };
                    return Ok(Ended::Done(
                        JobStatus::WaitingApproval,
                        format!("request {id} is planned and waits for an approver ({why})"),
                    ));
                }
                Status::PlanReady => Some(Action::Approve),
                Status::Approved => Some(Action::Merge),
                Status::Merged => Some(Action::Apply),
                Status::Applied => {
                    return Ok(Ended::Done(
                        JobStatus::Succeeded,
                        format!("request {id} is applied (revision {})", doc.revision),
                    ));
                }
                Status::Failed(Step::Plan) => {
                    return Err(failed(format!("the plan of request {id} failed")));
                }
                Status::Failed(step) => {
                    return Err(failed(format!(
                        "request {id} failed at its {} step",
                        step.as_str()
                    )));
                }
                Status::Destroying | Status::Destroyed => {
                    return Err(failed(format!("request {id} is being destroyed")));
                }
            };
            if let Some(action) = step {
                match self.flow.perform(&actor, id, action).await {
                    Ok(stored) => {
                        let attempt = |d: &app::domain::request::Request| {
                            d.runs.plan.latest().map_or(0, |a| a.attempt)
                        };
                        let (plan, merged, apply) = (
                            attempt(&stored.doc),
                            stored.doc.pr.as_ref().and_then(|p| p.merged_sha.clone()),
                            stored.doc.runs.apply.latest().map(|a| a.attempt),
                        );
                        job = self
                            .record(&job.id, holder, |j| match action {
                                Action::Approve => j.steps.approved = Some(plan),
                                Action::Merge => j.steps.merged = merged.clone(),
                                _ => j.steps.apply_requested = apply,
                            })
                            .await?;
                        self.audit_step(&job, id, &format!("job.{}", action.as_str()), "done")
                            .await;
                        continue;
                    }
                    // Main moved or the PR went stale: the flow plans again;
                    // the job waits for that plan.
                    Err(e @ (FlowError::Refused { .. } | FlowError::Conflict(_))) => {
                        refused = Some(format!("cannot {}: {e}", action.as_str()));
                    }
                    Err(e) => return Err(flow_failed(&format!("cannot {}", action.as_str()), e)),
                }
            }
            let (state, now) = (status.to_string(), self.clock.unix_millis());
            if let Some(why) = overdue(id.as_str(), &state, since, now, self.settings.wait_secs) {
                return Err(failed(match refused {
                    Some(last) => format!("{why}; last refused: {last}"),
                    None => why,
                }));
            }
            tokio::time::sleep(WATCH).await;
        }
    }
}
