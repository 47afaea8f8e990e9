//! Drift runs: a plan of the tip of main per project + environment through
//! the configured executor (under the environment's apply serialization),
//! its changes mapped to the requests owning them (`domain::drift`) and
//! recorded on each applied request through the flow; what no request
//! owns is *unmanaged* and kept with the run's record
//! (`drift/<project>/<env>.json`, the answer of `GET /api/v1/drift/...`)
//! and in the audit log. One drift run of an environment at a time across
//! processes: a lease in the store (`locks/drift/<project>/<env>.json`)
//! that a dead run leaves to expire; the next run takes it over and says so.

mod schedule;

pub use schedule::{Every, run_schedule};

use super::flow::{DriftMark, Flow};
use super::index::{Index, Query};
use crate::clock::Clock;
use crate::exec::{DriftSpec, Executor};
use crate::store::journal::{AuditLog, AuditRecord};
use crate::store::lease::Lease;
use crate::store::{ObjectStore, Precondition, StoreError};
use app::domain::drift::{DriftChange, ownership};
use app::domain::ids::{EnvName, ProjectKey};
use app::domain::policy::{Actor, Role};
use app::domain::status::Status;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// How long a drift run's lease lives without renewal.
pub const DRIFT_LEASE_TTL: Duration = Duration::from_secs(60);

/// Where a drift run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DriftState {
    /// Asked for, not started yet (waiting for the environment).
    Queued,
    /// Planning.
    Running,
    /// Done: see `drifted` and `unmanaged`.
    Done,
    /// The plan failed: see `error`.
    Failed,
}

/// The newest drift run of a project + environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DriftRun {
    /// The run's id.
    pub run: String,
    /// Project.
    pub project: String,
    /// Environment.
    pub environment: String,
    /// Who or what asked for it (`alice`, `schedule`).
    pub trigger: String,
    /// Where it stands.
    pub state: DriftState,
    /// When it was asked for.
    pub started_at: String,
    /// When it ended.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// The tip of main it planned.
    #[serde(default)]
    pub sha: Option<String>,
    /// The applied requests it found drifted.
    #[serde(default)]
    pub drifted: Vec<String>,
    /// Changes owned by no request.
    #[serde(default)]
    pub unmanaged: Vec<DriftChange>,
    /// Changes of requests not applied yet (their apply is pending, so not
    /// drift), by address.
    #[serde(default)]
    pub pending: Vec<String>,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
    /// The holder of a lease this run took over (a run that died).
    #[serde(default)]
    pub took_over_from: Option<String>,
}

/// Why a drift run was not started.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// No such project or environment (404).
    #[error("{0}")]
    NotFound(String),
    /// Not an approver or admin (403).
    #[error("running a drift check needs the approver or admin role")]
    Forbidden,
    /// The store failed (503).
    #[error("the store is unavailable: {0}")]
    Store(#[from] StoreError),
}

/// Drift runs over the ports.
pub struct DriftService {
    projects: Arc<crate::projects::Projects>,
    exec: Arc<dyn Executor>,
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
    audit: AuditLog,
    flow: Arc<Flow>,
    index: Arc<Index>,
    holder: String,
    /// The runs under way (asked for or scheduled): a stopping server
    /// waits for them, and each gives its drift lease back as it ends.
    runs: tokio_util::task::TaskTracker,
}

fn record_key(project: &ProjectKey, env: &EnvName) -> String {
    format!("drift/{project}/{env}.json")
}

impl DriftService {
    /// Wires drift runs over the ports, the flow and the index.
    pub fn new(ports: &crate::ports::Ports, flow: Arc<Flow>, index: Arc<Index>) -> Self {
        Self {
            projects: ports.projects.clone(),
            exec: ports.exec.clone(),
            store: ports.requests.clone(),
            clock: ports.clock.clone(),
            audit: ports.audit_log(),
            flow,
            index,
            holder: format!("{}-{}", std::process::id(), ports.ids.random_hex(4)),
            runs: tokio_util::task::TaskTracker::new(),
        }
    }

