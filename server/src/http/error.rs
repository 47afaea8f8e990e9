//! The one HTTP error type: every failure a handler returns becomes
//! `{"error": {"code", "message", "field"?, "rule"?, "fields"?}}` with a
//! fitting status. Nothing a client sends can produce a 500.

use crate::service::requests::ServiceError;
use crate::store::StoreError;
use crate::store::repo::RepoError;
use app::domain::config::FieldError;
use app::domain::policy::HIDDEN_RULE;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error a client can act on.
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
    /// 401: no or bad credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: not allowed; `rule` names the rule that refused.
    #[error("{message}")]
    Forbidden {
        /// Stable rule id.
        rule: String,
        /// Why.
        message: String,
    },
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409: the state forbids it.
    #[error("{0}")]
    Conflict(String),
    /// 409 by a named rule (`approval.stale`, `approval.missing`, …).
    #[error("{message}")]
    ConflictRule {
        /// Stable rule id.
        rule: String,
        /// Why.
        message: String,
    },
    /// 409 naming the field at fault (a taken key, a setting another
    /// source owns).
    #[error("{message}")]
    ConflictField {
        /// The field at fault.
        field: String,
        /// Why, and what to do instead.
        message: String,
    },
    /// 422: the inputs break the module's rules (every field error).
    #[error("the config is invalid: {}", summary(.0))]
    Unprocessable(Vec<FieldError>),
    /// 422: one field breaks a rule the schema cannot state (a question
    /// that is none of the forms).
    #[error("{message}")]
    Invalid {
        /// The field at fault.
        field: String,
        /// What is wrong, and what to send instead.
        message: String,
    },
    /// 413: the body is over [`BODY_LIMIT`].
    #[error("{0}")]
    TooLarge(String),
    /// 429: too many attempts; try again after `retry_after` seconds.
    #[error("{message}")]
    TooManyRequests {
        /// Why.
        message: String,
        /// Seconds until another attempt is accepted.
        retry_after: u64,
    },
    /// 503: a dependency is down.
    #[error("{0}")]
    Unavailable(String),
    /// 503 with `Retry-After`: full for now (the job queue); try again.
    #[error("{message}")]
    Busy {
        /// Why.
        message: String,
        /// Seconds to wait.
        retry_after: u64,
    },
    /// 500: our fault; the details are logged, not sent.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{} {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The JSON shape of every error.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Details of an error.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable code: bad_request, unauthorized, forbidden, not_found,
    /// conflict, too_large, unprocessable, too_many_requests, unavailable,
    /// internal.
    pub code: &'static str,
    /// A sentence a person can act on.
    pub message: String,
    /// The field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The policy rule that refused (403).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Every field error (422).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub fields: Option<Vec<FieldError>>,
}

/// The largest request body the API reads.
pub const BODY_LIMIT: usize = 256 * 1024;

/// The 413 every over-long body gets.
pub fn too_large() -> ApiError {
    ApiError::TooLarge(format!(
        "the request body is larger than the {} KiB limit",
        BODY_LIMIT / 1024
    ))
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::ConflictRule { .. } | Self::ConflictField { .. } => {
                StatusCode::CONFLICT
            }
            Self::Unprocessable(_) | Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A policy decision as a result: 403 with its rule, 409, or `Ok`.
    pub fn from_decision(decision: app::domain::policy::Decision) -> Result<(), ApiError> {
        use app::domain::policy::Decision;
        match decision {
            Decision::Allowed => Ok(()),
            Decision::Forbidden { rule, reason } if rule == HIDDEN_RULE => {
                Err(Self::NotFound(reason))
            }
            Decision::Forbidden { rule, reason } => Err(Self::Forbidden {
                rule,
                message: reason,
            }),
            Decision::Conflict {
                reason,
                rule: Some(rule),
            } => Err(Self::ConflictRule {
                rule,
                message: reason,
            }),
            Decision::Conflict { reason, rule: None } => Err(Self::Conflict(reason)),
        }
    }

    /// The error as one sentence for a page (every field error, joined).
    pub fn sentence(&self) -> String {
        match self {
            Self::Unprocessable(fields) => fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.to_string();
        let retry_after = match &self {
            Self::TooManyRequests { retry_after, .. } | Self::Busy { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        };
        let (code, field, rule, fields) = match self {
            Self::BadRequest { field, .. } => ("bad_request", field, None, None),
            Self::Unauthorized(_) => ("unauthorized", None, None, None),
            Self::Forbidden { rule, .. } => ("forbidden", None, Some(rule), None),
            Self::NotFound(_) => ("not_found", None, None, None),
            Self::Conflict(_) => ("conflict", None, None, None),
            Self::ConflictRule { rule, .. } => ("conflict", None, Some(rule), None),
            Self::ConflictField { field, .. } => ("conflict", Some(field), None, None),
            Self::Unprocessable(errors) => {
                let first = errors.first().map(|e| e.field.clone());
                ("unprocessable", first, None, Some(errors))
            }
            Self::Invalid { field, .. } => ("unprocessable", Some(field), None, None),
            Self::TooLarge(_) => ("too_large", None, None, None),
            Self::TooManyRequests { .. } => ("too_many_requests", None, None, None),
            Self::Unavailable(_) | Self::Busy { .. } => ("unavailable", None, None, None),
            Self::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
                ("internal", None, None, None)
            }
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message,
                field,
                rule,
                fields,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(format!("{what} does not exist")),
            StoreError::Conflict(what) => {
                Self::Conflict(format!("{what} changed concurrently; retry"))
            }
            StoreError::Unavailable(m) => Self::Unavailable(m),
            StoreError::Invalid(m) => Self::Internal(anyhow::anyhow!(m)),
        }
    }
}

impl From<crate::service::signin::SignInError> for ApiError {
    fn from(e: crate::service::signin::SignInError) -> Self {
        use crate::service::signin::SignInError as E;
        match e {
            E::Invalid { field, message } => Self::BadRequest {
                message,
                field: Some(field.into()),
            },
            E::Limited { message, wait } => Self::TooManyRequests {
                message,
                retry_after: wait.as_secs(),
            },
            E::Wrong => Self::Unauthorized(e.to_string()),
            E::Refused { rule, message } => Self::Forbidden {
                rule: rule.into(),
                message,
            },
            E::Unauthorized(m) => Self::Unauthorized(m),
            E::Unavailable(m) => Self::Unavailable(m),
            E::Internal(m) => Self::Internal(anyhow::anyhow!(m)),
            E::Store(s) => s.into(),
        }
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound(id) => Self::NotFound(format!("request {id} does not exist")),
            RepoError::Exists(id) => Self::Conflict(format!("request {id} already exists")),
            e @ RepoError::Contention { .. } => Self::Unavailable(e.to_string()),
            RepoError::Corrupt { key, message } => {
                Self::Internal(anyhow::anyhow!("{key}: {message}"))
            }
            RepoError::Store(e) => e.into(),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid { field, message } => Self::BadRequest {
                message,
                field: Some(field),
            },
            ServiceError::Fields(errors) => Self::Unprocessable(errors),
            ServiceError::Forbidden { rule, reason } => Self::Forbidden {
                rule,
                message: reason,
            },
            ServiceError::NotFound(id) => Self::NotFound(format!("request {id} does not exist")),
            ServiceError::Repo(e) => e.into(),
        }
    }
}

