//! Drift checks on HCP Terraform: a plan-only run in the environment's
//! workspace on a configuration version of the default branch's tip,
//! whose message, `tfpilot drift <project> <env> <run id> on <sha>`, finds
//! it again before another is created (and gives back the commit). The
//! run is waited out; `has-changes` and the plan's JSON make the report.

use super::state::{Phase, phase};
use super::{TfcExecutor, api, lock, unavailable};
use crate::exec::drift::parse_drift_json;
use crate::exec::{DriftReport, DriftSpec, ExecError};
use std::time::{Duration, Instant};

/// How long a drift run may take.
const DRIFT_WITHIN: Duration = Duration::from_secs(3 * 3600);

/// The commit of a drift run, from its message, if `message` is `spec`'s.
fn planned_at(spec: &DriftSpec, message: &str) -> Option<String> {
    message
        .strip_prefix(&spec.run_name())?
        .strip_prefix(" on ")
        .map(str::to_owned)
}

impl TfcExecutor {
    /// Creates the drift run of `spec` unless it exists, and waits for its
    /// report.
    pub(super) async fn drift_check(&self, spec: &DriftSpec) -> Result<DriftReport, ExecError> {
        let ws = self
            .workspaces
            .get(&(spec.project.clone(), spec.environment.clone()))
            .cloned()
            .ok_or_else(|| {
                ExecError::Invalid(format!(
                    "project {} has no HCP Terraform workspace for environment {}",
                    spec.project, spec.environment
                ))
            })?;
        let ws_id = self.workspace_id(&ws).await?;
        let key = spec.run_id.clone();
        let ours = |m: &str| planned_at(spec, m).is_some();
        let mut run = self.find_by(&key, &ws_id, ours).await?;
        let mine = run.is_none() && {
            let mut under_way = lock(&self.memory.dispatching);
            under_way.retain(|_, at| at.elapsed() < super::DISPATCH_WITHIN);
            under_way.insert(key.clone(), Instant::now()).is_none()
        };
        if mine {
            let created = self.create_drift(spec, &ws_id).await;
            // Known before the claim is dropped, so a caller waiting on the
            // claim finds the run when it sees the claim gone.
            if let Ok(created) = &created {
                lock(&self.memory.runs).insert(key.clone(), created.id.clone());
            }
            lock(&self.memory.dispatching).remove(&key);
            let created = created?;
            tracing::info!(run = %key, tfc_run = %created.id, workspace = %ws.name, "HCP Terraform drift run created");
            run = Some(created);
        }
        let (mut wait, max) = self.poll;
        let until = Instant::now() + DRIFT_WITHIN;
        let run = loop {
            match run {
                Some(r) if phase(&r.attributes.status, true).is_final() => break r,
                None if !lock(&self.memory.dispatching).contains_key(&key) => {
                    // The creator may have finished since this caller last
                    // looked: one more look before giving up.
                    run = self.find_by(&key, &ws_id, ours).await?;
                    if run.is_none() {
                        return Err(unavailable(format!(
                            "the drift run `{}` was not created",
                            spec.run_name()
                        )));
                    }
                    continue;
                }
                _ if Instant::now() >= until => {
                    return Err(unavailable(format!(
                        "the drift run `{}` did not finish within {DRIFT_WITHIN:?}",
                        spec.run_name()
                    )));
                }
                _ => {}
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(max);
            run = self.find_by(&key, &ws_id, ours).await?;
        };
        let url = self.run_url(&ws, &run.id);
        let status = run.attributes.status.as_str();
        if phase(status, true) != Phase::Succeeded {
            return Err(unavailable(format!(
                "the drift run ended {status} in HCP Terraform; see {url}"
            )));
        }
        let sha = planned_at(spec, &run.attributes.message)
            .ok_or_else(|| unavailable(format!("the drift run {} names no commit", run.id)))?;
        let changes = match (run.attributes.has_changes, run.related("plan")) {
            (Some(false), _) => Vec::new(),
            (_, Some(plan)) => {
                let json = self.plan_json(plan).await?;
                parse_drift_json(&json)
                    .map_err(|e| unavailable(format!("the JSON of plan {plan}: {e}")))?
            }
            (_, None) => return Err(unavailable(format!("the drift run {} has no plan", run.id))),
        };
        Ok(DriftReport {
            run_id: spec.run_id.clone(),
            sha,
            changes,
            url: Some(url),
        })
    }

    /// A speculative configuration version of the default branch's tip,
    /// and a plan-only run on it.
    async fn create_drift(
        &self,
        spec: &DriftSpec,
        ws_id: &str,
    ) -> Result<api::Resource<api::RunAttrs>, ExecError> {
        let branch = self.default_branch(&spec.project);
        let tip = self
            .tree
            .branch_head(&spec.project, &branch)
            .await
            .map_err(|e| unavailable(format!("cannot read {branch}: {e}")))?
            .ok_or_else(|| unavailable(format!("the infra repo has no {branch} branch")))?;
        let cv = self
            .upload_config(ws_id, &spec.project, &spec.environment, &tip, true)
            .await?;
        let message = format!("{} on {tip}", spec.run_name());
        self.create_run(&api::new_run(ws_id, &cv, &message, true, &[]))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::ids::{EnvName, ProjectKey};

    #[test]
    fn a_drift_run_is_known_by_its_message() {
        let spec = DriftSpec {
            project: ProjectKey::parse("sandbox").unwrap(),
            environment: EnvName::parse("dev").unwrap(),
            run_id: "drift-sandbox-dev-7".into(),
        };
        let table = [
            (
                "tfpilot drift sandbox dev drift-sandbox-dev-7 on f00d",
                Some("f00d"),
            ),
            ("tfpilot drift sandbox dev drift-sandbox-dev-7", None),
            (
                "tfpilot drift sandbox dev drift-sandbox-dev-70 on f00d",
                None,
            ),
            (
                "tfpilot drift sandbox prod drift-sandbox-dev-7 on f00d",
                None,
            ),
        ];
        for (message, sha) in table {
            assert_eq!(planned_at(&spec, message).as_deref(), sha, "{message}");
        }
    }
}
