//! Machine tokens over the API: admins manage everyone's, other users
//! their own. A token is shown once, at creation; only its hash is kept.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::auth::TokenError;
use crate::auth::tokens::TokenRecord;
use app::domain::policy::TokenScope;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::NotFound(_) | TokenError::User(_) => Self::NotFound(e.to_string()),
            TokenError::Invalid => Self::Unauthorized(e.to_string()),
            TokenError::Store(s) => s.into(),
        }
    }
}

fn view(r: &TokenRecord) -> Value {
    json!({
        "id": r.id,
        "user": r.user,
        "name": r.name,
        "scope": r.scope,
        "created_at": r.created_at,
        "revoked_at": r.revoked_at,
    })
}

/// `GET /api/v1/tokens`: every token for an admin, one's own otherwise.
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    responses(
        (status = 200, description = "Token records (never the secrets)", body = Object),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Value>, ApiError> {
    let records = state.admin.tokens(&actor).await?;
    Ok(Json(
        json!({ "tokens": records.iter().map(view).collect::<Vec<_>>() }),
    ))
}

/// A new token.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A label (`ci`, `slack-bot`).
    pub name: String,
    /// Owner; default the caller (admins may name anyone).
    #[serde(default)]
    pub user: Option<String>,
    /// The most the token may do: viewer, requester, approver or admin;
    /// or automation (admins only), which files remediations and nothing
    /// else, or metrics (admins only), which reads `GET /metrics` and
    /// nothing else.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub scope: Option<TokenScope>,
}

/// `POST /api/v1/tokens`: 201 with the token, shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    request_body = NewToken,
    responses(
        (status = 201, description = "The token (shown once) and its record", body = Object),
        (status = 400, description = "Bad name or scope", body = ErrorBody),
        (status = 404, description = "The named user does not exist", body = ErrorBody),
        (status = 403, description = "Another user's token (`tokens.owner`), a scope above one's role (`tokens.scope`), automation or metrics asked by a non-admin (`tokens.automation`, `tokens.metrics`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (record, token) = state
        .admin
        .create_token(&actor, body.user.as_deref(), &body.name, body.scope)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": token, "record": view(&record) })),
    ))
}

/// `DELETE /api/v1/tokens/{id}`: revokes at once.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    params(("id" = String, Path, description = "Token id (the middle part of the token)")),
    responses(
        (status = 200, description = "The revoked record", body = Object),
        (status = 403, description = "Another user's token", body = ErrorBody),
        (status = 404, description = "No such token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let revoked = state.admin.revoke_token(&actor, &id).await?;
    Ok(Json(view(&revoked)))
}