impl From<crate::service::flow::FlowError> for ApiError {
    fn from(e: crate::service::flow::FlowError) -> Self {
        use crate::git::GitError;
        use crate::service::flow::FlowError as F;
        match e {
            F::Forbidden { rule, reason } if rule == HIDDEN_RULE => Self::NotFound(reason),
            F::Forbidden { rule, reason } => Self::Forbidden {
                rule,
                message: reason,
            },
            F::Conflict(m) => Self::Conflict(m),
            F::Refused { rule, reason } => Self::ConflictRule {
                rule,
                message: reason,
            },
            F::Fields(errors) => Self::Unprocessable(errors),
            F::NotAdoptable(message) => Self::Invalid {
                field: "drift".into(),
                message,
            },
            F::Git(GitError::Conflict(m) | GitError::MergeConflict(m)) => Self::Conflict(m),
            F::Git(GitError::NotFound(m)) => {
                Self::Conflict(format!("{m} is missing from the infra repo"))
            }
            F::Git(e) => Self::Unavailable(e.to_string()),
            F::Exec(crate::exec::ExecError::NotFound(m)) => Self::NotFound(m),
            F::Exec(e) => Self::Unavailable(e.to_string()),
            F::Repo(e) => e.into(),
        }
    }
}

impl From<crate::exec::ExecError> for ApiError {
    fn from(e: crate::exec::ExecError) -> Self {
        match e {
            crate::exec::ExecError::NotFound(m) => Self::NotFound(m),
            e => Self::Unavailable(e.to_string()),
        }
    }
}

/// `Query<T>` whose rejections are [`ApiError`]s naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S>
    for ApiQuery<T>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(rejection) => {
                let text = rejection.body_text();
                // serde_urlencoded names the parameter as `field`: …
                let field = text
                    .split("Failed to deserialize query string: ")
                    .nth(1)
                    .and_then(|rest| rest.split(':').next())
                    .filter(|f| !f.contains(' '))
                    .map(str::to_owned);
                Err(ApiError::BadRequest {
                    message: format!("the query string is not valid: {text}"),
                    field,
                })
            }
        }
    }
}

/// `Json<T>` whose rejections are [`ApiError`]s naming the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<serde_json::Value>::from_request(req, state).await {
            // Every body is an object (serde would take `[..]` for a struct).
            Ok(Json(v)) if !v.is_object() => Err(ApiError::BadRequest {
                message: "the request body must be a JSON object".into(),
                field: None,
            }),
            Ok(Json(v)) => serde_json::from_value(v).map(Self).map_err(|e| {
                let text = e.to_string();
                ApiError::BadRequest {
                    field: field_named(&text),
                    message: format!("the request body is not valid: {text}"),
                }
            }),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

/// The field a serde error names (`missing field `x``, `unknown field `x``).
fn field_named(text: &str) -> Option<String> {
    ["missing field `", "unknown field `", "invalid type: "]
        .iter()
        .find_map(|p| text.split(p).nth(1))
        .and_then(|rest| rest.split('`').next())
        .filter(|f| !f.contains(' '))
        .map(str::to_owned)
}

fn json_error(rejection: JsonRejection) -> ApiError {
    let text = rejection.body_text();
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    let field = field_named(&text);
    let message = match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "send the body as JSON with `Content-Type: application/json`".into()
        }
        _ => format!("the request body is not valid: {text}"),
    };
    ApiError::BadRequest { message, field }
}
