//! Starting a run: the run is looked for by its message first; otherwise
//! a configuration version is created, its archive uploaded and awaited,
//! and the run created on it. Dispatches under way in this process are
//! remembered so a second dispatch does not start another run.

use super::api::{self, Doc, Resource, RunAttrs};
use super::client::Retry;
use super::{TfcExecutor, archive, is_run_of, lock, unavailable};
use crate::exec::{ExecError, RunInfo, RunKind, RunSpec, run_name};
use app::domain::ids::{EnvName, ProjectKey};
use app::domain::request::RunStatus;
use reqwest::Method;
use std::time::{Duration, Instant};

/// Pages of a workspace's runs looked through for a run's message.
const PAGES: u32 = 5;
/// How long an upload may take to be processed.
const UPLOAD_WITHIN: Duration = Duration::from_secs(300);

impl TfcExecutor {
    /// `dispatch`: the existing run of `spec`, or a new one.
    pub(super) async fn start(&self, spec: &RunSpec) -> Result<RunInfo, ExecError> {
        let targets = targets(spec)?;
        let ws = self.workspace_of(spec)?.clone();
        let ws_id = self.workspace_id(&ws).await?;
        if let Some(run) = self.find(spec, &ws_id).await? {
            let info = self.describe(spec, &ws, &ws_id, run).await?;
            self.follow(spec, &info);
            return Ok(info);
        }
        {
            let mut under_way = lock(&self.memory.dispatching);
            under_way.retain(|_, at| at.elapsed() < super::DISPATCH_WITHIN);
            if under_way.contains_key(&spec.run_id()) {
                return Ok(RunInfo::queued(spec));
            }
            under_way.insert(spec.run_id(), Instant::now());
        }
        let created = self.create(spec, &ws_id, &targets).await;
        // Known before the claim is dropped: no moment holds neither.
        if let Ok(run) = &created {
            lock(&self.memory.runs).insert(spec.run_id(), run.id.clone());
        }
        lock(&self.memory.dispatching).remove(&spec.run_id());
        let run = created?;
        tracing::info!(run = %spec.run_id(), tfc_run = %run.id, workspace = %ws.name, "HCP Terraform run created");
        let info = RunInfo {
            url: Some(self.run_url(&ws, &run.id)),
            status: RunStatus::Queued,
            ran_at: super::ran_at(spec, &run.attributes.message),
            ..RunInfo::queued(spec)
        };
        self.follow(spec, &info);
        Ok(info)
    }

    /// The TFC run of `spec` (the oldest whose message is its name).
    pub(super) async fn find(
        &self,
        spec: &RunSpec,
        ws_id: &str,
    ) -> Result<Option<Resource<RunAttrs>>, ExecError> {
        self.find_by(&spec.run_id(), ws_id, |m| is_run_of(spec, m))
            .await
    }

    /// The oldest TFC run of the workspace whose message `matches`,
    /// remembered as tfpilot's run `key`.
    pub(super) async fn find_by(
        &self,
        key: &str,
        ws_id: &str,
        matches: impl Fn(&str) -> bool,
    ) -> Result<Option<Resource<RunAttrs>>, ExecError> {
        let known = lock(&self.memory.runs).get(key).cloned();
        if let Some(id) = known {
            let reply = self
                .client
                .api(Method::GET, &format!("/runs/{id}"), None, Retry::Safe)
                .await
                .map_err(unavailable)?;
            if reply.status.as_u16() == 200 {
                let doc: Doc<Resource<RunAttrs>> = reply.decode("run").map_err(unavailable)?;
                return Ok(Some(doc.data));
            }
            if reply.status.as_u16() != 404 {
                return Err(unavailable(reply.error(&format!("run {id}"))));
            }
            lock(&self.memory.runs).remove(key);
        }
        let mut found = None;
        for page in 1..=PAGES {
            let path =
                format!("/workspaces/{ws_id}/runs?page%5Bnumber%5D={page}&page%5Bsize%5D=100");
            let reply = self
                .client
                .api(Method::GET, &path, None, Retry::Safe)
                .await
                .map_err(unavailable)?;
            if reply.status.as_u16() != 200 {
                return Err(unavailable(reply.error("the workspace's runs")));
            }
            let doc: Doc<Vec<Resource<RunAttrs>>> =
                reply.decode("the workspace's runs").map_err(unavailable)?;
            // Newest first: the last match is the oldest.
            if let Some(run) = doc
                .data
                .into_iter()
                .rev()
                .find(|r| matches(&r.attributes.message))
            {
                found = Some(run);
            }
            let next = doc
                .meta
                .and_then(|m| m.pagination)
                .and_then(|p| p.next_page);
            if found.is_some() || next.is_none() {
                break;
            }
        }
        if let Some(run) = &found {
            lock(&self.memory.runs).insert(key.to_owned(), run.id.clone());
        }
        Ok(found)
    }

