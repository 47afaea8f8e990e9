//! `/api/v1/requests`: file, list and read requests.

use super::AppState;
use super::auth::Caller;
use super::error::ApiQuery as QueryParams;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::exec::RunKind;
use crate::service::filters::{self, FilterText};
use crate::service::index::IndexEntry;
use crate::service::requests::{NewRequest, RequestView};
use app::domain::ids::RequestId;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Filters of the request list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Derived status (`plan_ready`, `failed`, …).
    pub status: Option<String>,
    /// Environment.
    pub environment: Option<String>,
    /// Module type.
    pub module: Option<String>,
    /// Project key.
    pub project: Option<String>,
    /// Text in the id, title or requester.
    pub q: Option<String>,
    /// `yes`: only requests the newest drift run found drifted; `no`: the others.
    pub drift: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of requests, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListResponse {
    /// The rows.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<IndexEntry>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
    /// Requests per status (all requests).
    pub counts: BTreeMap<String, usize>,
}

fn bad(field: &str, message: String) -> ApiError {
    ApiError::BadRequest {
        message,
        field: Some(field.into()),
    }
}

/// Lists requests.
#[utoipa::path(
    get,
    path = "/api/v1/requests",
    params(ListParams),
    responses(
        (status = 200, description = "A page of requests", body = ListResponse),
        (status = 400, description = "A filter is invalid", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Json<ListResponse>, ApiError> {
    // Over the API a given page size or cursor must be one (the dashboard
    // form sends empty fields for "any").
    if let Some(l) = params.limit.as_deref()
        && (l.is_empty() || !l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad(
            "limit",
            format!("`{l}` must be a whole number from 1 to 500"),
        ));
    }
    if params.cursor.as_deref() == Some("") {
        return Err(bad(
            "cursor",
            "cursor must be a `next_cursor` of a previous page".into(),
        ));
    }
    let query = filters::parse(&FilterText {
        status: params.status.as_deref(),
        environment: params.environment.as_deref(),
        module: params.module.as_deref(),
        project: params.project.as_deref(),
        q: params.q.as_deref(),
        drift: params.drift.as_deref(),
        limit: params.limit.as_deref(),
        cursor: params.cursor.as_deref(),
    })
    .map_err(|e| bad(e.field, e.message))?;
    let page = state.requests.list(&actor, &query);
    Ok(Json(ListResponse {
        items: page.items,
        next_cursor: page.next_cursor,
        counts: state.requests.counts(&actor),
    }))
}

/// Files a request.
#[utoipa::path(
    post,
    path = "/api/v1/requests",
    request_body = NewRequest,
    responses(
        (status = 201, description = "Stored", body = RequestView),
        (status = 400, description = "Malformed body, or unknown project, environment or module", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 403, description = "The caller may not file requests", body = ErrorBody),
        (status = 422, description = "The config breaks the module's rules; or `kind` is `adopt` for a module without an `import` table (field `kind`, naming the module), or with inputs whose import id is empty or spans lines (a field error per input it is made from)", body = ErrorBody),
        (status = 503, description = "The store is unavailable", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<NewRequest>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let view = state.requests.create(&actor, body).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Reads one request with its status and the caller's allowed actions.
#[utoipa::path(
    get,
    path = "/api/v1/requests/{id}",
    params(("id" = String, Path, description = "Request id")),
    responses(
        (status = 200, description = "The request", body = RequestView),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(state.requests.get(&actor, &id).await?))
}

/// A new config for a request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    /// The complete new config (a new revision and PR supersede the old).
    #[schema(value_type = Object)]
    pub config: serde_json::Map<String, serde_json::Value>,
}

pub(super) fn parse_id(id: &str) -> Result<RequestId, ApiError> {
    RequestId::parse(id).map_err(|_| ApiError::NotFound(format!("request {id} does not exist")))
}

/// Takes an action: plan, approve, merge, apply, destroy, retry or reapply
/// (an applied request's config applied again, its own block only).
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/{action}",
    params(
        ("id" = String, Path, description = "Request id"),
        ("action" = String, Path, description = "plan, approve, merge, apply, destroy, retry or reapply"),
    ),
    responses(
        (status = 202, description = "Accepted; follow-up steps run in the background", body = RequestView),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 403, description = "Not allowed; `rule` names the rule", body = ErrorBody),
        (status = 404, description = "No such request or action", body = ErrorBody),
        (status = 409, description = "The request's state forbids it; `rule` names a rule when one refused (`approval.stale`: the plan saw an older main; `approval.missing`: merged without an approval of its head)", body = ErrorBody),
        (status = 503, description = "Git, the executor or the store is unavailable", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn act(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((id, action)): Path<(String, String)>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let id = parse_id(&id)?;
    let action = app::domain::policy::Action::from_path(&action).map_err(ApiError::NotFound)?;
    let stored = state.flow.perform(&actor, &id, action).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(state.requests.view(&actor, stored)),
    ))
}

