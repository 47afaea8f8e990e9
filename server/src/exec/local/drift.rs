//! The local drift check: `terraform plan -detailed-exitcode` of the tip
//! of the default branch, holding the environment as an apply does (its
//! lock here, its lease across processes), on a fresh checkout removed
//! afterwards. The report is recorded under `drift-runs/<id>.json`, so a
//! check asked for again by its id is answered, not run twice.

use super::LocalExecutor;
use super::records::unavailable;
use super::terraform::append;
use crate::exec::checkouts::Checkout;
use crate::exec::drift::parse_drift_json;
use crate::exec::{DriftReport, DriftSpec, ExecError};
use crate::store::{Precondition, StoreError};
use std::path::Path;

fn record_key(run_id: &str) -> String {
    format!("drift-runs/{run_id}.json")
}

impl LocalExecutor {
    pub(super) async fn drift_check(&self, spec: &DriftSpec) -> Result<DriftReport, ExecError> {
        let key = record_key(&spec.run_id);
        if let Some(done) = self.drift_record(&key).await? {
            return Ok(done);
        }
        let _env = self.environment(&spec.project, &spec.environment).await;
        // Asked again while the first check held the environment: its answer.
        if let Some(done) = self.drift_record(&key).await? {
            return Ok(done);
        }
        let _slot = self.slots.clone().acquire_owned().await;
        let run_dir = self.dir.join("drift").join(&spec.run_id);
        let checkout = Checkout::reserve(&run_dir).map_err(|e| {
            unavailable(format!(
                "cannot prepare a checkout in {}: {e}",
                run_dir.display()
            ))
        })?;
        let outcome = self.drift_in(spec, &run_dir, &checkout.dir).await;
        let dir = checkout.dir.clone();
        if let Err(e) = checkout.remove().await {
            tracing::warn!(run = %spec.run_id, "cannot remove the checkout {}: {e}", dir.display());
        }
        let report = outcome.map_err(ExecError::Unavailable)?;
        let bytes = serde_json::to_vec(&report).map_err(unavailable)?;
        match self
            .records
            .put(&key, bytes.into(), Precondition::IfAbsent)
            .await
        {
            Ok(_) | Err(StoreError::Conflict(_)) => Ok(report),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// The report recorded under `key`, if the check already ran.
    async fn drift_record(&self, key: &str) -> Result<Option<DriftReport>, ExecError> {
        match self.records.get(key).await {
            Ok(obj) => serde_json::from_slice(&obj.bytes)
                .map(Some)
                .map_err(unavailable),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn drift_in(
        &self,
        spec: &DriftSpec,
        run_dir: &Path,
        checkout: &Path,
    ) -> Result<DriftReport, String> {
        let branch = self.git.default_branch(&spec.project);
        let sha = self
            .git
            .branch_head(&spec.project, &branch)
            .await
            .map_err(|e| format!("cannot read {branch}: {e}"))?
            .ok_or_else(|| format!("the infra repo has no {branch} branch"))?;
        tokio::fs::create_dir_all(checkout)
            .await
            .map_err(|e| format!("cannot create {}: {e}", checkout.display()))?;
        self.git
            .export(&spec.project, &sha, checkout)
            .await
            .map_err(|e| format!("cannot check out {sha}: {e}"))?;
        let env_dir = checkout.join("envs").join(spec.environment.as_str());
        let backend = self
            .backend(&spec.project, &spec.environment, &env_dir)
            .await?;
        let log = run_dir.join("log.txt");
        append(&log, &format!("# drift check on the tip of main, {sha}\n")).await;
        self.tf(
            &env_dir,
            &log,
            &["init", "-input=false", "-no-color", &backend],
        )
        .await?;
        let args = [
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            "-lock-timeout=120s",
            "-out=tfplan",
        ];
        append(&log, &format!("$ terraform {}\n", args.join(" "))).await;
        let out = self.run(&env_dir, &args).await?;
        append(&log, &String::from_utf8_lossy(&out.stdout)).await;
        append(&log, &String::from_utf8_lossy(&out.stderr)).await;
        let changes = match out.status.code() {
            Some(0) => Vec::new(),
            Some(2) => {
                let json = self
                    .tf_output(&env_dir, &["show", "-json", "tfplan"])
                    .await?;
                parse_drift_json(&json).map_err(|e| format!("cannot read the plan: {e}"))?
            }
            _ => {
                let last = String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .find(|l| l.contains("Error"))
                    .unwrap_or("see the drift run's log")
                    .trim()
                    .to_owned();
                return Err(format!("terraform plan failed: {last}"));
            }
        };
        Ok(DriftReport {
            run_id: spec.run_id.clone(),
            sha,
            changes,
            url: None,
        })
    }
}
