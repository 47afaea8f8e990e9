//! Drift checks on GitHub Actions: `tfpilot-drift.yml`, dispatched on the
//! default branch with the drift run's id, named
//! `tfpilot drift <project> <env> <run id>` and found again by that name
//! before another is dispatched. The workflow shares the applies'
//! concurrency group; tfpilot follows the run to its end and reads its
//! artifact: the plan's exit code (0 no drift, 2 drift), its JSON and the
//! commit it planned.

use super::{ActionsExecutor, GhRun, unavailable};
use crate::exec::artifact;
use crate::exec::drift::parse_drift_json;
use crate::exec::{DriftReport, DriftSpec, ExecError};
use serde_json::json;
use std::time::{Duration, Instant};

/// The drift workflow's file.
pub const DRIFT_WORKFLOW: &str = "tfpilot-drift.yml";

/// How long a drift run may take, waiting behind applies included.
const DRIFT_WITHIN: Duration = Duration::from_secs(3 * 3600);

/// The name of a drift run's artifact.
pub fn drift_artifact_name(spec: &DriftSpec) -> String {
    format!("tfpilot-drift-{}", spec.run_id)
}

impl ActionsExecutor {
    /// Dispatches the drift run of `spec` unless it exists, and waits for
    /// its report.
    pub(super) async fn drift_check(&self, spec: &DriftSpec) -> Result<DriftReport, ExecError> {
        let repo = self.repo(&spec.project)?.to_owned();
        let name = spec.run_name();
        let mut run = self.find_named(&repo, DRIFT_WORKFLOW, &name).await?;
        if run.is_none() && self.claim(&spec.run_id) {
            let inputs = json!({
                "project": spec.project.as_str(),
                "environment": spec.environment.as_str(),
                "drift_run": spec.run_id,
            });
            self.send_dispatch(&spec.project, DRIFT_WORKFLOW, inputs, &spec.run_id)
                .await?;
        }
        let until = Instant::now() + DRIFT_WITHIN;
        let run = loop {
            match run {
                Some(r) if r.status.as_deref() == Some("completed") => break r,
                None if !self.recently_dispatched(&spec.run_id) => {
                    return Err(unavailable(format!(
                        "the drift run `{name}` was dispatched but never showed up in {repo}"
                    )));
                }
                _ if Instant::now() >= until => {
                    return Err(unavailable(format!(
                        "the drift run `{name}` did not finish within {DRIFT_WITHIN:?}"
                    )));
                }
                _ => {}
            }
            tokio::time::sleep(self.poll).await;
            run = self.find_named(&repo, DRIFT_WORKFLOW, &name).await?;
        };
        self.drift_report(spec, &repo, &run).await
    }

    /// The report of the completed drift `run`, from its artifact.
    async fn drift_report(
        &self,
        spec: &DriftSpec,
        repo: &str,
        run: &GhRun,
    ) -> Result<DriftReport, ExecError> {
        let read = match self.download(repo, run, &drift_artifact_name(spec)).await {
            Ok(zip) => artifact::read_drift(&zip)?,
            Err(ExecError::NotFound(_)) => artifact::DriftArtifact::default(),
            Err(e) => return Err(e),
        };
        let failed = |why: String| {
            unavailable(format!(
                "the drift run ended {}: {why}; see {}",
                run.conclusion.as_deref().unwrap_or("without a conclusion"),
                run.html_url
            ))
        };
        let changes = match (run.conclusion.as_deref(), read.exit_code) {
            (Some("success"), Some(0)) => Vec::new(),
            (Some("success"), Some(2)) => {
                let json = read
                    .plan_json
                    .ok_or_else(|| failed("its artifact has no plan.json".into()))?;
                parse_drift_json(&json)
                    .map_err(|e| unavailable(format!("plan.json of the drift run: {e}")))?
            }
            _ => {
                let line = read
                    .log
                    .lines()
                    .find(|l| l.contains("Error"))
                    .unwrap_or("terraform plan did not finish")
                    .trim()
                    .to_owned();
                return Err(failed(line));
            }
        };
        let sha = read
            .ran_at
            .ok_or_else(|| failed("its artifact has no ran_at.txt".into()))?;
        Ok(DriftReport {
            run_id: spec.run_id.clone(),
            sha,
            changes,
            url: Some(run.html_url.clone()),
        })
    }
}
