//! `POST /api/v1/requests/{id}/reject`: an approver's no to the current plan, with the reason (the same action as Slack's Reject button).

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::service::requests::RequestView;
use app::domain::transitions::MAX_REASON;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

/// Why the plan is rejected.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// 1 to 500 characters, told to the requester and kept on the timeline.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Rejects the current plan: recorded on the timeline with the reason and
/// told to the requester; the request stays where it is (to be changed or
/// destroyed), and another approver may still approve it.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/reject",
    params(("id" = String, Path, description = "Request id")),
    request_body = RejectBody,
    responses(
        (status = 200, description = "Rejected", body = RequestView),
        (status = 400, description = "The body is not `{reason}`, or the reason is empty or over 500 characters", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 403, description = "Not allowed: whoever may approve may reject; `rule` names the rule (`role.approver`, `prod.allow_list`, `four_eyes`)", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "There is no plan to reject", body = ErrorBody),
        (status = 503, description = "The store is unavailable", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn reject(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RejectBody>,
) -> Result<Json<RequestView>, ApiError> {
    let id = super::requests::parse_id(&id)?;
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Err(ApiError::BadRequest {
            message: format!("reason must be 1 to {MAX_REASON} characters"),
            field: Some("reason".into()),
        });
    }
    let stored = state.flow.reject(&actor, &id, reason).await?;
    Ok(Json(state.requests.view(&actor, stored)))
}
