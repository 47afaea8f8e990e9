//! The HCP Terraform / Terraform Enterprise executor: runs go to the
//! project's workspace of the environment as API-driven runs.
//!
//! A run uploads a configuration version (a tar.gz of `envs/<env>/` and
//! `modules/` at the commit, `archive.rs`), creates a TFC run whose
//! `message` is the run's name (`tfpilot <kind> <id> attempt <n>`; applies
//! and destroys add `on <sha>`, the tip of the default branch they were
//! uploaded from), and finds it again by that message: nothing is
//! remembered between calls but caches and the dispatches in flight, so
//! any process (or a restarted one) reads the same runs, and `status`
//! also drives them. Plans are speculative, plan-only runs. Applies and
//! destroys (targeted at the scope's block) wait in TFC for a
//! confirmation that only comes after the saved plan's JSON passed
//! `domain::scope::check`: then `actions/apply`, else `actions/discard`
//! and the run is `Blocked` (`drive.rs`). Completed runs carry the cost
//! estimate and policy checks of the workspace (`checks.rs`). Each run
//! dispatched here is followed by a task that polls it with backoff and
//! sends it to the completion sink when it ends. Drift checks are
//! plan-only runs on the default branch's tip (`drift.rs`).

mod api;
mod archive;
mod cache;
mod checks;
mod client;
mod dispatch;
mod drift;
mod drive;
mod logs;
mod state;

pub use client::TfcError;

use crate::config::DEFAULT_BRANCH;
use crate::exec::{
    DriftReport, DriftSpec, ExecError, Executor, PlanOutput, RunInfo, RunKind, RunSpec, run_name,
};
use crate::git::TreeExport;
use app::domain::ids::{EnvName, ProjectKey};
use app::domain::request::RunStatus;
use async_trait::async_trait;
use client::Client;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

pub use crate::config::TfcSettings;

/// The workspace of one project + environment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Workspace {
    /// The organization.
    pub organization: String,
    /// The workspace's name.
    pub name: String,
}

/// Runs Terraform in HCP Terraform workspaces.
#[derive(Clone)]
pub struct TfcExecutor {
    client: Client,
    tree: Arc<dyn TreeExport>,
    workspaces: Arc<HashMap<(ProjectKey, EnvName), Workspace>>,
    default_branches: Arc<HashMap<ProjectKey, String>>,
    completed: Option<UnboundedSender<RunInfo>>,
    /// First and longest wait between two polls of a run.
    poll: (Duration, Duration),
    memory: Arc<Memory>,
}

/// What this process keeps: caches of what TFC says, and its own runs.
#[derive(Default)]
struct Memory {
    /// Workspace ids by organization and name.
    workspace_ids: Mutex<HashMap<Workspace, String>>,
    /// TFC run ids by tfpilot run id.
    runs: Mutex<HashMap<String, String>>,
    /// Dispatches under way here (not yet a TFC run), since when.
    dispatching: Mutex<HashMap<String, Instant>>,
    /// Runs a follower task polls.
    following: Mutex<HashSet<String>>,
    /// Runs last seen waiting behind another run or a lock.
    busy: Mutex<HashSet<String>>,
    /// Plans read, by TFC plan id.
    plans: cache::Bounded<PlanOutput>,
    /// Completed runs, by tfpilot run id.
    finals: cache::Bounded<RunInfo>,
}

/// How long a dispatch may stay under way before another may start.
const DISPATCH_WITHIN: Duration = Duration::from_secs(300);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn unavailable(e: impl std::fmt::Display) -> ExecError {
    ExecError::Unavailable(e.to_string())
}

impl TfcExecutor {
    /// An executor for `workspaces` (project + environment → workspace),
    /// reading commits through `tree`; runs it dispatches are sent to
    /// `completed` when they end. Refuses a bad URL or an empty token.
    pub fn new(
        settings: &TfcSettings,
        tree: Arc<dyn TreeExport>,
        workspaces: impl IntoIterator<Item = ((ProjectKey, EnvName), Workspace)>,
        completed: Option<UnboundedSender<RunInfo>>,
    ) -> Result<Self, String> {
        Ok(Self::over(
            Client::new(settings)?,
            tree,
            workspaces,
            completed,
        ))
    }

