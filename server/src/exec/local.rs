//! The local executor (embedded default): real `terraform` on a fresh
//! checkout, state in a local backend under the data dir.
//!
//! Plans run at their commit. Applies and destroys run on the tip of main
//! at the moment they start: `plan -out`, the saved plan's changes checked
//! against the run's scope (`domain::scope::check`), then `apply <planfile>`
//! — or the run ends `blocked` with nothing applied. They are serialized
//! per project + environment, in this process by a lock and across
//! processes sharing the store by a lease (`locks/apply/<project>/<env>`);
//! plans per request. Run records live in the object store
//! (`runs/<id>.json`), logs and plans under `<data>/runs/<id>/`; every
//! checkout is removed when its run ends, and the checkouts of runs a
//! crash killed are swept at start (`checkouts.rs`). Runs a previous
//! process left unfinished are then started again, through the same
//! checked path.

use super::checkouts::Checkout;
use super::locks::KeyedLocks;
use super::plan::{PlanOutput, parse_show_json};
use super::{ExecError, Executor, RunInfo, RunKind, RunSpec};
use crate::config::S3Settings;
use crate::git::TreeExport;
use crate::store::lease::Lease;
use crate::store::{ObjectStore, Precondition, StoreError, list_all};
use app::domain::request::{Conclusion, RunStatus};
use app::domain::scope::PlannedChange;
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::process::Command;
use tokio::sync::mpsc::UnboundedSender;

/// Runs terraform on this machine.
pub struct LocalExecutor {
    git: Arc<dyn TreeExport>,
    records: Arc<dyn ObjectStore>,
    dir: PathBuf,
    timeout: Duration,
    locks: KeyedLocks,
    completed: Option<UnboundedSender<RunInfo>>,
    terraform: PathBuf,
    s3_state: Option<(String, S3Settings)>,
    /// This process, as a lease holder.
    holder: String,
    /// At most this many terraform runs at once.
    slots: Arc<tokio::sync::Semaphore>,
    /// Runs not started yet, oldest first (`queued (n ahead)`).
    waiting: Mutex<std::collections::VecDeque<String>>,
}

