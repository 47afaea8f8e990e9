//! Who is calling: `Authorization: Bearer <token>` on `/api/v1/*`.
//! (Browser sessions join with the auth work.)

use super::AppState;
use super::error::ApiError;
use crate::auth::TokenError;
use app::domain::policy::{Actor, Role};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The authenticated caller of an API request.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::Unauthorized("this endpoint needs `Authorization: Bearer <token>`; create a token with `tfpilot tokens create --user NAME`".into()))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
            })?;
        let user = state
            .tokens
            .authenticate(token)
            .await
            .map_err(|e| match e {
                TokenError::Store(e) => {
                    ApiError::Unavailable(format!("cannot check the token: {e}"))
                }
                _ => ApiError::Unauthorized("the bearer token is invalid or revoked".into()),
            })?;
        let config = &state.config;
        let mut role = user.role;
        if config.approvers.contains(&user.login) {
            role = role.max(Role::Approver);
        }
        if config.admins.contains(&user.login) {
            role = Role::Admin;
        }
        Ok(Caller(Actor {
            login: user.login,
            role,
        }))
    }
}
