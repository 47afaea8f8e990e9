//! GitHub sign-in (production): the OAuth authorization-code flow.
//! `GET /auth/github` puts a random `state` in a short-lived cookie (no
//! session is stored for an anonymous visitor) and sends the browser to
//! GitHub; `GET /auth/github/callback` checks the `state` against that
//! cookie and signs in the user `service::signin` finds for GitHub's code
//! (who may, and as which user, is decided there).

use super::AppState;
use super::error::ApiError;
use super::session::{audit, sign_in};
use crate::config::GitHubOAuth;
use crate::service::signin::enc;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

fn config(state: &AppState) -> Result<&GitHubOAuth, ApiError> {
    state.config.github_oauth.as_ref().ok_or_else(|| {
        ApiError::NotFound(
            "GitHub sign-in is not configured (TFPILOT_GITHUB_OAUTH_CLIENT_ID)".into(),
        )
    })
}

fn redirect_uri(state: &AppState) -> String {
    format!("{}/auth/github/callback", state.config.sessions.public_url)
}

/// The cookie holding the `state` between the start and the callback.
const STATE_COOKIE: &str = "tfpilot_oauth_state";

/// `GET /auth/github`: off to GitHub with a fresh `state`.
pub async fn start(State(state): State<AppState>) -> Result<Response, ApiError> {
    let oauth = config(&state)?;
    let nonce = state.ids.random_hex(24);
    let scope = if oauth.allowed_orgs.is_empty() {
        "read%3Auser"
    } else {
        "read%3Auser%20read%3Aorg"
    };
    let url = format!(
        "{}/login/oauth/authorize?client_id={}&redirect_uri={}&state={}&scope={scope}&allow_signup=false",
        oauth.oauth_url,
        enc(&oauth.client_id),
        enc(&redirect_uri(&state)),
        nonce
    );
    let cookie = format!(
        "{STATE_COOKIE}={nonce}; Path=/auth/github; Max-Age=600; HttpOnly; SameSite=Lax{}",
        if state.config.sessions.secure {
            "; Secure"
        } else {
            ""
        }
    );
    Ok((
        [(axum::http::header::SET_COOKIE, cookie)],
        Redirect::to(&url),
    )
        .into_response())
}

/// GitHub's answer.
#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/github/callback`.
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    headers: axum::http::HeaderMap,
    Query(reply): Query<Callback>,
) -> Result<Response, ApiError> {
    let oauth = config(&state)?;
    let expected = super::session::cookie(&headers, STATE_COOKIE);
    let same = match (&expected, &reply.state) {
        (Some(a), Some(b)) => crate::auth::constant_time_eq(a.as_bytes(), b.as_bytes()),
        _ => false,
    };
    if !same {
        audit(
            &state,
            "-",
            "auth.login_failed",
            "GitHub sign-in with a wrong state".into(),
        )
        .await;
        return Err(ApiError::Forbidden {
            rule: "oauth.state".into(),
            message: "this sign-in did not start here (the state does not match); start again at /auth/github".into(),
        });
    }
    if let Some(error) = reply.error {
        return Err(ApiError::Unauthorized(format!(
            "GitHub refused the sign-in: {}",
            error.chars().take(200).collect::<String>()
        )));
    }
    let code = reply.code.ok_or_else(|| ApiError::BadRequest {
        message: "GitHub sent no code".into(),
        field: Some("code".into()),
    })?;
    let (user, detail) = state
        .signin
        .github(oauth, &code, &redirect_uri(&state))
        .await?;
    sign_in(&state, &session, &user).await?;
    audit(&state, &user.login, "auth.login", detail).await;
    let clear = format!("{STATE_COOKIE}=; Path=/auth/github; Max-Age=0; HttpOnly; SameSite=Lax");
    Ok((
        [(axum::http::header::SET_COOKIE, clear)],
        Redirect::to(super::session::LANDING),
    )
        .into_response())
}
