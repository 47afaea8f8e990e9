//! Actions: `workflow_dispatch` reads the workflow from the repo, checks
//! its inputs (no unknown ones, every required one), names the run from its
//! `run-name`, and runs what the tfpilot workflows run (real terraform on
//! the sandbox modules, state kept by the fake per repo + environment),
//! then uploads the run's files as a zip artifact and sends `workflow_run`
//! webhooks. Plans check out their `ref` input; applies and destroys check
//! out `main` when the job starts, save the plan (destroys `-target` the
//! scope's block), run the checked-out repo's own
//! `.github/tfpilot/check_plan.py` with `TFPILOT_SCOPE`, and apply the saved
//! plan only when it exits 0 (3: the run fails with `check.json`).
//! Drift runs are `drift.rs`'s.

use super::{Fake, error};
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::io::Write as _;
use std::path::Path as FsPath;
use tokio::process::Command;

#[derive(Debug, Clone)]
pub struct Run {
    pub id: u64,
    pub workflow: String,
    pub name: String,
    pub display_title: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub head_sha: String,
    /// The `ref` of the dispatch body (the branch the workflow was read from).
    pub dispatch_ref: String,
    pub inputs: Map<String, Value>,
    /// (artifact id, name)
    pub artifacts: Vec<(u64, String)>,
}

pub fn routes() -> Router<Fake> {
    Router::new()
        .route(
            "/repos/{owner}/{repo}/actions/workflows/{file}/dispatches",
            post(dispatch),
        )
        .route(
            "/repos/{owner}/{repo}/actions/workflows/{file}/runs",
            get(list),
        )
        .route(
            "/repos/{owner}/{repo}/actions/runs/{id}/artifacts",
            get(artifacts),
        )
        .route("/repos/{owner}/{repo}/actions/artifacts/{id}/zip", get(zip))
}

fn run_json(owner: &str, repo: &str, r: &Run) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "display_title": r.display_title,
        "event": "workflow_dispatch",
        "status": r.status,
        "conclusion": r.conclusion,
        "head_sha": r.head_sha,
        "path": format!(".github/workflows/{}", r.workflow),
        "html_url": format!("https://github.example/{owner}/{repo}/actions/runs/{}", r.id),
    })
}

/// The value of a top-level `key:` line of a workflow, unquoted.
fn top_level(workflow: &str, key: &str) -> Option<String> {
    workflow.lines().find_map(|l| {
        let v = l.strip_prefix(key)?.strip_prefix(':')?.trim();
        Some(v.trim_matches('"').to_owned())
    })
}

/// `${{ inputs.x }}` replaced by the input's value.
fn evaluate(template: &str, inputs: &Map<String, Value>) -> String {
    let mut out = template.to_owned();
    for (k, v) in inputs {
        out = out.replace(
            &format!("${{{{ inputs.{k} }}}}"),
            v.as_str().unwrap_or_default(),
        );
    }
    out
}

/// The names of the `workflow_dispatch` inputs marked `required: true`.
fn required_inputs(workflow: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in workflow.lines() {
        if let Some(name) = line
            .strip_prefix("      ")
            .filter(|l| !l.starts_with(' '))
            .and_then(|l| l.strip_suffix(':'))
        {
            current = Some(name.to_owned());
        } else if line.trim() == "required: true"
            && let Some(name) = current.take()
        {
            out.push(name);
        } else if !line.starts_with("      ") {
            current = None;
        }
    }
    out
}

#[derive(Deserialize)]
struct DispatchBody {
    #[serde(rename = "ref")]
    rev: String,
    #[serde(default)]
    inputs: Map<String, Value>,
}

async fn dispatch(
    State(fake): State<Fake>,
    Path((owner, repo, file)): Path<(String, String, String)>,
    Json(body): Json<DispatchBody>,
) -> Response {
    let git = match fake.git_of(&owner, &repo) {
        Ok(g) => g,
        Err(e) => return *e,
    };
    let Some(head) = git.resolve(&body.rev).await else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("No ref found for: {}", body.rev),
        );
    };
    let Some(workflow) = git
        .blob_bytes(&format!("{head}:.github/workflows/{file}"))
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
    else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    if !workflow.contains("workflow_dispatch:") {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Workflow does not have 'workflow_dispatch' trigger",
        );
    }
    let unexpected: Vec<&String> = body
        .inputs
        .keys()
        .filter(|k| !workflow.contains(&format!("\n      {k}:\n")))
        .collect();
    if !unexpected.is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("Unexpected inputs provided: {unexpected:?}"),
        );
    }
    let missing: Vec<String> = required_inputs(&workflow)
        .into_iter()
        .filter(|k| !body.inputs.contains_key(k))
        .collect();
    if !missing.is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("Required input {missing:?} not provided"),
        );
    }
    let name = top_level(&workflow, "name").unwrap_or_else(|| file.clone());
    let display_title = top_level(&workflow, "run-name")
        .map(|t| evaluate(&t, &body.inputs))
        .unwrap_or_else(|| name.clone());
    let run = {
        let mut s = fake.state.lock().unwrap();
        s.next_run += 1;
        let run = Run {
            id: 1000 + s.next_run,
            workflow: file.clone(),
            name,
            display_title,
            status: "queued".into(),
            conclusion: None,
            head_sha: head,
            dispatch_ref: body.rev,
            inputs: body.inputs,
            artifacts: Vec::new(),
        };
        s.repos
            .get_mut(&format!("{owner}/{repo}"))
            .unwrap()
            .runs
            .push(run.clone());
        run
    };
    tokio::spawn(execute(fake, owner, repo, run));
    StatusCode::NO_CONTENT.into_response()
}

