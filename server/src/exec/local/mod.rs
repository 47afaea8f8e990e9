//! The local executor (embedded default): real `terraform` on a fresh
//! checkout, state in a local backend under the data dir.
//!
//! Plans run at their commit. Applies and destroys run on the tip of the
//! project's default branch at the moment they start: `plan -out`, the
//! saved plan's changes checked against the run's scope
//! (`domain::scope::check`), then `apply <planfile>` — or the run ends
//! `blocked` with nothing applied. They are serialized per project +
//! environment, in this process by a lock and across processes sharing the
//! store by a lease (`locks/apply/<project>/<env>.json`); plans per
//! request. Run records live in the object store (`runs/<id>.json`,
//! `records.rs`), logs and plans under `<data>/exec/runs/<id>/`; every
//! checkout is removed when its run ends, and the checkouts of runs a
//! crash killed are swept at start (`checkouts.rs`). `recover` then starts
//! again the runs a previous process left queued or running, through the
//! same checked path (`terraform.rs`).

mod drift;
mod records;
mod terraform;

use crate::config::S3Settings;
use crate::exec::locks::KeyedLocks;
use crate::exec::plan::PlanOutput;
use crate::exec::{DriftReport, DriftSpec, ExecError, Executor, RunInfo, RunKind, RunSpec};
use crate::git::TreeExport;
use crate::store::lease::Lease;
use crate::store::{ObjectStore, Precondition, StoreError};
use app::domain::request::{Conclusion, RunStatus};
use async_trait::async_trait;
use records::{record_key, unavailable};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
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
    /// What environment leases expire by.
    clock: Arc<dyn crate::clock::Clock>,
    /// At most this many terraform runs at once.
    slots: Arc<tokio::sync::Semaphore>,
    /// Runs not started yet, oldest first (`queued (n ahead)`).
    waiting: Mutex<std::collections::VecDeque<String>>,
}

/// How long an environment's apply lease lives without renewal.
const LEASE_TTL: Duration = Duration::from_secs(30);

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
            clock: Arc::new(crate::clock::SystemClock),
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

    /// Environment leases expire by `clock` (default: the system's).
    pub fn with_clock(mut self, clock: Arc<dyn crate::clock::Clock>) -> Self {
        self.clock = clock;
        self
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

    /// Uses this `terraform` binary (a name on the PATH or a path).
    pub fn with_terraform(mut self, terraform: impl Into<PathBuf>) -> Self {
        self.terraform = terraform.into();
        self
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
                let (local, lease) = self.environment(&spec.project, &spec.environment).await;
                vec![Box::new(local), Box::new(lease)]
            }
        }
    }

    /// Holds `project`'s `environment` as an apply does: its lock in this
    /// process, then its lease across processes sharing the store.
    async fn environment(
        &self,
        project: &app::domain::ids::ProjectKey,
        environment: &app::domain::ids::EnvName,
    ) -> (tokio::sync::OwnedRwLockWriteGuard<()>, Lease) {
        let state = self.lock(format!("state/{project}/{environment}"));
        let local = state.write_owned().await;
        let key = format!("locks/apply/{project}/{environment}.json");
        loop {
            match Lease::acquire(
                self.records.clone(),
                key.clone(),
                self.holder.clone(),
                LEASE_TTL,
                self.clock.clone(),
            )
            .await
            {
                Ok(lease) => return (local, lease),
                Err(e) => {
                    tracing::warn!(lease = %key, "cannot take the environment lease (retrying): {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
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
}

/// The executor as a shared handle (runs continue in background tasks).
#[derive(Clone)]
pub struct SharedLocalExecutor(pub Arc<LocalExecutor>);

#[async_trait]
impl Executor for SharedLocalExecutor {
    fn name(&self, _project: &app::domain::ids::ProjectKey) -> &'static str {
        "local"
    }

    async fn dispatch(&self, spec: &RunSpec) -> Result<RunInfo, ExecError> {
        let run_id = spec.run_id();
        let info = RunInfo::queued(spec);
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

    async fn drift(&self, spec: &DriftSpec) -> Result<DriftReport, ExecError> {
        self.0.drift_check(spec).await
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
