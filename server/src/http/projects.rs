//! Projects over the API: everyone lists and reads the projects they see
//! (a hidden one is 404, as an unknown one); admins create them and change
//! their settings; a project's admins manage its members.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::service::projects::ProjectsError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

impl From<ProjectsError> for ApiError {
    fn from(e: ProjectsError) -> Self {
        match e {
            ProjectsError::Forbidden { rule, message } => Self::Forbidden { rule, message },
            ProjectsError::NotFound(_) => Self::NotFound(e.to_string()),
            ProjectsError::Conflict { field, message } => Self::ConflictField { field, message },
            ProjectsError::Invalid(fields) => Self::Unprocessable(fields),
            ProjectsError::Store(s) => s.into(),
        }
    }
}

/// `GET /api/v1/projects`: the projects the caller sees.
#[utoipa::path(
    get,
    path = "/api/v1/projects",
    responses(
        (status = 200, description = "`{\"projects\": [...]}` in key order: each project's settings, `visibility`, `members` (login → role), the optional allow-lists, `managed_by_config`, `version` and who created and changed it when. Members-only projects the caller is no member of are left out (admins see all)", body = Object),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Value>, ApiError> {
    let projects = state.projects.list(&actor).await?;
    Ok(Json(json!({ "projects": projects })))
}

/// `POST /api/v1/projects`: 201 with the stored project.
#[utoipa::path(
    post,
    path = "/api/v1/projects",
    request_body(content = Object, description = "A new project (see the `NewProject` schema)"),
    responses(
        (status = 201, description = "The stored project, served at once (in the embedded mode its local repo exists)", body = Object),
        (status = 403, description = "Not an admin (`projects.admin`)", body = ErrorBody),
        (status = 409, description = "The key is taken (`field`: `key`)", body = ErrorBody),
        (status = 422, description = "A field breaks its rule — an invalid `key`, no `environments`, a repo the mode does not allow, `executor` tfc, a member who is no user (`members.<login>`), an unknown field; `fields` names each", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let stored = state.projects.create(&actor, &body).await?;
    Ok((StatusCode::CREATED, Json(json!(stored))))
}

/// `GET /api/v1/projects/{key}`.
#[utoipa::path(
    get,
    path = "/api/v1/projects/{key}",
    params(("key" = String, Path, description = "Project key")),
    responses(
        (status = 200, description = "The project", body = Object),
        (status = 404, description = "No such project, or one hidden from the caller (members only)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.projects.get(&actor, &key).await?)))
}

/// `PATCH /api/v1/projects/{key}`: 200 with the project as now stored.
#[utoipa::path(
    patch,
    path = "/api/v1/projects/{key}",
    params(("key" = String, Path, description = "Project key")),
    request_body(content = Object, description = "The fields to change (see the `ProjectChange` schema); `members` maps a login to a role, null removes"),
    responses(
        (status = 200, description = "The project as now stored", body = Object),
        (status = 403, description = "Not allowed: settings are for admins (`projects.admin`), members for admins and the project's admins (`projects.members`)", body = ErrorBody),
        (status = 404, description = "No such project, or one hidden from the caller", body = ErrorBody),
        (status = 409, description = "A setting tfpilot.toml owns for this project (`field` names it; change it in tfpilot.toml), or the project changed concurrently", body = ErrorBody),
        (status = 422, description = "A field breaks its rule; `fields` names each (`members.<login>` for a login that is no user)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn patch(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(
        state.projects.patch(&actor, &key, &body).await?
    )))
}