fn update(fake: &Fake, owner: &str, repo: &str, id: u64, f: impl FnOnce(&mut Run)) -> Run {
    let mut s = fake.state.lock().unwrap();
    let run = s
        .repos
        .get_mut(&format!("{owner}/{repo}"))
        .unwrap()
        .runs
        .iter_mut()
        .find(|r| r.id == id)
        .unwrap();
    f(run);
    run.clone()
}

async fn notify(fake: &Fake, owner: &str, repo: &str, run: &Run, action: &str) {
    let payload = json!({
        "action": action,
        "workflow_run": run_json(owner, repo, run),
        "repository": { "full_name": format!("{owner}/{repo}") },
    });
    fake.webhook("workflow_run", payload).await;
}

/// Runs the job the way the tfpilot workflows do.
async fn execute(fake: Fake, owner: String, repo: String, run: Run) {
    notify(&fake, &owner, &repo, &run, "requested").await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let run = update(&fake, &owner, &repo, run.id, |r| {
        r.status = "in_progress".into()
    });
    notify(&fake, &owner, &repo, &run, "in_progress").await;
    let outcome = if run.workflow == "tfpilot-drift.yml" {
        super::drift::job(&fake, &owner, &repo, &run).await
    } else {
        job(&fake, &owner, &repo, &run).await
    };
    let (conclusion, artifact) = match outcome {
        Ok((true, zip)) => ("success", Some(zip)),
        Ok((false, zip)) => ("failure", Some(zip)),
        Err(e) => {
            eprintln!("fake GitHub: run {} failed: {e}", run.display_title);
            ("failure", None)
        }
    };
    let artifact = artifact.map(|bytes| {
        let mut s = fake.state.lock().unwrap();
        s.next_artifact += 1;
        let id = 5000 + s.next_artifact;
        s.blobs.insert(id, bytes);
        id
    });
    let kind = run
        .workflow
        .trim_start_matches("tfpilot-")
        .trim_end_matches(".yml")
        .to_owned();
    let run = update(&fake, &owner, &repo, run.id, |r| {
        r.status = "completed".into();
        r.conclusion = Some(conclusion.into());
        if let Some(id) = artifact {
            let input = |k: &str| r.inputs.get(k).and_then(Value::as_str).unwrap_or_default();
            let name = if kind == "drift" {
                format!("tfpilot-drift-{}", input("drift_run"))
            } else {
                format!(
                    "tfpilot-{kind}-{}-{}",
                    input("request_id"),
                    input("attempt")
                )
            };
            r.artifacts.push((id, name));
        }
    });
    notify(&fake, &owner, &repo, &run, "completed").await;
}

