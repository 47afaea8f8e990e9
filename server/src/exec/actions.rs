//! The GitHub Actions executor (production): dispatches the workflows of
//! `infra-workflows/` with `workflow_dispatch` and finds each run again by
//! its `run-name`, `tfpilot <kind> <request> attempt <n>`, which the
//! workflows build from their inputs. Nothing is remembered between calls
//! but a short list of dispatches not yet visible, so any replica (or a
//! restarted process) sees the same runs.
//!
//! Plans are dispatched with the commit to plan (`ref`). Applies and
//! destroys carry no commit: their workflows check out `main` when the job
//! starts and get the run's scope (`scope`, JSON), which the workflow's
//! check step holds the saved plan to before applying. A blocked run fails
//! on GitHub; its `check.json` says why, and it is reported `Blocked`.

use super::artifact::{self, RunArtifact};
use super::plan::PlanOutput;
use super::{DriftReport, DriftSpec, ExecError, Executor, RunInfo, RunKind, RunSpec, run_name};
use crate::config::DEFAULT_BRANCH;
use crate::github::{GitHubClient, Reply, Retry};
use crate::projects::Projects;
use crate::projects::per_project::PerProject;
use app::domain::ids::ProjectKey;
use app::domain::request::{Conclusion, RunStatus};
use async_trait::async_trait;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a dispatched run may stay invisible in the runs list before a
/// second dispatch is allowed.
const VISIBLE_WITHIN: Duration = Duration::from_secs(300);

/// Runs Terraform in GitHub Actions.
pub struct ActionsExecutor {
    client: GitHubClient,
    repos: PerProject,
    default_branches: PerProject,
    dispatched: Mutex<HashMap<String, Instant>>,
    /// Artifacts of completed runs, by repo and GitHub run id (bounded).
    artifacts: artifact::Cache,
    poll: Duration,
}

#[derive(Debug, Clone, Deserialize)]
struct GhRun {
    id: u64,
    #[serde(default)]
    display_title: String,
    status: Option<String>,
    conclusion: Option<String>,
    html_url: String,
}

#[derive(Deserialize)]
struct GhRuns {
    workflow_runs: Vec<GhRun>,
}

#[derive(Deserialize)]
struct GhArtifacts {
    artifacts: Vec<GhArtifact>,
}

#[derive(Deserialize)]
struct GhArtifact {
    id: u64,
    name: String,
    #[serde(default)]
    expired: bool,
}

/// The workflow file of a run kind.
pub fn workflow_file(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Plan => "tfpilot-plan.yml",
        RunKind::Apply => "tfpilot-apply.yml",
        RunKind::Destroy => "tfpilot-destroy.yml",
    }
}

/// The name of the artifact holding `plan.txt` and `plan.json` (and, for
/// applies and destroys, `check.json` and `ran_at.txt`).
pub fn artifact_name(spec: &RunSpec) -> String {
    format!(
        "tfpilot-{}-{}-{}",
        spec.kind.as_str(),
        spec.request,
        spec.attempt
    )
}

fn unavailable(e: impl std::fmt::Display) -> ExecError {
    ExecError::Unavailable(e.to_string())
}

fn failure(reply: &Reply, what: &str) -> ExecError {
    let message = format!("{what}: {}", reply.message());
    match reply.status.as_u16() {
        404 => ExecError::NotFound(message),
        422 => ExecError::Invalid(message),
        _ => ExecError::Unavailable(message),
    }
}

impl ActionsExecutor {
    /// An executor for `repos` (project → `owner/name`), polling for a newly
    /// dispatched run every `poll`.
    pub fn new(
        client: GitHubClient,
        repos: impl IntoIterator<Item = (ProjectKey, String)>,
        poll: Duration,
    ) -> Self {
        Self {
            client,
            repos: PerProject::fixed(repos),
            default_branches: PerProject::default(),
            dispatched: Mutex::new(HashMap::new()),
            artifacts: artifact::Cache::default(),
            poll,
        }
    }

    /// The default branch of each project that does not use `main` (the
    /// same map the `GitHost` is given).
    pub fn with_default_branches(
        mut self,
        branches: impl IntoIterator<Item = (ProjectKey, String)>,
    ) -> Self {
        self.default_branches = PerProject::fixed(branches);
        self
    }

