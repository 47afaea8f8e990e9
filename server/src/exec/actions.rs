//! The GitHub Actions executor (production): dispatches the workflows of
//! `infra-workflows/` with `workflow_dispatch` and finds each run again by
//! its `run-name`, `tfpilot <kind> <request> attempt <n>`, which the
//! workflows build from their inputs. Nothing is remembered between calls
//! but a short list of dispatches not yet visible, so any replica (or a
//! restarted process) sees the same runs.

use super::plan::{PlanOutput, parse_show_json};
use super::{ExecError, Executor, RunInfo, RunKind, RunSpec};
use crate::git::local::MAIN;
use crate::github::{GitHubClient, Reply, Retry};
use app::domain::ids::ProjectKey;
use app::domain::request::{Conclusion, PlanSummary, RunStatus};
use async_trait::async_trait;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::io::Read as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a dispatched run may stay invisible in the runs list before a
/// second dispatch is allowed.
const VISIBLE_WITHIN: Duration = Duration::from_secs(300);

/// Runs Terraform in GitHub Actions.
pub struct ActionsExecutor {
    client: GitHubClient,
    repos: HashMap<ProjectKey, String>,
    dispatched: Mutex<HashMap<String, Instant>>,
    plans: Mutex<HashMap<String, PlanOutput>>,
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

/// The `run-name` the workflows give a run of `spec`.
pub fn run_name(spec: &RunSpec) -> String {
    format!(
        "tfpilot {} {} attempt {}",
        spec.kind.as_str(),
        spec.request,
        spec.attempt
    )
}

/// The name of the artifact holding `plan.txt` and `plan.json`.
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
            repos: repos.into_iter().collect(),
            dispatched: Mutex::new(HashMap::new()),
            plans: Mutex::new(HashMap::new()),
            poll,
        }
    }

    fn repo(&self, project: &ProjectKey) -> Result<&str, ExecError> {
        self.repos.get(project).map(String::as_str).ok_or_else(|| {
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
        let name = run_name(spec);
        for page in 1..=5 {
            let reply = self
                .get(format!(
                    "/repos/{repo}/actions/workflows/{}/runs?event=workflow_dispatch&per_page=100&page={page}",
                    workflow_file(spec.kind)
                ))
                .await?;
            if reply.status != StatusCode::OK {
                return Err(failure(
                    &reply,
                    &format!("runs of {}", workflow_file(spec.kind)),
                ));
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

    fn info(&self, spec: &RunSpec, run: Option<&GhRun>, summary: Option<PlanSummary>) -> RunInfo {
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
            run_id: spec.run_id(),
            spec: spec.clone(),
            url: run.map(|r| r.html_url.clone()),
            status,
            conclusion,
            summary,
            error,
        }
    }

    /// Downloads and reads the run's plan artifact.
    async fn fetch_plan(&self, spec: &RunSpec, run: &GhRun) -> Result<PlanOutput, ExecError> {
        if let Some(plan) = self.cached(spec) {
            return Ok(plan);
        }
        let repo = self.repo(&spec.project)?;
        let reply = self
            .get(format!("/repos/{repo}/actions/runs/{}/artifacts", run.id))
            .await?;
        if reply.status != StatusCode::OK {
            return Err(failure(&reply, "artifacts"));
        }
        let name = artifact_name(spec);
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
        let zip = match reply.status.as_u16() {
            200 => reply.body,
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
                blob.body
            }
            _ => return Err(failure(&reply, "artifact")),
        };
        let plan = read_artifact(&zip)?;
        self.plans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(spec.run_id(), plan.clone());
        Ok(plan)
    }

    fn cached(&self, spec: &RunSpec) -> Option<PlanOutput> {
        self.plans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&spec.run_id())
            .cloned()
    }

    fn recently_dispatched(&self, spec: &RunSpec) -> bool {
        self.dispatched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&spec.run_id())
            .is_some_and(|at| at.elapsed() < VISIBLE_WITHIN)
    }
}

