//! The one HTTP error type: every failure a handler returns becomes
//! `{"error": {"code", "message", "field"?}}` with a fitting status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error a client can act on; never a 500 for anything a client sent.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: malformed input.
    #[error("{message}")]
    BadRequest {
        /// What is wrong.
        message: String,
        /// The field at fault.
        field: Option<String>,
    },
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 503: a dependency is down.
    #[error("{0}")]
    Unavailable(String),
    /// 500: our fault; the details are logged, not sent.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, field) = match &self {
            Self::BadRequest { field, .. } => {
                (StatusCode::BAD_REQUEST, "bad_request", field.as_deref())
            }
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", None),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", None),
            Self::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", None)
            }
        };
        let body = Body {
            error: Detail {
                code,
                message: self.to_string(),
                field,
            },
        };
        (status, Json(body)).into_response()
    }
}