    /// Each project's repo and default branch read from the served
    /// projects on every call (instead of the maps given to `new`).
    pub fn serving(mut self, projects: Arc<Projects>) -> Self {
        self.repos = PerProject::served(projects.clone(), |p| p.repo.clone());
        self.default_branches = PerProject::served(projects, |p| Some(p.default_branch.clone()));
        self
    }

    fn default_branch(&self, project: &ProjectKey) -> String {
        self.default_branches
            .get(project)
            .unwrap_or_else(|| DEFAULT_BRANCH.to_owned())
    }

    fn repo(&self, project: &ProjectKey) -> Result<String, ExecError> {
        self.repos.get(project).ok_or_else(|| {
            ExecError::Invalid(format!("project {project} has no GitHub repo configured"))
        })
    }

    async fn get(&self, path: String) -> Result<Reply, ExecError> {
        self.client
            .send(Method::GET, &path, None, Retry::Safe)
            .await
            .map_err(unavailable)
    }

    /// The newest run of `spec`'s workflow whose run-name is `spec`'s.
    async fn find(&self, spec: &RunSpec) -> Result<Option<GhRun>, ExecError> {
        let repo = self.repo(&spec.project)?;
        self.find_named(&repo, workflow_file(spec.kind), &run_name(spec))
            .await
    }

    /// The newest dispatched run of `workflow` in `repo` named `name`.
    async fn find_named(
        &self,
        repo: &str,
        workflow: &str,
        name: &str,
    ) -> Result<Option<GhRun>, ExecError> {
        for page in 1..=5 {
            let reply = self
                .get(format!(
                    "/repos/{repo}/actions/workflows/{workflow}/runs?event=workflow_dispatch&per_page=100&page={page}"
                ))
                .await?;
            if reply.status != StatusCode::OK {
                return Err(failure(&reply, &format!("runs of {workflow}")));
            }
            let runs = reply.json::<GhRuns>().map_err(unavailable)?.workflow_runs;
            let last_page = runs.len() < 100;
            if let Some(run) = runs
                .into_iter()
                .filter(|r| r.display_title == name)
                .max_by_key(|r| r.id)
            {
                return Ok(Some(run));
            }
            if last_page {
                break;
            }
        }
        Ok(None)
    }

    fn info(&self, spec: &RunSpec, run: Option<&GhRun>) -> RunInfo {
        let (status, conclusion) = match run {
            None => (RunStatus::Queued, None),
            Some(r) => match r.status.as_deref() {
                Some("completed") => (
                    RunStatus::Completed,
                    Some(match r.conclusion.as_deref() {
                        Some("success") => Conclusion::Success,
                        Some("cancelled") | Some("skipped") => Conclusion::Cancelled,
                        Some("timed_out") => Conclusion::TimedOut,
                        _ => Conclusion::Failure,
                    }),
                ),
                Some("in_progress") => (RunStatus::Running, None),
                _ => (RunStatus::Queued, None),
            },
        };
        let error = match conclusion {
            Some(Conclusion::Success) | None => None,
            Some(c) => Some(format!(
                "the {} workflow ended {c:?}; see its log on GitHub",
                workflow_file(spec.kind)
            )),
        };
        RunInfo {
            url: run.map(|r| r.html_url.clone()),
            status,
            conclusion,
            error,
            ..RunInfo::queued(spec)
        }
    }

    /// Downloads and reads the artifact of the completed `run` (once).
    async fn fetch_artifact(
        &self,
        spec: &RunSpec,
        run: &GhRun,
    ) -> Result<Arc<RunArtifact>, ExecError> {
        let repo = self.repo(&spec.project)?;
        let key = format!("{repo}#{}", run.id);
        if let Some(cached) = self.artifacts.get(&key) {
            return Ok(cached);
        }
        let zip = self.download(&repo, run, &artifact_name(spec)).await?;
        let read = Arc::new(artifact::read(&zip)?);
        self.artifacts.put(key, read.clone());
        Ok(read)
    }

