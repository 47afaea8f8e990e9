//! The job log: `GET /api/v1/jobs?status=&policy=&request=&limit=&cursor=`
//! (newest first, a page at a time) and `GET /api/v1/jobs/{id}`. Every
//! signed-in role reads it.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiQuery, ErrorBody};
use crate::service::jobs::{JobFilter, JobStoreError};
use app::domain::ids::RequestId;
use app::domain::jobs::JobStatus;
use app::domain::policy::{Operation, decide_operation};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

/// Jobs per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 50;

/// Which jobs.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// queued, running, succeeded, failed, waiting_approval or skipped
    /// (no policy matched).
    pub status: Option<String>,
    /// A policy's name.
    pub policy: Option<String>,
    /// A request id.
    pub request: Option<String>,
    /// Jobs per page, 1 to 1000 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl JobQuery {
    /// The filter, or a 400 naming the parameter.
    pub fn filter(self) -> Result<JobFilter, ApiError> {
        let bad = |field: &str, message: String| ApiError::BadRequest {
            message,
            field: Some(field.to_owned()),
        };
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(JobStatus::parse(s).ok_or_else(|| {
                bad(
                    "status",
                    "status must be queued, running, succeeded, failed, waiting_approval or skipped"
                        .into(),
                )
            })?),
        };
        let request = self.request.filter(|r| !r.is_empty());
        if let Some(r) = &request
            && RequestId::parse(r).is_err()
        {
            return Err(bad("request", "request must be a request id".into()));
        }
        let cursor = self.cursor.filter(|c| !c.is_empty());
        if let Some(c) = &cursor
            && RequestId::parse(c).is_err()
        {
            return Err(bad(
                "cursor",
                "cursor must be a job id (a `next_cursor`)".into(),
            ));
        }
        let limit = match self.limit {
            None => DEFAULT_LIMIT,
            Some(n @ 1..=1000) => n as usize,
            Some(_) => return Err(bad("limit", "limit must be 1 to 1000".into())),
        };
        let policy = self.policy.filter(|p| !p.is_empty());
        if policy.as_ref().is_some_and(|p| p.len() > 128) {
            return Err(bad(
                "policy",
                "policy must be at most 128 characters".into(),
            ));
        }
        Ok(JobFilter {
            status,
            policy,
            request,
            limit,
            cursor,
        })
    }
}

fn store_error(e: JobStoreError) -> ApiError {
    match e {
        JobStoreError::NotFound(id) => ApiError::NotFound(format!("job {id} does not exist")),
        e => ApiError::Unavailable(e.to_string()),
    }
}

/// The job log, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/jobs",
    params(JobQuery),
    responses(
        (status = 200, description = "`{items: [job…], next_cursor}`: each job's alert, policy, action, request, status, attempts, steps, timestamps and result", body = Object),
        (status = 400, description = "A bad status, request id, limit or cursor; `field` names it", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<JobQuery>,
) -> Result<Json<Value>, ApiError> {
    ApiError::from_decision(decide_operation(Operation::ReadJobs, &actor))?;
    let mut page = state
        .jobs
        .list(&query.filter()?)
        .await
        .map_err(store_error)?;
    page.items
        .retain(|job| state.requests.sees_id(&actor, job.request.as_deref()));
    Ok(Json(json!(page)))
}

/// One job.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}",
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = Object),
        (status = 400, description = "Not a job id", body = ErrorBody),
        (status = 404, description = "No such job, or it acts on a request of a project hidden from the caller", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    ApiError::from_decision(decide_operation(Operation::ReadJobs, &actor))?;
    if RequestId::parse(&id).is_err() {
        return Err(ApiError::BadRequest {
            message: "the job id must be 16 characters of lowercase Crockford base32".into(),
            field: Some("id".into()),
        });
    }
    let job = state.jobs.get(&id).await.map_err(store_error)?;
    if !state.requests.sees_id(&actor, job.request.as_deref()) {
        return Err(ApiError::NotFound(format!("no job {id}")));
    }
    Ok(Json(json!(job)))
}