    /// The same, with the API at `url` and the token read from `token` on
    /// every call (a token changed in the store is used by the next call).
    pub fn live(
        url: &str,
        token: crate::integrations::live::Live<crate::integrations::values::TfcCredential>,
        tree: Arc<dyn TreeExport>,
        workspaces: impl IntoIterator<Item = ((ProjectKey, EnvName), Workspace)>,
        completed: Option<UnboundedSender<RunInfo>>,
    ) -> Result<Self, String> {
        Ok(Self::over(
            Client::live(url, token)?,
            tree,
            workspaces,
            completed,
        ))
    }

    fn over(
        client: Client,
        tree: Arc<dyn TreeExport>,
        workspaces: impl IntoIterator<Item = ((ProjectKey, EnvName), Workspace)>,
        completed: Option<UnboundedSender<RunInfo>>,
    ) -> Self {
        Self {
            client,
            tree,
            workspaces: Arc::new(workspaces.into_iter().collect()),
            default_branches: Arc::new(HashMap::new()),
            completed,
            poll: (Duration::from_millis(500), Duration::from_secs(5)),
            memory: Arc::new(Memory::default()),
        }
    }

    /// The default branch of each project that does not use the one its
    /// Git host names (applies upload that branch's tip).
    pub fn with_default_branches(
        mut self,
        branches: impl IntoIterator<Item = (ProjectKey, String)>,
    ) -> Self {
        self.default_branches = Arc::new(branches.into_iter().collect());
        self
    }

    /// Polls a run first after `first`, then doubling up to `max`.
    pub fn with_poll(mut self, first: Duration, max: Duration) -> Self {
        self.poll = (first, max.max(first));
        self
    }

    fn default_branch(&self, project: &ProjectKey) -> String {
        match self.default_branches.get(project) {
            Some(b) => b.clone(),
            None => {
                let b = self.tree.default_branch(project);
                if b.is_empty() {
                    DEFAULT_BRANCH.to_owned()
                } else {
                    b
                }
            }
        }
    }

    fn workspace_of(&self, spec: &RunSpec) -> Result<&Workspace, ExecError> {
        self.workspaces
            .get(&(spec.project.clone(), spec.environment.clone()))
            .ok_or_else(|| {
                ExecError::Invalid(format!(
                    "project {} has no HCP Terraform workspace for environment {}",
                    spec.project, spec.environment
                ))
            })
    }

    /// The workspace's id (asked once, then cached).
    async fn workspace_id(&self, ws: &Workspace) -> Result<String, ExecError> {
        if let Some(id) = lock(&self.memory.workspace_ids).get(ws) {
            return Ok(id.clone());
        }
        let path = format!("/organizations/{}/workspaces/{}", ws.organization, ws.name);
        let reply = self
            .client
            .api(reqwest::Method::GET, &path, None, client::Retry::Safe)
            .await
            .map_err(unavailable)?;
        match reply.status.as_u16() {
            200 => {}
            404 => {
                return Err(ExecError::Invalid(format!(
                    "HCP Terraform has no workspace `{}` in organization `{}` (404), or TFPILOT_TFC_TOKEN cannot see it",
                    ws.name, ws.organization
                )));
            }
            _ => {
                return Err(unavailable(
                    reply.error(&format!("workspace {}/{}", ws.organization, ws.name)),
                ));
            }
        }
        let doc: api::Doc<api::Resource<api::WorkspaceAttrs>> = reply
            .decode(&format!("workspace {}/{}", ws.organization, ws.name))
            .map_err(unavailable)?;
        lock(&self.memory.workspace_ids).insert(ws.clone(), doc.data.id.clone());
        Ok(doc.data.id)
    }

    /// The link to a run in TFC's UI.
    fn run_url(&self, ws: &Workspace, run: &str) -> String {
        format!(
            "{}/app/{}/workspaces/{}/runs/{run}",
            self.client.base(),
            ws.organization,
            ws.name
        )
    }

    fn dispatching(&self, spec: &RunSpec) -> bool {
        lock(&self.memory.dispatching)
            .get(&spec.run_id())
            .is_some_and(|at| at.elapsed() < DISPATCH_WITHIN)
    }