    /// The project and environment named, if served and not hidden from
    /// `actor` (a hidden project is as absent as an unknown one).
    pub fn target(
        &self,
        actor: &Actor,
        project: &str,
        env: &str,
    ) -> Result<(ProjectKey, EnvName), DriftError> {
        let unknown =
            || DriftError::NotFound(format!("project `{project}` has no environment `{env}`"));
        let snapshot = self.projects.snapshot();
        let p = snapshot
            .projects
            .values()
            .find(|p| p.key.as_str() == project && snapshot.policy.sees(project, actor))
            .ok_or_else(|| DriftError::NotFound(format!("no project `{project}`")))?;
        let e = p
            .environments
            .iter()
            .find(|e| e.as_str() == env)
            .ok_or_else(unknown)?;
        Ok((p.key.clone(), e.clone()))
    }

    /// Starts a drift run of `project`/`env` for `actor` (approver or
    /// admin) in the background; the answer is the queued run.
    pub async fn start(
        self: &Arc<Self>,
        actor: &Actor,
        project: &str,
        env: &str,
    ) -> Result<DriftRun, DriftError> {
        let (project, env) = self.target(actor, project, env)?;
        let role = self.projects.policy().role_in(project.as_str(), actor);
        if role.is_none_or(|r| r < Role::Approver) {
            return Err(DriftError::Forbidden);
        }
        let run = format!("drift-{project}-{env}-{}", self.clock.unix_millis());
        let queued = self.queued(&project, &env, &run, &actor.login);
        let me = self.clone();
        let login = actor.login.clone();
        self.runs
            .spawn(async move { me.run(&project, &env, &run, &login).await });
        Ok(queued)
    }

    fn queued(&self, project: &ProjectKey, env: &EnvName, run: &str, trigger: &str) -> DriftRun {
        DriftRun {
            run: run.to_owned(),
            project: project.to_string(),
            environment: env.to_string(),
            trigger: trigger.to_owned(),
            state: DriftState::Queued,
            started_at: self.clock.rfc3339_millis(),
            finished_at: None,
            sha: None,
            drifted: Vec::new(),
            unmanaged: Vec::new(),
            pending: Vec::new(),
            error: None,
            took_over_from: None,
        }
    }