/// Reads `plan.json` (and `plan.txt`) out of an artifact zip.
fn read_artifact(zip: &[u8]) -> Result<PlanOutput, ExecError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))
        .map_err(|e| unavailable(format!("the plan artifact is not a zip: {e}")))?;
    let mut read = |name: &str| -> Option<Vec<u8>> {
        let mut file = archive.by_name(name).ok()?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).ok()?;
        Some(bytes)
    };
    let json = read("plan.json")
        .ok_or_else(|| ExecError::NotFound("the plan artifact has no plan.json".into()))?;
    let log = read("plan.txt")
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let (summary, changes) = parse_show_json(&json)
        .map_err(|e| unavailable(format!("plan.json of the artifact: {e}")))?;
    Ok(PlanOutput {
        summary,
        changes,
        log,
    })
}

#[async_trait]
impl Executor for ActionsExecutor {
    async fn dispatch(&self, spec: &RunSpec) -> Result<RunInfo, ExecError> {
        if self.find(spec).await?.is_some() {
            return self.status(spec).await;
        }
        if self.recently_dispatched(spec) {
            return Ok(self.info(spec, None, None));
        }
        let repo = self.repo(&spec.project)?;
        let body = json!({
            "ref": MAIN,
            "inputs": {
                "project": spec.project.as_str(),
                "environment": spec.environment.as_str(),
                "request_id": spec.request.to_string(),
                "attempt": spec.attempt.to_string(),
                "ref": spec.sha,
            }
        });
        let reply = self
            .client
            .send(
                Method::POST,
                &format!(
                    "/repos/{repo}/actions/workflows/{}/dispatches",
                    workflow_file(spec.kind)
                ),
                Some(&body),
                Retry::Once,
            )
            .await
            .map_err(unavailable)?;
        if reply.status != StatusCode::NO_CONTENT {
            return Err(failure(
                &reply,
                &format!("dispatch of {}", workflow_file(spec.kind)),
            ));
        }
        self.dispatched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(spec.run_id(), Instant::now());
        tracing::info!(run = %spec.run_id(), repo, "workflow dispatched");
        // The run shows up in the list a moment later.
        for _ in 0..10 {
            if let Some(run) = self.find(spec).await? {
                return Ok(self.info(spec, Some(&run), None));
            }
            tokio::time::sleep(self.poll).await;
        }
        Ok(self.info(spec, None, None))
    }

    async fn status(&self, spec: &RunSpec) -> Result<RunInfo, ExecError> {
        let Some(run) = self.find(spec).await? else {
            if self.recently_dispatched(spec) {
                return Ok(self.info(spec, None, None));
            }
            return Err(ExecError::NotFound(format!("run {}", run_name(spec))));
        };
        let done = run.status.as_deref() == Some("completed");
        let summary = if done && run.conclusion.as_deref() == Some("success") {
            match self.fetch_plan(spec, &run).await {
                Ok(plan) => Some(plan.summary),
                Err(ExecError::NotFound(e)) => {
                    tracing::warn!(run = %spec.run_id(), "no plan summary: {e}");
                    None
                }
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        Ok(self.info(spec, Some(&run), summary))
    }

    async fn log(&self, spec: &RunSpec) -> Result<String, ExecError> {
        let run = self
            .find(spec)
            .await?
            .ok_or_else(|| ExecError::NotFound(format!("run {}", run_name(spec))))?;
        let status = run.status.as_deref().unwrap_or("queued");
        if status == "completed"
            && let Ok(plan) = self.fetch_plan(spec, &run).await
        {
            return Ok(plan.log);
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

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::ids::{EnvName, RequestId};

    #[test]
    fn run_names_match_the_workflows() {
        let spec = RunSpec {
            project: ProjectKey::parse("sandbox").unwrap(),
            environment: EnvName::parse("dev").unwrap(),
            request: RequestId::generate(1_700_000_000_000, 7),
            kind: RunKind::Apply,
            sha: "abc".into(),
            attempt: 2,
        };
        let name = run_name(&spec);
        assert_eq!(name, format!("tfpilot apply {} attempt 2", spec.request));
        assert_eq!(
            crate::http::webhooks::request_of_run_name(&name),
            Some(spec.request)
        );
        let workflow = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../infra-workflows/template/.github/workflows")
                .join(workflow_file(spec.kind)),
        )
        .unwrap();
        assert!(workflow.contains(
            "run-name: \"tfpilot apply ${{ inputs.request_id }} attempt ${{ inputs.attempt }}\""
        ));
        assert!(
            workflow.contains("name: tfpilot-apply-${{ inputs.request_id }}-${{ inputs.attempt }}")
        );
    }
}
