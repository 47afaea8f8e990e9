//! The integrations page's plain form posts: save (create or replace; an
//! empty secret keeps the stored one) and delete, as the signed-in admin
//! through the same service as the API, then back to the page with the
//! outcome — a sentence that never holds a value.

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::forms::outcome;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

const PAGE: &str = "/admin/integrations";

/// `POST /admin/integrations`: `kind`, `name` and the kind's fields.
pub async fn save(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    axum::Form(mut form): axum::Form<BTreeMap<String, String>>,
) -> Response {
    let done = async {
        let Caller(actor) = caller?;
        let kind = form.remove("kind").unwrap_or_default();
        let name = form.remove("name").unwrap_or_default();
        let body: Map<String, Value> = form
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let (view, created) = state
            .integrations
            .put(&actor, &kind, name.trim(), &Value::Object(body))
            .await?;
        Ok(format!(
            "{} {}/{} (version {}, key {}).",
            if created { "Added" } else { "Saved" },
            view.kind,
            view.name,
            view.version,
            view.key_id
        ))
    }
    .await;
    outcome(PAGE, done)
}

/// `POST /admin/integrations/{kind}/{name}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path((kind, name)): Path<(String, String)>,
) -> Response {
    let done = async {
        let Caller(actor) = caller?;
        state.integrations.delete(&actor, &kind, &name).await?;
        Ok(format!("Deleted {kind}/{name}."))
    }
    .await;
    outcome(PAGE, done)
}

/// `POST /admin/integrations/{kind}/{name}/test`: the connection test,
/// its answer shown on the page.
pub async fn test(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path((kind, name)): Path<(String, String)>,
) -> Response {
    let done = async {
        let Caller(actor) = caller?;
        let checked = super::integrations::run_test(&state, &actor, &kind, &name).await?;
        if checked.ok {
            Ok(format!("{kind}/{name}: {}", checked.message))
        } else {
            Err(ApiError::Conflict(format!(
                "{kind}/{name}: the test failed: {}",
                checked.message
            )))
        }
    }
    .await;
    outcome(PAGE, done)
}
