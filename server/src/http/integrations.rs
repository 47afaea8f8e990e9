//! Integration credentials over the API, for admins: listed and read
//! without their secrets, set with `PUT` (a secret field left out keeps
//! the stored one) and deleted. Without a master key every route answers
//! 409 naming `TFPILOT_MASTER_KEY`.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::service::integrations::IntegrationsError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

impl From<IntegrationsError> for ApiError {
    fn from(e: IntegrationsError) -> Self {
        match e {
            IntegrationsError::Forbidden { rule, message } => Self::Forbidden { rule, message },
            IntegrationsError::Unavailable | IntegrationsError::Unreadable { .. } => {
                Self::Conflict(e.to_string())
            }
            IntegrationsError::NotFound(message) => Self::NotFound(message),
            IntegrationsError::Invalid(fields) => Self::Unprocessable(fields),
            IntegrationsError::Store(s) => s.into(),
        }
    }
}

/// `GET /api/v1/integrations`: every integration, without its secret.
#[utoipa::path(
    get,
    path = "/api/v1/integrations",
    responses(
        (status = 200, description = "`{\"integrations\": [...]}` by kind then name: clear fields, the names of the secret fields set, `set_at`, `set_by`, `key_id`, `state` (`ok`, or `unreadable (wrong key?)` with the `problem`), and for a `default` record whose kind's environment variable is set, `env_wins` (`TFPILOT_SLACK_BOT_TOKEN is set and wins`: the record is not used); never a secret", body = Object),
        (status = 403, description = "Not an admin (`integrations.admin`)", body = ErrorBody),
        (status = 409, description = "No master key: TFPILOT_MASTER_KEY is not set", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Value>, ApiError> {
    let integrations = state.integrations.list(&actor).await?;
    Ok(Json(json!({ "integrations": integrations })))
}

/// `GET /api/v1/integrations/{kind}/{name}`.
#[utoipa::path(
    get,
    path = "/api/v1/integrations/{kind}/{name}",
    params(
        ("kind" = String, Path, description = "github_app, github_token, slack, tfc, model, smtp or webhook_secret"),
        ("name" = String, Path, description = "The integration's name (adapters use `default`)"),
    ),
    responses(
        (status = 200, description = "The integration without its secret (with `env_wins` when its kind's environment variable is set and the record is `default`)", body = Object),
        (status = 403, description = "Not an admin (`integrations.admin`)", body = ErrorBody),
        (status = 404, description = "No such kind, or no integration of that name", body = ErrorBody),
        (status = 409, description = "No master key: TFPILOT_MASTER_KEY is not set", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((kind, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(
        state.integrations.get(&actor, &kind, &name).await?
    )))
}

/// `PUT /api/v1/integrations/{kind}/{name}`: creates (201) or replaces (200).
#[utoipa::path(
    put,
    path = "/api/v1/integrations/{kind}/{name}",
    params(
        ("kind" = String, Path, description = "github_app, github_token, slack, tfc, model, smtp or webhook_secret"),
        ("name" = String, Path, description = "The integration's name: ^[a-z0-9][a-z0-9-]{0,62}$"),
    ),
    request_body(content = Object, description = "The kind's fields as strings (see the `Integration` schema). Clear fields are set as given (one left out is removed); a secret field left out or empty keeps the stored value; a new integration needs every secret"),
    responses(
        (status = 200, description = "Replaced; the integration without its secret", body = Object),
        (status = 201, description = "Created; the integration without its secret", body = Object),
        (status = 403, description = "Not an admin (`integrations.admin`)", body = ErrorBody),
        (status = 404, description = "No such kind", body = ErrorBody),
        (status = 409, description = "No master key (TFPILOT_MASTER_KEY is not set), or a secret left out to keep whose stored value does not open (wrong key?)", body = ErrorBody),
        (status = 422, description = "A field breaks its rule (required, not a field of the kind, a string, its length, an http(s) or smtp(s) URL, digits, a PEM key, a mailbox) or the name is invalid; `fields` names each", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn put(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((kind, name)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (view, created) = state.integrations.put(&actor, &kind, &name, &body).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!(view))))
}

/// `DELETE /api/v1/integrations/{kind}/{name}`: 204.
#[utoipa::path(
    delete,
    path = "/api/v1/integrations/{kind}/{name}",
    params(
        ("kind" = String, Path, description = "github_app, github_token, slack, tfc, model, smtp or webhook_secret"),
        ("name" = String, Path, description = "The integration's name"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin (`integrations.admin`)", body = ErrorBody),
        (status = 404, description = "No such kind, or no integration of that name", body = ErrorBody),
        (status = 409, description = "No master key: TFPILOT_MASTER_KEY is not set", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((kind, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.integrations.delete(&actor, &kind, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/integrations/{kind}/{name}/test`: the stored values tried
/// against the service (Slack `auth.test`, GitHub `/app` or `/user`, HCP
/// Terraform `/account/details`); its answer, never a secret.
#[utoipa::path(
    post,
    path = "/api/v1/integrations/{kind}/{name}/test",
    params(
        ("kind" = String, Path, description = "slack, github_app, github_token or tfc (the kinds with a connection test)"),
        ("name" = String, Path, description = "The integration's name"),
    ),
    responses(
        (status = 200, description = "`{\"ok\": true|false, \"message\"}`: the service's answer in a sentence (`ok: false` when it refused the credentials or could not be reached)", body = Object),
        (status = 403, description = "Not an admin (`integrations.admin`)", body = ErrorBody),
        (status = 404, description = "No such kind, or no integration of that name", body = ErrorBody),
        (status = 409, description = "No master key (TFPILOT_MASTER_KEY is not set), or the stored secret does not open (wrong key?)", body = ErrorBody),
        (status = 422, description = "A kind without a connection test (`field`: `kind`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn test(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((kind, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let checked = run_test(&state, &actor, &kind, &name).await?;
    Ok(Json(json!(checked)))
}

/// The test for the API and the page's button.
pub(super) async fn run_test(
    state: &AppState,
    actor: &app::domain::policy::Actor,
    kind: &str,
    name: &str,
) -> Result<crate::integrations::check::Checked, ApiError> {
    use crate::integrations::check;
    let (kind, resolved) = state
        .integrations
        .for_test(actor, kind, name, &check::TESTABLE)
        .await?;
    let checked = check::check(kind, &resolved.metadata, &resolved.secrets)
        .await
        .unwrap_or(check::Checked {
            ok: false,
            message: "no connection test for this kind".into(),
        });
    state
        .integrations
        .tested(actor, kind, name, checked.ok)
        .await;
    Ok(checked)
}
