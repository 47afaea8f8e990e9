//! The fake's endpoints: JSON:API documents in and out, shapes checked.

use super::{Cv, Decision, Fake, FakeState, Run, doc, error};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;

pub fn routes() -> Router<Fake> {
    Router::new()
        .route(
            "/organizations/{org}/workspaces/{name}",
            get(workspace_by_name),
        )
        .route("/workspaces/{id}", get(workspace_by_id))
        .route("/workspaces/{id}/configuration-versions", post(create_cv))
        .route("/configuration-versions/{id}", get(get_cv))
        .route("/runs", post(create_run))
        .route("/workspaces/{id}/runs", get(list_runs))
        .route("/runs/{id}", get(get_run))
        .route("/runs/{id}/actions/{action}", post(run_action))
        .route("/runs/{id}/policy-checks", get(policy_checks))
        .route(
            "/task-stages/{id}/policy-evaluations",
            get(policy_evaluations),
        )
        .route("/plans/{id}", get(get_plan))
        .route("/plans/{id}/json-output", get(plan_json))
        .route("/applies/{id}", get(get_apply))
        .route("/cost-estimates/{id}", get(cost_estimate))
        .route("/account/details", get(account_details))
}

/// `GET /account/details`: the token's user.
async fn account_details() -> Response {
    axum::Json(json!({"data": {"id": "user-tfpilot", "type": "users",
        "attributes": {"username": "tfpilot-test"}}}))
    .into_response()
}

fn not_found(what: &str) -> Response {
    error(StatusCode::NOT_FOUND, "not found", what)
}

fn unprocessable(detail: &str) -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid attribute",
        detail,
    )
}

fn ws_json(s: &FakeState, ws: &super::Ws) -> Value {
    let current = s
        .runs
        .iter()
        .rev()
        .find(|r| r.ws == ws.id && !r.plan_only)
        .map(|r| json!({ "id": r.id, "type": "runs" }));
    json!({ "data": {
        "id": ws.id, "type": "workspaces",
        "attributes": {
            "name": ws.name, "locked": s.locked(&ws.id),
            "working-directory": ws.working_dir, "execution-mode": "remote",
            "auto-apply": false,
        },
        "relationships": {
            "organization": { "data": { "id": ws.org, "type": "organizations" } },
            "current-run": { "data": current },
        },
    }})
}

async fn workspace_by_name(
    State(fake): State<Fake>,
    Path((org, name)): Path<(String, String)>,
) -> Response {
    let s = fake.state.lock().unwrap();
    match s.workspaces.iter().find(|w| w.org == org && w.name == name) {
        Some(ws) => doc(StatusCode::OK, ws_json(&s, ws)),
        None => not_found("workspace not found"),
    }
}

async fn workspace_by_id(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    let s = fake.state.lock().unwrap();
    match s.ws(&id) {
        Some(ws) => doc(StatusCode::OK, ws_json(&s, ws)),
        None => not_found("workspace not found"),
    }
}

fn cv_json(fake: &Fake, cv: &Cv) -> Value {
    let mut attributes = json!({
        "status": cv.status, "speculative": cv.speculative,
        "auto-queue-runs": cv.auto_queue_runs, "source": "tfe-api",
    });
    if cv.status == "pending" {
        attributes["upload-url"] = json!(format!("{}/_archivist/upload/{}", fake.url(), cv.id));
    }
    json!({ "data": { "id": cv.id, "type": "configuration-versions", "attributes": attributes } })
}

/// The body as JSON, `data.type` checked.
fn body_of(bytes: &Bytes, kind: &str) -> Result<Value, String> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the body is not JSON: {e}"))?;
    if v["data"]["type"] != kind {
        return Err(format!("data.type must be {kind:?}"));
    }
    if !v["data"]["attributes"].is_object() && !v["data"]["attributes"].is_null() {
        return Err("data.attributes must be an object".into());
    }
    Ok(v)
}

fn bool_attr(v: &Value, name: &str, default: bool) -> Result<bool, String> {
    match &v["data"]["attributes"][name] {
        Value::Null => Ok(default),
        Value::Bool(b) => Ok(*b),
        _ => Err(format!("{name} must be a boolean")),
    }
}

