//! The local executor (embedded default): real `terraform` on a fresh
//! checkout of the commit, state in a local backend under the data dir.
//!
//! Applies and destroys are serialized per project + environment, plans per
//! request. Run records live in the object store (`runs/<id>.json`), logs
//! and plans under `<data>/runs/<id>/`. Runs a previous process left
//! unfinished are marked failed at start, so they can be retried.

use super::plan::{PlanOutput, parse_show_json};
use super::{ExecError, Executor, RunInfo, RunKind, RunSpec};
use crate::git::local::LocalGit;
use crate::store::{ObjectStore, Precondition, StoreError, list_all};
use app::domain::request::{Conclusion, RunStatus};
use async_trait::async_trait;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::process::Command;
use tokio::sync::mpsc::UnboundedSender;

/// Runs terraform on this machine.
pub struct LocalExecutor {
    git: Arc<LocalGit>,
    records: Arc<dyn ObjectStore>,
    dir: PathBuf,
    timeout: Duration,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    completed: Option<UnboundedSender<RunInfo>>,
    terraform: PathBuf,
}

fn record_key(run_id: &str) -> String {
    format!("runs/{run_id}.json")
}

fn unavailable(e: impl std::fmt::Display) -> ExecError {
    ExecError::Unavailable(e.to_string())
}

impl LocalExecutor {
    /// Runs under `dir` (checkouts, logs, state), records in `records`;
    /// completed runs are also sent to `completed`.
    pub fn new(
        git: Arc<LocalGit>,
        records: Arc<dyn ObjectStore>,
        dir: impl Into<PathBuf>,
        timeout: Duration,
        completed: Option<UnboundedSender<RunInfo>>,
    ) -> Self {
        Self {
            git,
            records,
            dir: dir.into(),
            timeout,
            locks: Mutex::new(HashMap::new()),
            completed,
            terraform: PathBuf::from("terraform"),
        }
    }

    /// Uses this `terraform` binary (a name on the PATH or a path).
    pub fn with_terraform(mut self, terraform: impl Into<PathBuf>) -> Self {
        self.terraform = terraform.into();
        self
    }

    /// Starts again the runs a previous process left queued or running
    /// (same run id, fresh checkout): terraform converges, so a repeated
    /// plan or apply is safe, and the request is not left waiting.
    pub async fn recover(self: &Arc<Self>) -> Result<usize, ExecError> {
        let mut n = 0;
        for entry in list_all(self.records.as_ref(), "runs/")
            .await
            .map_err(unavailable)?
        {
            let Ok(obj) = self.records.get(&entry.key).await else {
                continue;
            };
            let Ok(mut info) = serde_json::from_slice::<RunInfo>(&obj.bytes) else {
                continue;
            };
            if info.status == RunStatus::Completed {
                continue;
            }
            info.status = RunStatus::Queued;
            let bytes = serde_json::to_vec(&info).expect("serializes");
            if self
                .records
                .put(&entry.key, bytes.into(), Precondition::IfMatch(obj.etag))
                .await
                .is_ok()
            {
                append(
                    &self.run_dir(&info.run_id).join("log.txt"),
                    "\n# tfpilot restarted while this run was in progress; running it again\n",
                )
                .await;
                tokio::spawn(self.clone().execute(info));
                n += 1;
            }
        }
        Ok(n)
    }

    fn lock_for(&self, spec: &RunSpec) -> Arc<tokio::sync::Mutex<()>> {
        let key = match spec.kind {
            RunKind::Plan => format!("plan/{}", spec.request),
            RunKind::Apply | RunKind::Destroy => {
                format!("state/{}/{}", spec.project, spec.environment)
            }
        };
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(key).or_default().clone()
    }

    fn run_dir(&self, run_id: &str) -> PathBuf {
        self.dir.join("runs").join(run_id)
    }

    /// The local state file of a project's environment.
    pub fn state_path(&self, spec: &RunSpec) -> PathBuf {
        self.dir
            .join("state")
            .join(spec.project.as_str())
            .join(format!("{}.tfstate", spec.environment))
    }