    /// The zip of the artifact `name` of the completed `run` in `repo`.
    async fn download(&self, repo: &str, run: &GhRun, name: &str) -> Result<Vec<u8>, ExecError> {
        let reply = self
            .get(format!("/repos/{repo}/actions/runs/{}/artifacts", run.id))
            .await?;
        if reply.status != StatusCode::OK {
            return Err(failure(&reply, "artifacts"));
        }
        let artifact = reply
            .json::<GhArtifacts>()
            .map_err(unavailable)?
            .artifacts
            .into_iter()
            .find(|a| a.name == name && !a.expired)
            .ok_or_else(|| ExecError::NotFound(format!("run {} has no artifact {name}", run.id)))?;
        let reply = self
            .get(format!(
                "/repos/{repo}/actions/artifacts/{}/zip",
                artifact.id
            ))
            .await?;
        match reply.status.as_u16() {
            200 => Ok(reply.body.to_vec()),
            301 | 302 | 303 | 307 => {
                let location = reply
                    .headers
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| unavailable("artifact redirect without a location"))?;
                // Short-lived storage elsewhere: fetched without credentials.
                let blob = self.client.download(location).await.map_err(unavailable)?;
                if blob.status != StatusCode::OK {
                    return Err(failure(&blob, "artifact download"));
                }
                Ok(blob.body.to_vec())
            }
            _ => Err(failure(&reply, "artifact")),
        }
    }

    /// The plan in the artifact of the completed `run`.
    async fn fetch_plan(&self, spec: &RunSpec, run: &GhRun) -> Result<PlanOutput, ExecError> {
        self.fetch_artifact(spec, run)
            .await?
            .plan
            .clone()
            .ok_or_else(|| {
                ExecError::NotFound(format!("the artifact of run {} has no plan.json", run.id))
            })
    }

    /// Whether the run `id` was dispatched here a moment ago.
    fn recently_dispatched(&self, id: &str) -> bool {
        self.dispatched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .is_some_and(|at| at.elapsed() < VISIBLE_WITHIN)
    }

    /// Claims the dispatch of run `id` for this caller: false when it was
    /// dispatched (or is being dispatched) here a moment ago.
    fn claim(&self, id: &str) -> bool {
        let mut dispatched = self.dispatched.lock().unwrap_or_else(|p| p.into_inner());
        dispatched.retain(|_, at| at.elapsed() < VISIBLE_WITHIN);
        dispatched.insert(id.to_owned(), Instant::now()).is_none()
    }

    /// Dispatches `workflow` of `project`'s repo on the default branch
    /// (where the workflow file, and what applies run, come from) as run
    /// `id`, which the caller has [`claim`](Self::claim)ed; a dispatch
    /// that fails gives the claim back.
    async fn send_dispatch(
        &self,
        project: &ProjectKey,
        workflow: &str,
        inputs: Value,
        id: &str,
    ) -> Result<(), ExecError> {
        let sent = self.post_dispatch(project, workflow, inputs).await;
        match &sent {
            Ok(()) => tracing::info!(run = %id, workflow, "workflow dispatched"),
            Err(_) => {
                self.dispatched
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(id);
            }
        }
        sent
    }

    async fn post_dispatch(
        &self,
        project: &ProjectKey,
        workflow: &str,
        inputs: Value,
    ) -> Result<(), ExecError> {
        let repo = self.repo(project)?;
        let body = json!({ "ref": self.default_branch(project), "inputs": inputs });
        let reply = self
            .client
            .send(
                Method::POST,
                &format!("/repos/{repo}/actions/workflows/{workflow}/dispatches"),
                Some(&body),
                Retry::Once,
            )
            .await
            .map_err(unavailable)?;
        if reply.status != StatusCode::NO_CONTENT {
            return Err(failure(&reply, &format!("dispatch of {workflow}")));
        }
        Ok(())
    }
}

