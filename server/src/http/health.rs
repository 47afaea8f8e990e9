//! Liveness and readiness.

use super::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the store answers and `git` runs (503 otherwise). Stored
/// documents the index had to skip are listed, without failing readiness.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let store = match state.stores.requests.list("requests/", None, 1).await {
        Ok(_) => json!({ "ok": true, "backend": state.stores.requests.describe() }),
        Err(e) => {
            json!({ "ok": false, "backend": state.stores.requests.describe(), "error": e.to_string() })
        }
    };
    let git = tokio::process::Command::new("git")
        .arg("--version")
        .output()
        .await;
    let git = match git {
        Ok(out) if out.status.success() => json!({ "ok": true }),
        _ => json!({ "ok": false, "error": "`git` is not on the PATH" }),
    };
    let skipped: Vec<Value> = state
        .requests
        .index()
        .problems()
        .into_iter()
        .map(|(key, error)| json!({ "key": key, "error": error }))
        .collect();
    let ready = store["ok"] == true && git["ok"] == true;
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "store": store,
        "git": git,
        "index": { "requests": state.requests.index().len(), "skipped_documents": skipped },
    });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}
