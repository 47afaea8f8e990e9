//! `POST /api/v1/alerts/alertmanager`: Alertmanager's webhook. Only a
//! bearer token of scope `automation` files remediations (anyone else:
//! 403 `alerts.automation`). The payload is read by
//! `domain::remediation::webhook` (400 naming the field); each alert is
//! stored once per `(fingerprint, status, startsAt)` with its job, and
//! the answer says how many were new and how many were resends. A full
//! queue answers 503 with `Retry-After` (Alertmanager retries 5xx, never
//! 4xx).

use super::AppState;
use super::auth::AnyCaller;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::service::jobs::IntakeError;
use app::domain::jobs::JobAlert;
use app::domain::policy::{Operation, decide_operation};
use app::domain::remediation::webhook;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

/// Seconds Alertmanager is asked to wait when the queue is full.
const RETRY_AFTER: u64 = 30;

/// The alerts of a payload as jobs see them (with the link and end time
/// Alertmanager sent), or a 400 naming the field.
pub fn parse(raw: &Value) -> Result<Vec<JobAlert>, ApiError> {
    let delivery = webhook::read(raw).map_err(|e| ApiError::BadRequest {
        message: format!("{} {}", e.field, e.message),
        field: Some(e.field),
    })?;
    let extra = |i: usize, name: &str| {
        raw["alerts"][i][name]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(delivery
        .alerts
        .into_iter()
        .enumerate()
        .map(|(i, a)| JobAlert {
            name: a.labels.get("alertname").cloned().unwrap_or_default(),
            status: a.status.as_str().to_owned(),
            labels: a.labels,
            annotations: a.annotations,
            fingerprint: a.fingerprint,
            starts_at: a.starts_at,
            ends_at: extra(i, "endsAt"),
            generator_url: extra(i, "generatorURL"),
            group_key: delivery.group_key.clone(),
        })
        .collect())
}

/// Stores the payload's new alerts and their jobs.
#[utoipa::path(
    post,
    path = "/api/v1/alerts/alertmanager",
    request_body(content = Object, description = "An Alertmanager webhook payload (version 4)"),
    responses(
        (status = 200, description = "Stored: `{received, new, duplicates, unmatched, jobs}` (a resend of a stored alert counts as a duplicate and files nothing)", body = Object),
        (status = 400, description = "A malformed payload; `field` names it (`version`, `alerts[2].fingerprint`)", body = ErrorBody),
        (status = 401, description = "No bearer token, or a bad or revoked one", body = ErrorBody),
        (status = 403, description = "Not a token of scope automation (`alerts.automation`)", body = ErrorBody),
        (status = 503, description = "The job queue is full (`TFPILOT_JOBS_MAX_QUEUED`) or the store is unavailable; `Retry-After` says when to send it again", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn alertmanager(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    ApiError::from_decision(decide_operation(Operation::FileRemediation, &caller.0))?;
    let alerts = parse(&raw)?;
    match state.jobs.receive(alerts).await {
        Ok(receipt) => Ok(Json(json!(receipt))),
        Err(IntakeError::Full { open, max, stored }) => Err(ApiError::Busy {
            message: format!(
                "the remediation queue is full ({open} of {max} jobs waiting; {} new alerts of this delivery were stored before it filled); send it again later",
                stored.new
            ),
            retry_after: RETRY_AFTER,
        }),
        Err(IntakeError::Store(e)) => Err(ApiError::Busy {
            message: format!("cannot store the alerts: {e}"),
            retry_after: RETRY_AFTER,
        }),
    }
}