/// The `inputs` of the dispatch of `spec`: plans get the commit to plan,
/// applies and destroys their scope (they always check out main).
fn dispatch_inputs(spec: &RunSpec) -> Result<Value, ExecError> {
    let mut inputs = json!({
        "project": spec.project.as_str(),
        "environment": spec.environment.as_str(),
        "request_id": spec.request.to_string(),
        "attempt": spec.attempt.to_string(),
    });
    match spec.kind {
        RunKind::Plan => inputs["ref"] = json!(spec.sha),
        RunKind::Apply | RunKind::Destroy => {
            let scope = spec
                .scope
                .as_ref()
                .ok_or_else(|| ExecError::Invalid(format!("run {} has no scope", spec.run_id())))?;
            let scope = serde_json::to_string(scope)
                .map_err(|e| ExecError::Invalid(format!("scope of {}: {e}", spec.run_id())))?;
            inputs["scope"] = json!(scope);
        }
    }
    Ok(inputs)
}

#[async_trait]
impl Executor for ActionsExecutor {
    fn name(&self, _project: &ProjectKey) -> &'static str {
        "actions"
    }

    async fn dispatch(&self, spec: &RunSpec) -> Result<RunInfo, ExecError> {
        let inputs = dispatch_inputs(spec)?;
        if self.find(spec).await?.is_some() {
            return self.status(spec).await;
        }
        if !self.claim(&spec.run_id()) {
            return Ok(self.info(spec, None));
        }
        self.send_dispatch(
            &spec.project,
            workflow_file(spec.kind),
            inputs,
            &spec.run_id(),
        )
        .await?;
        // The run shows up in the list a moment later.
        for _ in 0..10 {
            if let Some(run) = self.find(spec).await? {
                return Ok(self.info(spec, Some(&run)));
            }
            tokio::time::sleep(self.poll).await;
        }
        Ok(self.info(spec, None))
    }

    async fn status(&self, spec: &RunSpec) -> Result<RunInfo, ExecError> {
        let Some(run) = self.find(spec).await? else {
            if self.recently_dispatched(&spec.run_id()) {
                return Ok(self.info(spec, None));
            }
            return Err(ExecError::NotFound(format!("run {}", run_name(spec))));
        };
        let mut info = self.info(spec, Some(&run));
        if info.status != RunStatus::Completed {
            return Ok(info);
        }
        // A plan's artifact matters once it succeeded; an apply's or a
        // destroy's whatever the outcome (a blocked run fails on GitHub).
        if spec.kind == RunKind::Plan && info.conclusion != Some(Conclusion::Success) {
            return Ok(info);
        }
        match self.fetch_artifact(spec, &run).await {
            Ok(artifact) if spec.kind == RunKind::Plan => {
                info.summary = artifact.plan.as_ref().map(|p| p.summary);
            }
            Ok(artifact) => info = artifact::report(info, &artifact),
            Err(ExecError::NotFound(e)) => {
                tracing::warn!(run = %spec.run_id(), "no artifact: {e}");
            }
            Err(e) => return Err(e),
        }
        Ok(info)
    }

    async fn drift(&self, spec: &DriftSpec) -> Result<DriftReport, ExecError> {
        self.drift_check(spec).await
    }

    async fn log(&self, spec: &RunSpec) -> Result<String, ExecError> {
        let run = self
            .find(spec)
            .await?
            .ok_or_else(|| ExecError::NotFound(format!("run {}", run_name(spec))))?;
        let status = run.status.as_deref().unwrap_or("queued");
        if status == "completed"
            && let Ok(artifact) = self.fetch_artifact(spec, &run).await
            && let Some(plan) = &artifact.plan
        {
            let mut log = plan.log.clone();
            if !artifact.blocked.is_empty() {
                log.push_str(&format!(
                    "\n# {}\n# Nothing was applied.\n",
                    app::domain::scope::describe(&artifact.blocked)
                ));
            }
            if let Some(apply) = &artifact.apply_log {
                log.push_str(apply);
            }
            return Ok(log);
        }
        Ok(format!(
            "The run is {status} on GitHub Actions; its full log is at {}\n",
            run.html_url
        ))
    }

    async fn plan_output(&self, spec: &RunSpec) -> Result<PlanOutput, ExecError> {
        let run = self
            .find(spec)
            .await?
            .ok_or_else(|| ExecError::NotFound(format!("run {}", run_name(spec))))?;
        if run.status.as_deref() != Some("completed") {
            return Err(ExecError::NotFound(format!(
                "run {} has not finished",
                run_name(spec)
            )));
        }
        self.fetch_plan(spec, &run).await
    }
}

mod drift;
#[cfg(test)]
mod tests;
