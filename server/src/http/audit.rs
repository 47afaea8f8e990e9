//! `GET /api/v1/audit?request=<id>`: the append-only audit records of a
//! request (anyone signed in who can read requests), or without `request`
//! the system's (sign-ins, tokens; admins only). JSON, or JSON lines with
//! `Accept: application/x-ndjson` for export.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use app::domain::policy::{Decision, Operation, decide_operation};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

/// Which records.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// A request id; without it, the system records (admins only).
    pub request: Option<String>,
}

/// The audit records, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "`{records: [...]}`, or JSON lines with Accept: application/x-ndjson", body = Object),
        (status = 400, description = "Malformed request id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "System records need an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(query): Query<AuditQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Decision::Forbidden { rule, reason } = decide_operation(
        Operation::ReadAudit {
            request: query.request.is_some(),
        },
        &actor,
    ) {
        return Err(ApiError::Forbidden {
            rule,
            message: reason,
        });
    }
    let request = match &query.request {
        Some(id) => {
            let id = app::domain::ids::RequestId::parse(id).map_err(|e| ApiError::BadRequest {
                message: format!("request: {e}"),
                field: Some("request".into()),
            })?;
            Some(id.to_string())
        }
        None => None,
    };
    let records = state.audit.read(request.as_deref()).await?;
    let ndjson = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/x-ndjson"));
    if ndjson {
        let mut body = String::new();
        for r in &records {
            body.push_str(&serde_json::to_string(r).unwrap_or_default());
            body.push('\n');
        }
        return Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response());
    }
    Ok(Json(json!({ "records": records })).into_response())
}
