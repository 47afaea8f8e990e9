//! `POST /api/v1/alerts/alertmanager`: Alertmanager's webhook. Only a
//! bearer token of scope `automation` files remediations (anyone else:
//! 403 `alerts.automation`). Each alert is stored once per `(fingerprint,
//! status, startsAt)` with its job; the answer says how many were new and
//! how many were resends. A full queue answers 503 with `Retry-After`
//! (Alertmanager retries 5xx, never 4xx); a malformed payload 400 naming
//! the field.

use super::AppState;
use super::auth::AnyCaller;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::service::jobs::IntakeError;
use app::domain::jobs::JobAlert;
use app::domain::policy::{Operation, decide_operation};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Seconds Alertmanager is asked to wait when the queue is full.
const RETRY_AFTER: u64 = 30;

/// Alertmanager's webhook payload (version 4); other fields (`receiver`,
/// `groupLabels`, `commonLabels`, `externalURL`, …) are ignored.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerPayload {
    /// Always `"4"`.
    pub version: String,
    /// The group's key.
    pub group_key: String,
    /// `firing` or `resolved` (the group's).
    pub status: String,
    /// The alerts.
    #[schema(value_type = Vec<Object>)]
    pub alerts: Vec<Value>,
}

/// One alert of the payload.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAlert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    fingerprint: String,
    starts_at: String,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest {
        message: message.into(),
        field: Some(field.into()),
    }
}

fn status(field: &str, s: &str) -> Result<(), ApiError> {
    match s {
        "firing" | "resolved" => Ok(()),
        other => Err(bad(
            field,
            format!(
                "{field} must be `firing` or `resolved`, not `{}`",
                other.chars().take(32).collect::<String>()
            ),
        )),
    }
}

/// The alerts of a payload, each checked, or a 400 naming the field.
pub fn parse(payload: AlertmanagerPayload) -> Result<Vec<JobAlert>, ApiError> {
    if payload.version != "4" {
        return Err(bad(
            "version",
            "version must be \"4\" (Alertmanager's webhook payload version 4)",
        ));
    }
    status("status", &payload.status)?;
    payload
        .alerts
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let at = format!("alerts[{i}]");
            if !value.is_object() {
                return Err(bad(&at, format!("{at} must be an object")));
            }
            let a: WireAlert = serde_json::from_value(value).map_err(|e| {
                let text = e.to_string();
                let field = text
                    .split_once("missing field `")
                    .and_then(|(_, rest)| rest.split('`').next())
                    .map_or(at.clone(), |f| format!("{at}.{f}"));
                bad(field, format!("{at} is not an Alertmanager alert: {text}"))
            })?;
            status(&format!("{at}.status"), &a.status)?;
            let fp = format!("{at}.fingerprint");
            if a.fingerprint.trim().is_empty() || a.fingerprint.len() > 128 {
                return Err(bad(&fp, format!("{fp} must be 1 to 128 characters")));
            }
            let starts = format!("{at}.startsAt");
            if a.starts_at.trim().is_empty() || a.starts_at.len() > 64 {
                return Err(bad(
                    &starts,
                    format!("{starts} must be a time (RFC 3339) of at most 64 characters"),
                ));
            }
            Ok(JobAlert {
                name: a.labels.get("alertname").cloned().unwrap_or_default(),
                status: a.status,
                labels: a.labels,
                annotations: a.annotations,
                fingerprint: a.fingerprint,
                starts_at: a.starts_at,
                ends_at: a.ends_at,
                generator_url: a.generator_url,
                group_key: payload.group_key.clone(),
            })
        })
        .collect()
}

/// Stores the payload's new alerts and their jobs.
#[utoipa::path(
    post,
    path = "/api/v1/alerts/alertmanager",
    request_body = AlertmanagerPayload,
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
    ApiJson(payload): ApiJson<AlertmanagerPayload>,
) -> Result<Json<Value>, ApiError> {
    ApiError::from_decision(decide_operation(Operation::FileRemediation, &caller.0))?;
    let alerts = parse(payload)?;
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
