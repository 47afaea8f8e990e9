//! `GET /api/v1/audit?request=<id>&limit=&cursor=`: the append-only audit
//! records of a request (anyone signed in who can read requests), or
//! without `request` the system's (sign-ins, tokens; admins only), a page
//! at a time, oldest first. JSON (`{records, next_cursor}`), or JSON lines
//! with `Accept: application/x-ndjson` for export (the next cursor in the
//! `X-Next-Cursor` header).

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use app::domain::policy::{Decision, Operation, decide_operation};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

/// Which records.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// A request id; without it, the system records (admins only).
    #[param(pattern = "^[0-9a-hjkmnp-tv-z]{16}$")]
    pub request: Option<String>,
    /// Records per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9a-z.-]{1,64}$")]
    pub cursor: Option<String>,
}

/// Records per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: u32 = 100;

/// The audit records, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "`{records: [...], next_cursor}`, or JSON lines with Accept: application/x-ndjson and the next cursor in `X-Next-Cursor`", body = Object),
        (status = 400, description = "Malformed request id, limit or cursor", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "System records need an admin", body = ErrorBody),
        (status = 404, description = "No such request (or its project is hidden from the caller)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    super::error::ApiQuery(query): super::error::ApiQuery<AuditQuery>,
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
            // A request of a project hidden from the caller is not there,
            // nor are its records.
            state.requests.get(&actor, id.as_str()).await?;
            Some(id.to_string())
        }
        None => None,
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest {
            message: "limit must be between 1 and 1000".into(),
            field: Some("limit".into()),
        });
    }
    if let Some(c) = &query.cursor
        && (c.is_empty()
            || c.len() > 64
            || !c
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'.' || b == b'-'))
    {
        return Err(ApiError::BadRequest {
            message: "cursor must be the `next_cursor` of an earlier page".into(),
            field: Some("cursor".into()),
        });
    }
    let (records, next) = state
        .audit
        .read_page(request.as_deref(), limit as usize, query.cursor.as_deref())
        .await?;
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
        let mut res = ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response();
        if let Some(next) = next.as_deref().and_then(|n| n.parse().ok()) {
            res.headers_mut().insert("x-next-cursor", next);
        }
        return Ok(res);
    }
    Ok(Json(json!({ "records": records, "next_cursor": next })).into_response())
}
