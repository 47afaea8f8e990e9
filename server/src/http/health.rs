//! Liveness and readiness.

use super::AppState;
use super::error::ApiError;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the data dir is writable and `git` runs.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let dir = state.config.data_dir.clone();
    let probe = dir.join(".readyz");
    let store = tokio::fs::create_dir_all(&dir)
        .await
        .and(tokio::fs::write(&probe, b"ok").await);
    if let Err(e) = store {
        return Err(ApiError::Unavailable(format!(
            "data dir {} is not writable: {e}",
            dir.display()
        )));
    }
    let git = tokio::process::Command::new("git")
        .arg("--version")
        .output()
        .await;
    match git {
        Ok(out) if out.status.success() => Ok(Json(
            json!({ "status": "ready", "store": "ok", "git": "ok" }),
        )),
        _ => Err(ApiError::Unavailable("`git` is not on the PATH".into())),
    }
}