/// `module.<module>_<16 chars of 0-9a-z>`, the destroy workflow's check
/// of its target.
fn is_block_address(target: &str) -> bool {
    let Some((module, id)) = target
        .strip_prefix("module.")
        .and_then(|n| n.rsplit_once('_'))
    else {
        return false;
    };
    !module.is_empty()
        && module
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && id.len() == 16
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Checkout → init → plan → show (→ check → apply): whether the job
/// succeeded, and the zip of the files the workflow uploads.
async fn job(fake: &Fake, owner: &str, repo: &str, run: &Run) -> Result<(bool, Vec<u8>), String> {
    let input = |k: &str| {
        run.inputs
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let env = input("environment");
    let converge = matches!(
        run.workflow.as_str(),
        "tfpilot-apply.yml" | "tfpilot-destroy.yml"
    );
    // Applies and destroys check out main as the job starts, whatever main
    // was at dispatch; plans their `ref` input.
    let rev = if converge {
        "main".to_owned()
    } else {
        input("ref")
    };
    let git = fake.repo(&format!("{owner}/{repo}"));
    let checkout = tempfile::tempdir().map_err(|e| e.to_string())?;
    let sha = git
        .resolve(&rev)
        .await
        .ok_or(format!("no such ref {rev}"))?;
    git.export(&sha, checkout.path()).await;
    let dir = checkout.path().join("envs").join(&env);
    let state = fake
        .state_dir()
        .join(owner)
        .join(repo)
        .join(format!("{env}.tfstate"));
    std::fs::create_dir_all(state.parent().unwrap()).map_err(|e| e.to_string())?;
    let backend = format!("-backend-config=path={}", state.display());
    tf(&dir, &["init", "-input=false", "-no-color", &backend]).await?;
    let mut plan_args = vec![
        "plan".to_owned(),
        "-input=false".into(),
        "-no-color".into(),
        "-lock-timeout=60s".into(),
        "-out=tfplan".into(),
    ];
    let scope = input("scope");
    if run.workflow == "tfpilot-destroy.yml" {
        let target = serde_json::from_str::<Value>(&scope)
            .ok()
            .and_then(|s| s["target"].as_str().map(str::to_owned))
            .unwrap_or_default();
        if !is_block_address(&target) {
            return Err(format!(
                "the scope's target is not a tfpilot block: {target:?}"
            ));
        }
        plan_args.push(format!("-target={target}"));
    }
    let plan_args: Vec<&str> = plan_args.iter().map(String::as_str).collect();
    let mut files = vec![("plan.txt", tf(&dir, &plan_args).await?)];
    let plan_json = tf(&dir, &["show", "-json", "tfplan"]).await?;
    files.push(("plan.json", plan_json.clone()));
    if !converge {
        return Ok((true, zip_of(&files)?));
    }
    files.push(("ran_at.txt", format!("{sha}\n").into_bytes()));
    std::fs::write(dir.join("plan.json"), &plan_json).map_err(|e| e.to_string())?;
    let check = Command::new("python3")
        .arg(checkout.path().join(".github/tfpilot/check_plan.py"))
        .args(["plan.json", "check.json"])
        .current_dir(&dir)
        .env("TFPILOT_SCOPE", &scope)
        .output()
        .await
        .map_err(|e| format!("python3: {e}"))?;
    if let Ok(written) = std::fs::read(dir.join("check.json")) {
        files.push(("check.json", written));
    }
    match check.status.code() {
        Some(0) => {}
        Some(3) => return Ok((false, zip_of(&files)?)),
        _ => {
            return Err(format!(
                "check_plan.py: {}{}",
                String::from_utf8_lossy(&check.stdout),
                String::from_utf8_lossy(&check.stderr)
            ));
        }
    }
    let apply = tf(
        &dir,
        &[
            "apply",
            "-input=false",
            "-no-color",
            "-lock-timeout=60s",
            "tfplan",
        ],
    )
    .await?;
    files.push(("apply.txt", apply));
    Ok((true, zip_of(&files)?))
}

pub(super) fn zip_of(files: &[(&str, Vec<u8>)]) -> Result<Vec<u8>, String> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(*name, options).map_err(|e| e.to_string())?;
        zip.write_all(bytes).map_err(|e| e.to_string())?;
    }
    Ok(zip.finish().map_err(|e| e.to_string())?.into_inner())
}

pub(super) async fn tf(dir: &FsPath, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .await
        .map_err(|e| format!("terraform: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "terraform {}: {}",
            args[0],
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

async fn list(
    State(fake): State<Fake>,
    Path((owner, repo, file)): Path<(String, String, String)>,
) -> Response {
    if let Err(e) = fake.git_of(&owner, &repo) {
        return *e;
    }
    let runs: Vec<Value> = fake.state.lock().unwrap().repos[&format!("{owner}/{repo}")]
        .runs
        .iter()
        .rev()
        .filter(|r| r.workflow == file)
        .map(|r| run_json(&owner, &repo, r))
        .collect();
    Json(json!({ "total_count": runs.len(), "workflow_runs": runs })).into_response()
}

async fn artifacts(
    State(fake): State<Fake>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
) -> Response {
    let s = fake.state.lock().unwrap();
    let Some(run) = s
        .repos
        .get(&format!("{owner}/{repo}"))
        .and_then(|r| r.runs.iter().find(|r| r.id == id))
    else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let list: Vec<Value> = run
        .artifacts
        .iter()
        .map(|(id, name)| {
            json!({
                "id": id,
                "name": name,
                "expired": false,
                "size_in_bytes": s.blobs.get(id).map_or(0, Vec::len),
                "archive_download_url": format!("{}/repos/{owner}/{repo}/actions/artifacts/{id}/zip", fake.api_url()),
            })
        })
        .collect();
    Json(json!({ "total_count": list.len(), "artifacts": list })).into_response()
}

/// Like GitHub: a redirect to short-lived blob storage elsewhere.
async fn zip(
    State(fake): State<Fake>,
    Path((_owner, _repo, id)): Path<(String, String, u64)>,
) -> Response {
    if !fake.state.lock().unwrap().blobs.contains_key(&id) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let location = format!("http://localhost:{}/_blobs/{id}", fake.addr.port());
    (StatusCode::FOUND, [("location", location)]).into_response()
}

/// Blob storage: refuses a request carrying GitHub credentials.
pub async fn blob(State(fake): State<Fake>, Path(id): Path<u64>, headers: HeaderMap) -> Response {
    if headers.contains_key("authorization") {
        return (
            StatusCode::BAD_REQUEST,
            "credentials must not be sent to blob storage",
        )
            .into_response();
    }
    match fake.state.lock().unwrap().blobs.get(&id) {
        Some(bytes) => bytes.clone().into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}