/// The changes an approver confirms after a blocked apply or destroy.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// Exactly the resource addresses the blocked run listed.
    #[schema(min_items = 1)]
    pub addresses: Vec<String>,
}

/// Confirms a blocked run's listed changes: the run is queued again and may
/// make exactly those changes (audited; production needs the allow-list).
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/confirm",
    params(("id" = String, Path, description = "Request id")),
    request_body = ConfirmBody,
    responses(
        (status = 202, description = "Confirmed; the run is queued again", body = RequestView),
        (status = 400, description = "The body is not `{addresses: [...]}`", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 403, description = "Not allowed; `rule` names the rule (`role.approver`, `prod.allow_list`)", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "No blocked run, or the addresses are not exactly its list (`confirm.mismatch`)", body = ErrorBody),
        (status = 503, description = "Git, the executor or the store is unavailable", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn confirm(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let id = parse_id(&id)?;
    if body.addresses.is_empty() {
        return Err(ApiError::BadRequest {
            message: "addresses must list the blocked run's resource addresses".into(),
            field: Some("addresses".into()),
        });
    }
    let stored = state
        .flow
        .confirm(&actor, &id, Some(body.addresses))
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(state.requests.view(&actor, stored)),
    ))
}

/// `POST /requests/{id}/plan`: the same as the `plan` action (its path is
/// shared with `GET …/plan`, the plan view, so it needs its own route).
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/plan",
    params(("id" = String, Path, description = "Request id")),
    responses(
        (status = 202, description = "Accepted; the plan runs in the background", body = RequestView),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 403, description = "Not allowed; `rule` names the rule", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "The request's state forbids a plan", body = ErrorBody),
        (status = 503, description = "Git, the executor or the store is unavailable", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn replan(
    state: State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    act(state, caller, Path((id, "plan".to_owned()))).await
}

/// Updates the config: a new revision, a new PR superseding the old one.
#[utoipa::path(
    patch,
    path = "/api/v1/requests/{id}",
    params(("id" = String, Path, description = "Request id")),
    request_body = UpdateBody,
    responses(
        (status = 200, description = "The new revision", body = RequestView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "The request's state forbids it", body = ErrorBody),
        (status = 422, description = "The config breaks the module's rules or changes an immutable input, or an adopt request not yet applied would get an import id that is empty or spans lines (a field error per input it is made from)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Json<RequestView>, ApiError> {
    let id = parse_id(&id)?;
    let stored = state.flow.update(&actor, &id, &body.config).await?;
    Ok(Json(state.requests.view(&actor, stored)))
}

/// Which run's log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// `plan` (default), `apply` or `destroy`.
    pub kind: Option<String>,
}

/// The log of the newest attempt of a run kind, as text; a run in progress
/// shows what it printed so far.
#[utoipa::path(
    get,
    path = "/api/v1/requests/{id}/log",
    params(("id" = String, Path, description = "Request id"), LogQuery),
    responses(
        (status = 200, description = "The log (text/plain)", body = String),
        (status = 400, description = "Unknown kind", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "The request has no run of that kind yet (`log.not_ready`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn log(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<LogQuery>,
) -> Result<([(axum::http::header::HeaderName, &'static str); 1], String), ApiError> {
    let kind = match query.kind.as_deref().unwrap_or("plan") {
        "plan" => RunKind::Plan,
        "apply" => RunKind::Apply,
        "destroy" => RunKind::Destroy,
        other => {
            return Err(ApiError::BadRequest {
                message: format!("kind must be plan, apply or destroy, not `{other}`"),
                field: Some("kind".into()),
            });
        }
    };
    let view = state.requests.get(&actor, &id).await?;
    let log = state
        .flow
        .run_log(&view.request, kind)
        .await?
        .ok_or_else(|| ApiError::ConflictRule {
            rule: "log.not_ready".into(),
            message: format!(
                "request {id} ({}) has no {} run yet; ask again once one has started",
                view.status,
                kind.as_str()
            ),
        })?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        log,
    ))
}

/// The structured plan of the current plan attempt (no values).
#[utoipa::path(
    get,
    path = "/api/v1/requests/{id}/plan",
    params(("id" = String, Path, description = "Request id")),
    responses(
        (status = 200, description = "Counts, changes (destructive first) and the log", body = Object),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "The request has no completed plan yet (`plan.not_ready`): queued, running or failed", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn plan(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<crate::exec::PlanOutput>, ApiError> {
    let view = state.requests.get(&actor, &id).await?;
    match state.flow.plan_output(&view.request).await {
        Ok(Some(plan)) => Ok(Json(plan)),
        // The request is there; its plan is not (yet): queued, running or failed.
        Ok(None) | Err(crate::exec::ExecError::NotFound(_)) => Err(ApiError::ConflictRule {
            rule: "plan.not_ready".into(),
            message: format!(
                "request {id} ({}) has no completed plan yet; ask again once its plan has run",
                view.status
            ),
        }),
        Err(e) => Err(e.into()),
    }
}
