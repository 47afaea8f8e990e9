//! Remediation policies over the API: admins create, replace and delete
//! them; approvers read them and try an alert against them
//! (`POST /api/v1/policies/test`, which does nothing).

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::service::policies::PoliciesError;
use app::domain::remediation::webhook;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

impl From<PoliciesError> for ApiError {
    fn from(e: PoliciesError) -> Self {
        match e {
            PoliciesError::Forbidden { rule, message } => Self::Forbidden { rule, message },
            PoliciesError::NotFound(_) => Self::NotFound(e.to_string()),
            PoliciesError::Exists(_) => Self::Conflict(e.to_string()),
            PoliciesError::Invalid(fields) => Self::Unprocessable(fields),
            PoliciesError::Store(s) => s.into(),
        }
    }
}

/// `GET /api/v1/policies`: every policy, in the order they are tried.
#[utoipa::path(
    get,
    path = "/api/v1/policies",
    responses(
        (status = 200, description = "`{\"policies\": [...]}`, lowest priority number first", body = Object),
        (status = 403, description = "Not an approver or admin (`policies.approver`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Value>, ApiError> {
    let policies = state.policies.list(&actor).await?;
    Ok(Json(json!({ "policies": policies })))
}

/// `POST /api/v1/policies`: 201 with the stored policy.
#[utoipa::path(
    post,
    path = "/api/v1/policies",
    request_body(content = Object, description = "A remediation policy (see the `Policy` schema)"),
    responses(
        (status = 201, description = "The stored policy", body = Object),
        (status = 403, description = "Not an admin (`policies.admin`)", body = ErrorBody),
        (status = 409, description = "A policy of that name exists (PUT replaces it)", body = ErrorBody),
        (status = 422, description = "A field breaks its rule — an unknown, sensitive or immutable module input, an invalid `=~` regex, a bad template, a production environment auto-approved; `fields` names each", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let stored = state.policies.create(&actor, &body).await?;
    Ok((StatusCode::CREATED, Json(json!(stored))))
}

/// `GET /api/v1/policies/{name}`.
#[utoipa::path(
    get,
    path = "/api/v1/policies/{name}",
    params(("name" = String, Path, description = "Policy name")),
    responses(
        (status = 200, description = "The policy", body = Object),
        (status = 403, description = "Not an approver or admin (`policies.approver`)", body = ErrorBody),
        (status = 404, description = "No such policy", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.policies.get(&actor, &name).await?)))
}

/// `PUT /api/v1/policies/{name}`: creates (201) or replaces (200).
#[utoipa::path(
    put,
    path = "/api/v1/policies/{name}",
    params(("name" = String, Path, description = "Policy name")),
    request_body(content = Object, description = "The whole policy; `name`, when given, must be the path's"),
    responses(
        (status = 200, description = "Replaced", body = Object),
        (status = 201, description = "Created", body = Object),
        (status = 403, description = "Not an admin (`policies.admin`)", body = ErrorBody),
        (status = 422, description = "A field breaks its rule; `fields` names each", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn replace(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (stored, created) = state.policies.replace(&actor, &name, &body).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!(stored))))
}

/// `DELETE /api/v1/policies/{name}`: 204.
#[utoipa::path(
    delete,
    path = "/api/v1/policies/{name}",
    params(("name" = String, Path, description = "Policy name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin (`policies.admin`)", body = ErrorBody),
        (status = 404, description = "No such policy", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.policies.delete(&actor, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/policies/test`: which policy each alert of an
/// Alertmanager payload matches and what it would do. Nothing is stored
/// or done.
#[utoipa::path(
    post,
    path = "/api/v1/policies/test",
    request_body(content = Object, description = "An Alertmanager webhook payload (version 4)"),
    responses(
        (status = 200, description = "`{\"results\": [{alert, policy, planned, error, outcome}]}`, one per alert", body = Object),
        (status = 400, description = "Not an Alertmanager webhook payload; `field` names what is wrong", body = ErrorBody),
        (status = 403, description = "Not an approver or admin (`policies.approver`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn test(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let payload = webhook::read(&body).map_err(|e| ApiError::BadRequest {
        message: format!("{} {}", e.field, e.message),
        field: Some(e.field),
    })?;
    let results = state.policies.dry_run(&actor, &payload.alerts).await?;
    Ok(Json(json!({ "results": results })))
}