async fn create_cv(State(fake): State<Fake>, Path(ws): Path<String>, body: Bytes) -> Response {
    let parsed = body_of(&body, "configuration-versions").and_then(|v| {
        Ok((
            bool_attr(&v, "speculative", false)?,
            bool_attr(&v, "auto-queue-runs", true)?,
        ))
    });
    let (speculative, auto_queue_runs) = match parsed {
        Ok(p) => p,
        Err(detail) => return unprocessable(&detail),
    };
    if auto_queue_runs {
        return unprocessable("tfpilot must create its runs itself (auto-queue-runs: false)");
    }
    let mut s = fake.state.lock().unwrap();
    if s.ws(&ws).is_none() {
        return not_found("workspace not found");
    }
    let cv = Cv {
        id: s.id("cv"),
        ws,
        speculative,
        auto_queue_runs,
        status: "pending".into(),
        archive: None,
    };
    s.cvs.push(cv.clone());
    doc(StatusCode::CREATED, cv_json(&fake, &cv))
}

async fn get_cv(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    let s = fake.state.lock().unwrap();
    match s.cvs.iter().find(|c| c.id == id) {
        Some(cv) => doc(StatusCode::OK, cv_json(&fake, cv)),
        None => not_found("configuration version not found"),
    }
}

/// The archivist's upload URL: a gzip body, `application/octet-stream`.
pub async fn upload(
    State(fake): State<Fake>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/octet-stream")
    {
        return (
            StatusCode::BAD_REQUEST,
            "uploads are application/octet-stream",
        )
            .into_response();
    }
    if !body.starts_with(&[0x1f, 0x8b]) {
        return (StatusCode::UNPROCESSABLE_ENTITY, "not a gzip archive").into_response();
    }
    let mut s = fake.state.lock().unwrap();
    let Some(cv) = s.cvs.iter_mut().find(|c| c.id == id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    cv.archive = Some(body.to_vec());
    cv.status = "uploaded".into();
    StatusCode::OK.into_response()
}

fn rel(v: &Value, name: &str, kind: &str) -> Result<String, String> {
    let data = &v["data"]["relationships"][name]["data"];
    if data["type"] != kind {
        return Err(format!("relationships.{name}.data.type must be {kind:?}"));
    }
    data["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("relationships.{name}.data.id is missing"))
}

async fn create_run(State(fake): State<Fake>, body: Bytes) -> Response {
    type Parsed = (String, String, bool, String, Vec<String>);
    let parsed = (|| -> Result<Parsed, String> {
        let v = body_of(&body, "runs")?;
        let ws = rel(&v, "workspace", "workspaces")?;
        let cv = rel(&v, "configuration-version", "configuration-versions")?;
        let plan_only = bool_attr(&v, "plan-only", false)?;
        if bool_attr(&v, "auto-apply", false)? {
            return Err("tfpilot never auto-applies".to_owned());
        }
        let attrs = &v["data"]["attributes"];
        let message = attrs["message"]
            .as_str()
            .ok_or("message must be a string")?
            .to_owned();
        let targets = match &attrs["target-addrs"] {
            Value::Null => Vec::new(),
            Value::Array(a) => a
                .iter()
                .map(|t| t.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or("target-addrs must be strings")?,
            _ => return Err("target-addrs must be an array".to_owned()),
        };
        Ok((ws, cv, plan_only, message, targets))
    })();
    let (ws, cv, plan_only, message, targets) = match parsed {
        Ok(p) => p,
        Err(detail) => return unprocessable(&detail),
    };
    let run = {
        let mut s = fake.state.lock().unwrap();
        let Some(ws_rec) = s.ws(&ws).cloned() else {
            return not_found("workspace not found");
        };
        let Some(cv_rec) = s.cvs.iter().find(|c| c.id == cv).cloned() else {
            return not_found("configuration version not found");
        };
        if cv_rec.ws != ws || cv_rec.status != "uploaded" {
            return unprocessable(
                "the configuration version is not an uploaded one of this workspace",
            );
        }
        if cv_rec.speculative && !plan_only {
            return unprocessable("a speculative configuration version only makes plan-only runs");
        }
        let id = s.id("run");
        let run = Run {
            id: id.clone(),
            ws,
            cv,
            message,
            plan_only,
            targets,
            status: "pending".into(),
            position: 0,
            confirmable: false,
            decision: None,
            plan_status: "pending".into(),
            apply_status: "unreachable".into(),
            plan_log: String::new(),
            apply_log: String::new(),
            plan_json: None,
            has_changes: false,
            json_asked: 0,
            cost: ws_rec.cost.map(|(p, d)| (format!("ce-{id}"), p, d)),
            policy: None,
            opa: None,
            fin: false,
        };
        s.runs.push(run.clone());
        run
    };
    tokio::spawn(super::runner::execute(fake.clone(), run.id.clone()));
    doc(StatusCode::CREATED, json!({ "data": run_json(&run) }))
}

fn run_json(r: &Run) -> Value {
    let cost = r
        .cost
        .as_ref()
        .map(|(id, ..)| json!({ "id": id, "type": "cost-estimates" }));
    let policies: Vec<Value> = if r.policy.is_some() {
        vec![json!({ "id": format!("polchk-{}", r.id), "type": "policy-checks" })]
    } else {
        Vec::new()
    };
    let stages: Vec<Value> = if r.opa.is_some() {
        vec![json!({ "id": format!("ts-{}", r.id), "type": "task-stages" })]
    } else {
        Vec::new()
    };
    let discardable = r.confirmable || r.status == "policy_override";
    json!({
        "id": r.id, "type": "runs",
        "attributes": {
            "status": r.status, "message": r.message, "plan-only": r.plan_only,
            "auto-apply": false, "is-destroy": false, "target-addrs": r.targets,
            "position-in-queue": r.position, "has-changes": r.has_changes,
            "actions": { "is-confirmable": r.confirmable, "is-discardable": discardable, "is-cancelable": !r.fin },
        },
        "relationships": {
            "workspace": { "data": { "id": r.ws, "type": "workspaces" } },
            "configuration-version": { "data": { "id": r.cv, "type": "configuration-versions" } },
            "plan": { "data": { "id": format!("plan-{}", r.id), "type": "plans" } },
            "apply": { "data": { "id": format!("apply-{}", r.id), "type": "applies" } },
            "cost-estimate": { "data": cost },
            "policy-checks": { "data": policies },
            "task-stages": { "data": stages },
        },
    })
}

async fn list_runs(
    State(fake): State<Fake>,
    Path(ws): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let s = fake.state.lock().unwrap();
    if s.ws(&ws).is_none() {
        return not_found("workspace not found");
    }
    let size: usize = q
        .get("page[size]")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .clamp(1, 100);
    let page: usize = q
        .get("page[number]")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let all: Vec<&Run> = s.runs.iter().rev().filter(|r| r.ws == ws).collect();
    let data: Vec<Value> = all
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|r| run_json(r))
        .collect();
    let next = (page * size < all.len()).then_some(page + 1);
    doc(
        StatusCode::OK,
        json!({ "data": data, "meta": { "pagination": {
            "current-page": page, "next-page": next, "total-count": all.len(),
        }}}),
    )
}

async fn get_run(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    let s = fake.state.lock().unwrap();
    match s.runs.iter().find(|r| r.id == id) {
        Some(r) => doc(StatusCode::OK, json!({ "data": run_json(r) })),
        None => not_found("run not found"),
    }
}

async fn run_action(
    State(fake): State<Fake>,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if !body.is_empty() {
        let ok = serde_json::from_slice::<Value>(&body)
            .is_ok_and(|v| v.get("comment").is_none_or(Value::is_string));
        if !ok {
            return unprocessable("the body is {\"comment\": string}");
        }
    }
    let mut s = fake.state.lock().unwrap();
    let Some(run) = s.run_mut(&id) else {
        return not_found("run not found");
    };
    match action.as_str() {
        "apply" if run.confirmable => {
            run.confirmable = false;
            run.decision = Some(Decision::Apply);
            run.status = "confirmed".into();
        }
        "discard" if run.confirmable || run.status == "policy_override" => {
            run.confirmable = false;
            run.decision = Some(Decision::Discard);
            run.status = "discarded".into();
            run.fin = true;
        }
        "apply" | "discard" => {
            return error(
                StatusCode::CONFLICT,
                "transition not allowed",
                &format!("the run is {}", run.status),
            );
        }
        _ => return not_found("no such action"),
    }
    StatusCode::ACCEPTED.into_response()
}

fn phase_json(fake: &Fake, kind: &str, id: &str, status: &str) -> Value {
    let short = if kind == "plans" { "plan" } else { "apply" };
    json!({ "data": { "id": id, "type": kind, "attributes": {
        "status": status,
        "log-read-url": format!("{}/_archivist/log/{short}/{id}", fake.url()),
    }}})
}

async fn get_plan(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    let s = fake.state.lock().unwrap();
    match s.runs.iter().find(|r| format!("plan-{}", r.id) == id) {
        Some(r) => doc(
            StatusCode::OK,
            phase_json(&fake, "plans", &id, &r.plan_status),
        ),
        None => not_found("plan not found"),
    }
}

async fn get_apply(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    let s = fake.state.lock().unwrap();
    match s.runs.iter().find(|r| format!("apply-{}", r.id) == id) {
        Some(r) => doc(
            StatusCode::OK,
            phase_json(&fake, "applies", &id, &r.apply_status),
        ),
        None => not_found("apply not found"),
    }
}

/// 204 until the plan is done and once more while "generating"; then a
/// 307 to the archivist.
async fn plan_json(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    let mut s = fake.state.lock().unwrap();
    let Some(run) = s.runs.iter_mut().find(|r| format!("plan-{}", r.id) == id) else {
        return not_found("plan not found");
    };
    if run.plan_json.is_none() {
        return if run.plan_status == "errored" {
            not_found("the plan errored")
        } else {
            StatusCode::NO_CONTENT.into_response()
        };
    }
    run.json_asked += 1;
    if run.json_asked == 1 {
        return StatusCode::NO_CONTENT.into_response();
    }
    let location = format!("{}/_archivist/json/{id}", fake.url());
    (StatusCode::TEMPORARY_REDIRECT, [("location", location)]).into_response()
}

/// The archivist's copy of a plan's JSON.
pub async fn plan_json_blob(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    let s = fake.state.lock().unwrap();
    match s
        .runs
        .iter()
        .find(|r| format!("plan-{}", r.id) == id)
        .and_then(|r| r.plan_json.clone())
    {
        Some(json) => json.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The archivist's copy of a plan's or apply's log, as far as it got.
pub async fn log(State(fake): State<Fake>, Path((kind, id)): Path<(String, String)>) -> Response {
    let s = fake.state.lock().unwrap();
    let found = s.runs.iter().find_map(|r| match kind.as_str() {
        "plan" if format!("plan-{}", r.id) == id => Some(r.plan_log.clone()),
        "apply" if format!("apply-{}", r.id) == id => Some(r.apply_log.clone()),
        _ => None,
    });
    match found {
        Some(text) => format!("\u{2}{text}\u{3}").into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn cost_estimate(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    let s = fake.state.lock().unwrap();
    let Some((run, (_, proposed, delta))) = s
        .runs
        .iter()
        .find_map(|r| r.cost.as_ref().filter(|c| c.0 == id).map(|c| (r, c)))
    else {
        return not_found("cost estimate not found");
    };
    let status = if run.plan_json.is_some() {
        "finished"
    } else {
        "pending"
    };
    doc(
        StatusCode::OK,
        json!({ "data": { "id": id, "type": "cost-estimates", "attributes": {
            "status": status, "proposed-monthly-cost": proposed, "delta-monthly-cost": delta,
        }}}),
    )
}

async fn policy_checks(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    let s = fake.state.lock().unwrap();
    let Some(run) = s.runs.iter().find(|r| r.id == id) else {
        return not_found("run not found");
    };
    let data: Vec<Value> = run
        .policy
        .iter()
        .map(|(status, passed, soft, hard)| {
            json!({ "id": format!("polchk-{}", run.id), "type": "policy-checks", "attributes": {
                "status": status, "scope": "organization",
                "result": { "result": soft + hard == 0, "passed": passed, "soft-failed": soft,
                    "hard-failed": hard, "advisory-failed": 0, "total-failed": soft + hard },
            }})
        })
        .collect();
    doc(StatusCode::OK, json!({ "data": data }))
}

/// `GET /task-stages/:id/policy-evaluations`: the run's OPA evaluation.
async fn policy_evaluations(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    let s = fake.state.lock().unwrap();
    let Some(run) = s.runs.iter().find(|r| format!("ts-{}", r.id) == id) else {
        return not_found("task stage not found");
    };
    let data: Vec<Value> = run
        .opa
        .iter()
        .map(|(status, passed, advisory)| {
            json!({ "id": format!("poleval-{}", run.id), "type": "policy-evaluations", "attributes": {
                "status": status, "policy-kind": "opa", "policy-tool-version": "0.61.0",
                "result-count": { "advisory-failed": advisory, "errored": 0,
                    "mandatory-failed": 0, "passed": passed },
            }})
        })
        .collect();
    doc(StatusCode::OK, json!({ "data": data }))
}