    /// The newest drift run of `project`/`env`, if any.
    pub async fn latest(
        &self,
        project: &ProjectKey,
        env: &EnvName,
    ) -> Result<Option<DriftRun>, StoreError> {
        match self.store.get(&record_key(project, env)).await {
            Ok(obj) => Ok(serde_json::from_slice(&obj.bytes).ok()),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn save(&self, run: &DriftRun) {
        let (Ok(project), Ok(env)) = (
            ProjectKey::parse(&run.project),
            EnvName::parse(&run.environment),
        ) else {
            return;
        };
        let Ok(bytes) = serde_json::to_vec(run) else {
            return;
        };
        if let Err(e) = self
            .store
            .put(
                &record_key(&project, &env),
                bytes.into(),
                Precondition::None,
            )
            .await
        {
            tracing::error!(run = %run.run, "cannot record the drift run: {e}");
        }
    }

    async fn audit(&self, action: &str, detail: String) {
        let record = AuditRecord {
            at: self.clock.rfc3339_millis(),
            actor: "tfpilot".into(),
            action: action.into(),
            request: None,
            before_version: None,
            after_version: None,
            detail,
            count: 1,
            until: None,
            via: None,
        };
        if let Err(e) = self.audit.append(&record).await {
            tracing::error!("could not append the audit record: {e}");
        }
    }

    /// Runs drift run `run` of `project`/`env` to its end: holds the
    /// environment's drift lease (taking over one a dead run left, and
    /// saying so), plans, records each request's result and the run's.
    pub async fn run(
        &self,
        project: &ProjectKey,
        env: &EnvName,
        run: &str,
        trigger: &str,
    ) -> DriftRun {
        let mut record = self.queued(project, env, run, trigger);
        if let Ok(Some(prev)) = self.latest(project, env).await
            && prev.run == run
            && prev.state == DriftState::Done
        {
            return prev; // another process ran it
        }
        let key = format!("locks/drift/{project}/{env}.json");
        let lease = loop {
            match Lease::acquire(
                self.store.clone(),
                key.clone(),
                self.holder.clone(),
                DRIFT_LEASE_TTL,
                self.clock.clone(),
            )
            .await
            {
                Ok(lease) => break lease,
                Err(e) => {
                    tracing::warn!(lease = %key, "cannot take the drift lease (retrying): {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        if let Some(dead) = lease.took_over() {
            let line = format!("took over the drift run of {project}/{env} left by holder {dead}");
            tracing::warn!("{line}");
            self.audit("drift.takeover", line).await;
            record.took_over_from = Some(dead.to_owned());
        }
        if let Ok(Some(prev)) = self.latest(project, env).await
            && prev.run == run
            && prev.state == DriftState::Done
        {
            lease.release().await;
            return prev;
        }
        record.state = DriftState::Running;
        self.save(&record).await;
        let spec = DriftSpec {
            project: project.clone(),
            environment: env.clone(),
            run_id: run.to_owned(),
        };
        let report = match self.exec.drift(&spec).await {
            Ok(report) => report,
            Err(e) => {
                record.state = DriftState::Failed;
                record.error = Some(e.to_string());
                record.finished_at = Some(self.clock.rfc3339_millis());
                self.save(&record).await;
                self.audit(
                    "drift.failed",
                    format!("drift run {run} of {project}/{env} failed: {e}"),
                )
                .await;
                lease.release().await;
                return record;
            }
        };
        record.sha = Some(report.sha.clone());
        let mut owned = ownership(&report.changes);
        for id in self.applied(project, env) {
            let changes = owned.by_request.remove(&id).unwrap_or_default();
            match self.flow.mark_drift(&id, run, changes).await {
                Ok(DriftMark::Drifted | DriftMark::StillDrifted) => {
                    record.drifted.push(id.to_string())
                }
                Ok(DriftMark::Cleared | DriftMark::Clean) => {}
                Err(e) => {
                    tracing::warn!(request = %id, "cannot record the drift of the request: {e}")
                }
            }
        }
        record.pending = owned
            .by_request
            .values()
            .flatten()
            .map(|c| c.address.clone())
            .collect();
        record.unmanaged = owned.unmanaged;
        record.state = DriftState::Done;
        record.finished_at = Some(self.clock.rfc3339_millis());
        self.save(&record).await;
        let unmanaged: Vec<String> = record
            .unmanaged
            .iter()
            .map(|c| format!("{} {}", c.action, c.address))
            .collect();
        self.audit(
            "drift.run",
            format!(
                "drift run {run} of {project}/{env} at {}: {} drifted request(s){}{}; {} unmanaged change(s){}{}",
                app::domain::transitions::short(&report.sha),
                record.drifted.len(),
                if record.drifted.is_empty() { "" } else { ": " },
                record.drifted.join(", "),
                unmanaged.len(),
                if unmanaged.is_empty() { "" } else { ": " },
                unmanaged.join(", "),
            ),
        )
        .await;
        lease.release().await;
        record
    }

    /// The applied requests of `project`/`env`.
    fn applied(&self, project: &ProjectKey, env: &EnvName) -> Vec<app::domain::ids::RequestId> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.index.query(&Query {
                project: Some(project.to_string()),
                environment: Some(env.to_string()),
                status: Some(Status::Applied.to_string()),
                limit: 500,
                cursor,
                ..Default::default()
            });
            out.extend(page.items.iter().map(|r| r.id));
            match page
                .next_cursor
                .and_then(|c| app::domain::ids::RequestId::parse(&c).ok())
            {
                Some(c) => cursor = Some(c),
                None => return out,
            }
        }
    }
}