    /// Starts a task that polls the run until it ends and sends it to the
    /// completion sink (one per run in this process).
    fn follow(&self, spec: &RunSpec, info: &RunInfo) {
        let Some(sink) = self.completed.clone() else {
            return;
        };
        if info.status == RunStatus::Completed
            || !lock(&self.memory.following).insert(spec.run_id())
        {
            return;
        }
        let (me, spec) = (self.clone(), spec.clone());
        tokio::spawn(async move {
            let (mut wait, max) = me.poll;
            let until = Instant::now() + Duration::from_secs(24 * 3600);
            while Instant::now() < until {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(max);
                match me.status(&spec).await {
                    Ok(info) if info.status == RunStatus::Completed => {
                        let _ = sink.send(info);
                        break;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(run = %spec.run_id(), "cannot read the run: {e}"),
                }
            }
            lock(&me.memory.following).remove(&spec.run_id());
        });
    }
}

#[async_trait]
impl Executor for TfcExecutor {
    fn name(&self, _project: &ProjectKey) -> &'static str {
        "tfc"
    }

    async fn dispatch(&self, spec: &RunSpec) -> Result<RunInfo, ExecError> {
        self.start(spec).await
    }

    async fn status(&self, spec: &RunSpec) -> Result<RunInfo, ExecError> {
        if let Some(mut done) = self.memory.finals.get(&spec.run_id()) {
            done.spec = spec.clone();
            return Ok(done);
        }
        let ws = self.workspace_of(spec)?.clone();
        let ws_id = self.workspace_id(&ws).await?;
        let Some(run) = self.find(spec, &ws_id).await? else {
            if self.dispatching(spec) {
                return Ok(RunInfo::queued(spec));
            }
            return Err(ExecError::NotFound(format!("run {}", run_name(spec))));
        };
        let info = self.describe(spec, &ws, &ws_id, run).await?;
        self.follow(spec, &info);
        Ok(info)
    }

    async fn plan_output(&self, spec: &RunSpec) -> Result<PlanOutput, ExecError> {
        let ws = self.workspace_of(spec)?.clone();
        let ws_id = self.workspace_id(&ws).await?;
        let run = self
            .find(spec, &ws_id)
            .await?
            .ok_or_else(|| ExecError::NotFound(format!("run {}", run_name(spec))))?;
        self.read_plan(&run)
            .await?
            .ok_or_else(|| ExecError::NotFound(format!("run {} has no plan yet", run_name(spec))))
    }

    async fn drift(&self, spec: &DriftSpec) -> Result<DriftReport, ExecError> {
        self.drift_check(spec).await
    }

    async fn log(&self, spec: &RunSpec) -> Result<String, ExecError> {
        let info = self.status(spec).await?;
        let ws = self.workspace_of(spec)?.clone();
        let ws_id = self.workspace_id(&ws).await?;
        let run = self
            .find(spec, &ws_id)
            .await?
            .ok_or_else(|| ExecError::NotFound(format!("run {}", run_name(spec))))?;
        self.full_log(&run, &info).await
    }

    fn waiting(&self, run_id: &str) -> Option<String> {
        lock(&self.memory.busy)
            .contains(run_id)
            .then(|| "workspace busy".to_owned())
    }
}

/// The commit an apply or destroy was uploaded from, read back from its
/// run's message (`… on <sha>`).
fn ran_at(spec: &RunSpec, message: &str) -> Option<String> {
    (spec.kind != RunKind::Plan)
        .then(|| message.strip_prefix(&run_name(spec))?.strip_prefix(" on "))
        .flatten()
        .map(str::to_owned)
}

/// Whether `message` is the message of `spec`'s run.
fn is_run_of(spec: &RunSpec, message: &str) -> bool {
    let name = run_name(spec);
    message == name
        || message
            .strip_prefix(&name)
            .is_some_and(|rest| rest.starts_with(" on "))
}

/// `GET /api/v2/account/details` with `settings`: the account's username,
/// or the error in a sentence (the connection test of a stored token).
pub async fn account_details(settings: &TfcSettings) -> Result<String, String> {
    let client = Client::new(settings)?;
    let reply = client
        .api(
            reqwest::Method::GET,
            "/account/details",
            None,
            client::Retry::Safe,
        )
        .await
        .map_err(|e| e.to_string())?;
    if !reply.status.is_success() {
        return Err(reply.error("GET /account/details").to_string());
    }
    let body: serde_json::Value = reply.decode("account details").map_err(|e| e.to_string())?;
    Ok(body["data"]["attributes"]["username"]
        .as_str()
        .unwrap_or("?")
        .to_owned())
}