    /// Configuration version, upload, run.
    async fn create(
        &self,
        spec: &RunSpec,
        ws_id: &str,
        targets: &[String],
    ) -> Result<Resource<RunAttrs>, ExecError> {
        let plan_only = spec.kind == RunKind::Plan;
        // Plans run at their commit; applies and destroys on the default
        // branch's tip as they start.
        let (sha, message) = if plan_only {
            (spec.sha.clone(), run_name(spec))
        } else {
            let branch = self.default_branch(&spec.project);
            let tip = self
                .tree
                .branch_head(&spec.project, &branch)
                .await
                .map_err(|e| unavailable(format!("cannot read {branch}: {e}")))?
                .ok_or_else(|| unavailable(format!("the infra repo has no {branch} branch")))?;
            let message = format!("{} on {tip}", run_name(spec));
            (tip, message)
        };
        let cv = self
            .upload_config(ws_id, &spec.project, &spec.environment, &sha, plan_only)
            .await?;
        self.create_run(&api::new_run(ws_id, &cv, &message, plan_only, targets))
            .await
    }

    /// Uploads `envs/<env>/` and `modules/` of `project` at `sha` as a
    /// configuration version of the workspace and waits until TFC has
    /// processed it; returns its id.
    pub(super) async fn upload_config(
        &self,
        ws_id: &str,
        project: &ProjectKey,
        env: &EnvName,
        sha: &str,
        speculative: bool,
    ) -> Result<String, ExecError> {
        let archive = archive::build(self.tree.as_ref(), project, env, sha)
            .await
            .map_err(unavailable)?;
        let cv = self.config_version(ws_id, speculative).await?;
        let upload_url = cv
            .attributes
            .upload_url
            .clone()
            .ok_or_else(|| unavailable("the configuration version has no upload-url"))?;
        let reply = self
            .client
            .upload(&upload_url, archive.into())
            .await
            .map_err(unavailable)?;
        if !reply.status.is_success() {
            return Err(unavailable(reply.error("archive upload")));
        }
        self.await_upload(&cv.id).await?;
        Ok(cv.id)
    }

    /// `POST /runs` with `body`.
    pub(super) async fn create_run(
        &self,
        body: &serde_json::Value,
    ) -> Result<Resource<RunAttrs>, ExecError> {
        let reply = self
            .client
            .api(Method::POST, "/runs", Some(body), Retry::Never)
            .await
            .map_err(unavailable)?;
        if reply.status.as_u16() != 201 {
            return Err(unavailable(reply.error("run creation")));
        }
        let doc: Doc<Resource<RunAttrs>> = reply.decode("the new run").map_err(unavailable)?;
        Ok(doc.data)
    }

    async fn config_version(
        &self,
        ws_id: &str,
        speculative: bool,
    ) -> Result<Resource<api::ConfigVersionAttrs>, ExecError> {
        let body = api::new_config_version(speculative);
        // A repeat only leaves an unused configuration version behind.
        let reply = self
            .client
            .api(
                Method::POST,
                &format!("/workspaces/{ws_id}/configuration-versions"),
                Some(&body),
                Retry::Safe,
            )
            .await
            .map_err(unavailable)?;
        if reply.status.as_u16() != 201 {
            return Err(unavailable(reply.error("configuration version creation")));
        }
        let doc: Doc<Resource<api::ConfigVersionAttrs>> = reply
            .decode("the new configuration version")
            .map_err(unavailable)?;
        Ok(doc.data)
    }

    /// Polls the configuration version until its archive is processed.
    async fn await_upload(&self, cv: &str) -> Result<(), ExecError> {
        let (mut wait, max) = self.poll;
        let until = Instant::now() + UPLOAD_WITHIN;
        loop {
            let reply = self
                .client
                .api(
                    Method::GET,
                    &format!("/configuration-versions/{cv}"),
                    None,
                    Retry::Safe,
                )
                .await
                .map_err(unavailable)?;
            if reply.status.as_u16() != 200 {
                return Err(unavailable(
                    reply.error(&format!("configuration version {cv}")),
                ));
            }
            let doc: Doc<Resource<api::ConfigVersionAttrs>> =
                reply.decode("configuration version").map_err(unavailable)?;
            match doc.data.attributes.status.as_str() {
                "uploaded" => return Ok(()),
                "errored" => {
                    return Err(ExecError::Invalid(format!(
                        "HCP Terraform could not process the configuration of {cv}: {}",
                        doc.data
                            .attributes
                            .error_message
                            .unwrap_or_else(|| "no reason given".into())
                    )));
                }
                _ if Instant::now() >= until => {
                    return Err(unavailable(format!(
                        "the configuration version {cv} was not processed within {UPLOAD_WITHIN:?}"
                    )));
                }
                _ => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(max);
                }
            }
        }
    }
}

/// The `target-addrs` of `spec`'s run: a destroy targets its block; an
/// apply or destroy without a scope is refused.
fn targets(spec: &RunSpec) -> Result<Vec<String>, ExecError> {
    if spec.kind == RunKind::Plan {
        return Ok(Vec::new());
    }
    let scope = spec
        .scope
        .as_ref()
        .ok_or_else(|| ExecError::Invalid(format!("run {} has no scope", spec.run_id())))?;
    if spec.kind == RunKind::Apply {
        return Ok(Vec::new());
    }
    let target = scope
        .target
        .clone()
        .ok_or_else(|| ExecError::Invalid(format!("destroy {} has no target", spec.run_id())))?;
    Ok(vec![target])
}