    async fn save(&self, info: &RunInfo) -> Result<(), ExecError> {
        let bytes = serde_json::to_vec(info).expect("serializes");
        self.records
            .put(&record_key(&info.run_id), bytes.into(), Precondition::None)
            .await
            .map(drop)
            .map_err(unavailable)
    }

    async fn execute(self: Arc<Self>, mut info: RunInfo) {
        let lock = self.lock_for(&info.spec);
        let _serialized = lock.lock().await;
        info.status = RunStatus::Running;
        if let Err(e) = self.save(&info).await {
            tracing::error!(run = %info.run_id, "cannot record the run: {e}");
        }
        let outcome = self.terraform(&info.spec).await;
        info.status = RunStatus::Completed;
        match outcome {
            Ok(summary) => {
                info.conclusion = Some(Conclusion::Success);
                info.summary = summary;
            }
            Err(e) => {
                info.conclusion = Some(Conclusion::Failure);
                info.error = Some(e);
            }
        }
        tracing::info!(run = %info.run_id, conclusion = ?info.conclusion, "run completed");
        if let Err(e) = self.save(&info).await {
            tracing::error!(run = %info.run_id, "cannot record the run's completion: {e}");
        }
        if let Some(tx) = &self.completed {
            let _ = tx.send(info);
        }
    }

