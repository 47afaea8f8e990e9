//! `POST /api/v1/drift/{project}/{env}` (run a drift check now) and
//! `GET /api/v1/drift/{project}/{env}` (the newest drift run, with the
//! drifted requests and the unmanaged changes of the environment);
//! `POST /api/v1/requests/{id}/adopt-drift` (a new revision that says
//! what is there).

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use crate::service::drift::{DriftError, DriftRun};
use crate::service::requests::RequestView;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

impl From<DriftError> for ApiError {
    fn from(e: DriftError) -> Self {
        match e {
            DriftError::NotFound(m) => ApiError::NotFound(m),
            DriftError::Forbidden => ApiError::Forbidden {
                rule: "role.approver".into(),
                message: e.to_string(),
            },
            DriftError::Store(e) => ApiError::Unavailable(e.to_string()),
        }
    }
}

/// Runs a drift check of a project's environment now: a plan of the tip
/// of main through the project's executor, serialized with its applies.
/// Answers at once with the queued run; follow it with the GET. Each
/// applied request whose resources differ from its config is marked
/// drifted (and its requester told); what no request owns is listed as
/// `unmanaged` on the run.
#[utoipa::path(
    post,
    path = "/api/v1/drift/{project}/{env}",
    params(
        ("project" = String, Path, description = "A configured project"),
        ("env" = String, Path, description = "One of the project's environments"),
    ),
    responses(
        (status = 202, description = "Queued: `run` is the drift run's id", body = DriftRun),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 403, description = "Only approvers and admins run drift checks (`rule`: `role.approver`)", body = ErrorBody),
        (status = 404, description = "No such project, or no such environment in it", body = ErrorBody),
        (status = 503, description = "The store is unavailable", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn run(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((project, env)): Path<(String, String)>,
) -> Result<(StatusCode, Json<DriftRun>), ApiError> {
    let queued = state.drift.start(&actor, &project, &env).await?;
    Ok((StatusCode::ACCEPTED, Json(queued)))
}

/// The newest drift run of a project's environment: where it stands, the
/// requests it found drifted, and the changes no request owns
/// (`unmanaged`).
#[utoipa::path(
    get,
    path = "/api/v1/drift/{project}/{env}",
    params(
        ("project" = String, Path, description = "A configured project"),
        ("env" = String, Path, description = "One of the project's environments"),
    ),
    responses(
        (status = 200, description = "The newest drift run", body = DriftRun),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 404, description = "No such project or environment, or no drift run yet", body = ErrorBody),
        (status = 503, description = "The store is unavailable", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn latest(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((project, env)): Path<(String, String)>,
) -> Result<Json<DriftRun>, ApiError> {
    let (project, env) = state.drift.target(&actor, &project, &env)?;
    state
        .drift
        .latest(&project, &env)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no drift run of {project}/{env} yet")))
}

/// Adopts a request's drift: files a new revision whose inputs say what is
/// there (the module's registry `attribute`s tell which input lands where),
/// through the same path as `PATCH /api/v1/requests/{id}` — a new PR, a
/// plan and an approval as usual; once applied, the drift is gone. Who may
/// change the request's inputs may adopt. Refused with the reason when the
/// request is not applied or has no drift (409), or when its inputs cannot
/// say what is there (422, `field`: `drift`): a resource gone or not in the
/// config, an attribute no input sets, a sensitive attribute or input, an
/// immutable input, a value that breaks the input's rule.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/adopt-drift",
    params(("id" = String, Path, description = "Request id")),
    responses(
        (status = 202, description = "The new revision; its plan runs in the background", body = RequestView),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 403, description = "Not allowed to change the request's inputs; `rule` names the rule", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "The request is not applied (`drift.not_applied`) or has no drift (`drift.none`), or its state forbids an update", body = ErrorBody),
        (status = 422, description = "The drift cannot be adopted: `message` says why, each reason in a sentence (`field`: `drift`)", body = ErrorBody),
        (status = 503, description = "Git, the executor or the store is unavailable", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn adopt(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let id = super::requests::parse_id(&id)?;
    let stored = state.flow.adopt_drift(&actor, &id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(state.requests.view(&actor, stored)),
    ))
}