/// How long an environment's apply lease lives without renewal.
const LEASE_TTL: Duration = Duration::from_secs(30);

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
        git: Arc<dyn TreeExport>,
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
            locks: KeyedLocks::default(),
            completed,
            terraform: PathBuf::from("terraform"),
            s3_state: None,
            holder: format!("{}-{:08x}", std::process::id(), fastrand::u32(..)),
            slots: Arc::new(tokio::sync::Semaphore::new(2)),
            waiting: Mutex::new(Default::default()),
        }
    }

    fn enqueue(&self, run_id: &str) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if !waiting.iter().any(|r| r == run_id) {
            waiting.push_back(run_id.to_owned());
        }
    }

    fn started(&self, run_id: &str) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        waiting.retain(|r| r != run_id);
    }

    /// How many runs wait ahead of `run_id`, while it waits.
    pub fn ahead(&self, run_id: &str) -> Option<usize> {
        let waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        waiting.iter().position(|r| r == run_id)
    }

    /// Runs at most `n` terraform runs at once (`TFPILOT_MAX_RUNS`).
    pub fn with_max_runs(mut self, n: usize) -> Self {
        self.slots = Arc::new(tokio::sync::Semaphore::new(n.max(1)));
        self
    }

    /// Keeps the state in S3 (`<bucket>/<project>/<env>/terraform.tfstate`,
    /// locked with `use_lockfile`) instead of under the data dir.
    pub fn with_s3_state(mut self, state: Option<(String, S3Settings)>) -> Self {
        self.s3_state = state;
        self
    }

    /// The `-backend-config` of a run, after preparing `env_dir` for it.
    async fn backend(&self, spec: &RunSpec, env_dir: &Path) -> Result<String, String> {
        let Some((bucket, s3)) = &self.s3_state else {
            let state = self.state_path(spec);
            if let Some(parent) = state.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            return Ok(format!("-backend-config=path={}", state.display()));
        };
        // An override file replaces the checkout's backend block.
        let write = |name: &str, text: String| {
            let path = env_dir.join(name);
            async move {
                tokio::fs::write(&path, text)
                    .await
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))
            }
        };
        write(
            "tfpilot_backend_override.tf",
            "terraform {\n  backend \"s3\" {}\n}\n".into(),
        )
        .await?;
        let lit = app::domain::hcl::encode_str;
        let key = format!("{}/{}/terraform.tfstate", spec.project, spec.environment);
        let mut conf = format!(
            "bucket = {}\nkey = {}\nregion = {}\nuse_lockfile = true\n",
            lit(bucket),
            lit(&key),
            lit(s3.region.as_deref().unwrap_or("us-east-1")),
        );
        if let Some(endpoint) = &s3.endpoint {
            conf.push_str(&format!(
                "endpoints = {{ s3 = {} }}\nuse_path_style = {}\nskip_credentials_validation = true\nskip_requesting_account_id = true\nskip_metadata_api_check = true\nskip_region_validation = true\n",
                lit(endpoint),
                s3.path_style
            ));
        }
        write("tfpilot.s3.tfbackend", conf).await?;
        Ok("-backend-config=tfpilot.s3.tfbackend".into())
    }

    /// Uses this `terraform` binary (a name on the PATH or a path).
    pub fn with_terraform(mut self, terraform: impl Into<PathBuf>) -> Self {
        self.terraform = terraform.into();
        self
    }

    /// Sweeps the checkouts of runs a crash killed, then starts again the
    /// runs a previous process left queued or running (same run id, fresh
    /// checkout): terraform converges, so a repeated plan or apply is
    /// safe, and the request is not left waiting.
    pub async fn recover(self: &Arc<Self>) -> Result<usize, ExecError> {
        let dir = self.dir.clone();
        let swept = tokio::task::spawn_blocking(move || super::checkouts::sweep(&dir))
            .await
            .unwrap_or_default();
        if swept > 0 {
            tracing::info!(swept, "removed the checkouts of runs a crash interrupted");
        }
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
                self.enqueue(&info.run_id);
                tokio::spawn(self.clone().execute(info));
                n += 1;
            }
        }
        Ok(n)
    }

    fn lock(&self, key: String) -> Arc<tokio::sync::RwLock<()>> {
        self.locks.get(key)
    }

    /// Waits for the run's turn: one plan at a time per request; plans of an
    /// environment side by side, but never beside its apply or destroy,
    /// which run one at a time.
    async fn turn(&self, spec: &RunSpec) -> Vec<Box<dyn std::any::Any + Send>> {
        let state = self.lock(format!("state/{}/{}", spec.project, spec.environment));
        match spec.kind {
            RunKind::Plan => {
                let own = self
                    .lock(format!("plan/{}", spec.request))
                    .write_owned()
                    .await;
                vec![Box::new(own), Box::new(state.read_owned().await)]
            }
            RunKind::Apply | RunKind::Destroy => {
                let local = state.write_owned().await;
                let key = format!("locks/apply/{}/{}.json", spec.project, spec.environment);
                let lease = loop {
                    match Lease::acquire(
                        self.records.clone(),
                        key.clone(),
                        self.holder.clone(),
                        LEASE_TTL,
                    )
                    .await
                    {
                        Ok(lease) => break lease,
                        Err(e) => {
                            tracing::warn!(lease = %key, "cannot take the environment lease (retrying): {e}");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                };
                vec![Box::new(local), Box::new(lease)]
            }
        }
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
        let turn = self.turn(&info.spec).await;
        // Its locks first, then a slot: a slot is never held while waiting.
        let slot = self.slots.clone().acquire_owned().await;
        self.started(&info.run_id);
        info.status = RunStatus::Running;
        if let Err(e) = self.save(&info).await {
            tracing::error!(run = %info.run_id, "cannot record the run: {e}");
        }
        let outcome = self.terraform(&info.spec).await;
        info.status = RunStatus::Completed;
        match outcome {
            Ok(done) => {
                info.ran_at = done.ran_at;
                info.summary = done.summary;
                if done.blocked.is_empty() {
                    info.conclusion = Some(Conclusion::Success);
                } else {
                    info.conclusion = Some(Conclusion::Blocked);
                    info.error = Some(app::domain::scope::describe(&done.blocked));
                    info.blocked = done.blocked;
                }
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
        drop(slot);
        drop(turn);
        self.locks.prune();
        if let Some(tx) = &self.completed {
            let _ = tx.send(info);
        }
    }

    /// Runs terraform on a fresh checkout, removed afterwards whatever
    /// happened; the error is one line for people.
    async fn terraform(&self, spec: &RunSpec) -> Result<Done, String> {
        let run_dir = self.run_dir(&spec.run_id());
        // A fresh directory per execution: a run started again after a crash
        // never shares files with what the dead process left behind.
        let checkout = Checkout::reserve(&run_dir)
            .map_err(|e| format!("cannot prepare a checkout in {}: {e}", run_dir.display()))?;
        let outcome = self.terraform_in(spec, &run_dir, &checkout.dir).await;
        let dir = checkout.dir.clone();
        if let Err(e) = checkout.remove().await {
            tracing::warn!(run = %spec.run_id(), "cannot remove the checkout {}: {e}", dir.display());
        }
        outcome
    }

    async fn terraform_in(
        &self,
        spec: &RunSpec,
        run_dir: &Path,
        checkout: &Path,
    ) -> Result<Done, String> {
        tokio::fs::create_dir_all(checkout)
            .await
            .map_err(|e| format!("cannot create {}: {e}", checkout.display()))?;
        // Plans run at their commit; applies and destroys on the default
        // branch's tip.
        let sha = match spec.kind {
            RunKind::Plan => spec.sha.clone(),
            RunKind::Apply | RunKind::Destroy => {
                let branch = self.git.default_branch(&spec.project);
                self.git
                    .branch_head(&spec.project, &branch)
                    .await
                    .map_err(|e| format!("cannot read {branch}: {e}"))?
                    .ok_or_else(|| format!("the infra repo has no {branch} branch"))?
            }
        };
        self.git
            .export(&spec.project, &sha, checkout)
            .await
            .map_err(|e| format!("cannot check out {sha}: {e}"))?;
        let env_dir = checkout.join("envs").join(spec.environment.as_str());
        let backend = self.backend(spec, &env_dir).await?;
        let log = run_dir.join("log.txt");
        if spec.kind != RunKind::Plan {
            append(
                &log,
                &format!("# {} on the tip of main, {sha}\n", spec.kind.as_str()),
            )
            .await;
        }
        self.tf(
            &env_dir,
            &log,
            &["init", "-input=false", "-no-color", &backend],
        )
        .await?;
        let mut plan_args = vec![
            "plan".to_owned(),
            "-input=false".into(),
            "-no-color".into(),
            // A local state is guarded by `turn` (plans only read it, applies
            // hold the environment); a shared S3 state by its lock file.
            if self.s3_state.is_some() || spec.kind != RunKind::Plan {
                "-lock-timeout=120s".into()
            } else {
                "-lock=false".into()
            },
            "-out=tfplan".into(),
        ];
        let scope = spec.scope.as_ref();
        if spec.kind == RunKind::Destroy {
            let target = scope
                .and_then(|s| s.target.as_deref())
                .ok_or("a destroy needs the block it targets")?;
            plan_args.push(format!("-target={target}"));
        }
        let plan_args: Vec<&str> = plan_args.iter().map(String::as_str).collect();
        self.tf(&env_dir, &log, &plan_args).await?;
        let json = self
            .tf_output(&env_dir, &["show", "-json", "tfplan"])
            .await?;
        let (summary, changes) =
            parse_show_json(&json).map_err(|e| format!("cannot read the plan: {e}"))?;
        let plan = serde_json::json!({ "summary": summary, "changes": changes });
        tokio::fs::write(run_dir.join("plan.json"), plan.to_string())
            .await
            .map_err(|e| e.to_string())?;
        if spec.kind == RunKind::Plan {
            return Ok(Done {
                summary: Some(summary),
                ran_at: None,
                blocked: Vec::new(),
            });
        }
        let scope = scope.ok_or("an apply needs its scope")?;
        let planned: Vec<PlannedChange> = changes
            .iter()
            .map(|c| PlannedChange {
                address: c.address.clone(),
                action: c.action.clone(),
            })
            .collect();
        let blocked = app::domain::scope::check(scope, &planned);
        if !blocked.is_empty() {
            append(
                &log,
                &format!(
                    "\n# {}\n# Nothing was applied.\n",
                    app::domain::scope::describe(&blocked)
                ),
            )
            .await;
            return Ok(Done {
                summary: Some(summary),
                ran_at: Some(sha),
                blocked,
            });
        }
        append(
            &log,
            "\n# Every planned change is within the run's scope; applying the saved plan.\n",
        )
        .await;
        crate::crash::point(&format!("run.{}.planned", spec.kind.as_str()));
        self.tf(
            &env_dir,
            &log,
            &[
                "apply",
                "-input=false",
                "-no-color",
                "-lock-timeout=120s",
                "tfplan",
            ],
        )
        .await?;
        Ok(Done {
            summary: Some(summary),
            ran_at: Some(sha),
            blocked: Vec::new(),
        })
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
        if let Some((
            _,
            S3Settings {
                credentials: Some((id, secret)),
                ..
            },
        )) = &self.s3_state
        {
            cmd.env("AWS_ACCESS_KEY_ID", id)
                .env("AWS_SECRET_ACCESS_KEY", secret);
        }
        cmd
    }

    /// Runs terraform, streaming its output into `log` as it comes (the
    /// log endpoint shows a run in progress).
    async fn tf(&self, dir: &Path, log: &Path, args: &[&str]) -> Result<(), String> {
        use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
        append(log, &format!("$ terraform {}\n", args.join(" "))).await;
        let mut cmd = self.command(dir, args).await;
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                "terraform is not on the PATH of the tfpilot server; install it to run plans"
                    .to_owned()
            }
            _ => format!("cannot run terraform: {e}"),
        })?;
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .await
            .map_err(|e| format!("cannot write {}: {e}", log.display()))?;
        let file = Arc::new(tokio::sync::Mutex::new(file));
        // Copies a pipe into the log chunk by chunk; keeps stderr for the error.
        async fn pump(
            mut pipe: impl AsyncRead + Unpin,
            file: Arc<tokio::sync::Mutex<tokio::fs::File>>,
            keep: bool,
        ) -> Vec<u8> {
            let (mut kept, mut buf) = (Vec::new(), vec![0u8; 8192]);
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let _ = file.lock().await.write_all(&buf[..n]).await;
                if keep {
                    kept.extend_from_slice(&buf[..n]);
                }
            }
            kept
        }
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err("cannot read terraform's output".into());
        };
        let out = tokio::spawn(pump(stdout, file.clone(), false));
        let err = tokio::spawn(pump(stderr, file, true));
        let status = match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => return Err(format!("cannot run terraform: {e}")),
            Err(_) => {
                let _ = child.kill().await;
                let message = format!("terraform {} timed out after {:?}", args[0], self.timeout);
                append(log, &format!("\n{message}\n")).await;
                return Err(message);
            }
        };
        let _ = out.await;
        let stderr = err.await.unwrap_or_default();
        if status.success() {
            Ok(())
        } else {
            let last = String::from_utf8_lossy(&stderr)
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

/// What a finished terraform run reports.
struct Done {
    summary: Option<app::domain::request::PlanSummary>,
    ran_at: Option<String>,
    blocked: Vec<app::domain::scope::Unexpected>,
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
            ran_at: None,
            blocked: Vec::new(),
        };
        let bytes = serde_json::to_vec(&info).expect("serializes");
        match self
            .0
            .records
            .put(&record_key(&run_id), bytes.into(), Precondition::IfAbsent)
            .await
        {
            Ok(_) => {
                self.0.enqueue(&run_id);
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

    fn queued_ahead(&self, run_id: &str) -> Option<usize> {
        self.0.ahead(run_id)
    }

    async fn log(&self, spec: &RunSpec) -> Result<String, ExecError> {
        let run_id = spec.run_id();
        tokio::fs::read_to_string(self.0.run_dir(&run_id).join("log.txt"))
            .await
            .map_err(|_| ExecError::NotFound(format!("no log yet for run {run_id}")))
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