    /// Checks out the commit and runs terraform; the error is one line for people.
    async fn terraform(
        &self,
        spec: &RunSpec,
    ) -> Result<Option<app::domain::request::PlanSummary>, String> {
        let run_dir = self.run_dir(&spec.run_id());
        // A fresh directory per execution: a run started again after a crash
        // never shares files with what the dead process left behind.
        let checkout = run_dir.join(format!("checkout-{:08x}", fastrand::u32(..)));
        tokio::fs::create_dir_all(&checkout)
            .await
            .map_err(|e| format!("cannot create {}: {e}", checkout.display()))?;
        self.git
            .export(&spec.project, &spec.sha, &checkout)
            .await
            .map_err(|e| format!("cannot check out {}: {e}", spec.sha))?;
        let env_dir = checkout.join("envs").join(spec.environment.as_str());
        let state = self.state_path(spec);
        if let Some(parent) = state.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| e.to_string())?;
        }
        let log = run_dir.join("log.txt");
        let backend = format!("-backend-config=path={}", state.display());
        self.tf(
            &env_dir,
            &log,
            &["init", "-input=false", "-no-color", &backend],
        )
        .await?;
        let summary = match spec.kind {
            RunKind::Plan => {
                self.tf(
                    &env_dir,
                    &log,
                    &[
                        "plan",
                        "-input=false",
                        "-no-color",
                        "-lock-timeout=120s",
                        "-out=tfplan",
                    ],
                )
                .await?;
                let json = self
                    .tf_output(&env_dir, &["show", "-json", "tfplan"])
                    .await?;
                let (summary, changes) =
                    parse_show_json(&json).map_err(|e| format!("cannot read the plan: {e}"))?;
                let plan = serde_json::json!({ "summary": summary, "changes": changes });
                tokio::fs::write(run_dir.join("plan.json"), plan.to_string())
                    .await
                    .map_err(|e| e.to_string())?;
                Some(summary)
            }
            RunKind::Apply | RunKind::Destroy => {
                self.tf(
                    &env_dir,
                    &log,
                    &[
                        "apply",
                        "-input=false",
                        "-no-color",
                        "-lock-timeout=120s",
                        "-auto-approve",
                    ],
                )
                .await?;
                None
            }
        };
        let _ = tokio::fs::remove_dir_all(&checkout).await;
        Ok(summary)
    }

    async fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.terraform);
        cmd.args(args)
            .current_dir(dir)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if std::env::var_os("TF_CLI_CONFIG_FILE").is_none() {
            cmd.env("TF_CLI_CONFIG_FILE", "/dev/null");
        }
        cmd
    }

    /// Runs terraform, appending its output to `log`.
    async fn tf(&self, dir: &Path, log: &Path, args: &[&str]) -> Result<(), String> {
        let out = self.run(dir, args).await?;
        let mut text = format!("$ terraform {}\n", args.join(" "));
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        append(log, &text).await;
        if out.status.success() {
            Ok(())
        } else {
            let last = String::from_utf8_lossy(&out.stderr)
                .lines()
                .find(|l| l.contains("Error"))
                .unwrap_or("see the run log")
                .trim()
                .to_owned();
            Err(format!("terraform {} failed: {last}", args[0]))
        }
    }

    async fn tf_output(&self, dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
        let out = self.run(dir, args).await?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(format!(
                "terraform {} failed: {}",
                args[0],
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    async fn run(&self, dir: &Path, args: &[&str]) -> Result<std::process::Output, String> {
        let mut cmd = self.command(dir, args).await;
        let child = cmd.output();
        match tokio::time::timeout(self.timeout, child).await {
            Err(_) => Err(format!(
                "terraform {} timed out after {:?}",
                args[0], self.timeout
            )),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Err(
                "terraform is not on the PATH of the tfpilot server; install it to run plans"
                    .into(),
            ),
            Ok(Err(e)) => Err(format!("cannot run terraform: {e}")),
            Ok(Ok(out)) => Ok(out),
        }
    }
}

async fn append(log: &Path, text: &str) {
    use tokio::io::AsyncWriteExt;
    if let Some(parent) = log.parent() {
        let _ = tokio::fs::create_dir_all(parent).await;
    }
    if let Ok(mut f) = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .await
    {
        let _ = f.write_all(text.as_bytes()).await;
    }
}

/// The executor as a shared handle (runs continue in background tasks).
#[derive(Clone)]
pub struct SharedLocalExecutor(pub Arc<LocalExecutor>);

#[async_trait]
impl Executor for SharedLocalExecutor {
    async fn dispatch(&self, spec: &RunSpec) -> Result<RunInfo, ExecError> {
        let run_id = spec.run_id();
        let info = RunInfo {
            run_id: run_id.clone(),
            spec: spec.clone(),
            url: None,
            status: RunStatus::Queued,
            conclusion: None,
            summary: None,
            error: None,
        };
        let bytes = serde_json::to_vec(&info).expect("serializes");
        match self
            .0
            .records
            .put(&record_key(&run_id), bytes.into(), Precondition::IfAbsent)
            .await
        {
            Ok(_) => {
                tokio::spawn(self.0.clone().execute(info.clone()));
                Ok(info)
            }
            Err(StoreError::Conflict(_)) => self.status(spec).await,
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn status(&self, spec: &RunSpec) -> Result<RunInfo, ExecError> {
        let run_id = &spec.run_id();
        let obj = self
            .0
            .records
            .get(&record_key(run_id))
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => ExecError::NotFound(format!("run {run_id}")),
                e => unavailable(e),
            })?;
        serde_json::from_slice(&obj.bytes)
            .map_err(|e| unavailable(format!("run record {run_id} is unreadable: {e}")))
    }

    async fn plan_output(&self, spec: &RunSpec) -> Result<PlanOutput, ExecError> {
        let run_id = &spec.run_id();
        let dir = self.0.run_dir(run_id);
        let plan = tokio::fs::read(dir.join("plan.json"))
            .await
            .map_err(|_| ExecError::NotFound(format!("no plan for run {run_id}")))?;
        #[derive(serde::Deserialize)]
        struct Stored {
            summary: app::domain::request::PlanSummary,
            changes: Vec<super::ResourceChange>,
        }
        let stored: Stored = serde_json::from_slice(&plan).map_err(unavailable)?;
        let log = tokio::fs::read_to_string(dir.join("log.txt"))
            .await
            .unwrap_or_default();
        Ok(PlanOutput {
            summary: stored.summary,
            changes: stored.changes,
            log,
        })
    }
}
