//! GitHub sign-in (production): the OAuth authorization-code flow.
//! `GET /auth/github` stores a random `state` in the session and sends the
//! browser to GitHub; `GET /auth/github/callback` checks the `state`,
//! exchanges the code for a user token, reads the login from `GET /user`,
//! and signs the person in if `TFPILOT_ALLOWED_LOGINS` (when set) names
//! them. The first sign-in creates the user record (role requester unless
//! `TFPILOT_ADMINS` / `TFPILOT_APPROVERS` say more; an admin can change it).

use super::AppState;
use super::error::ApiError;
use super::session::{audit, sign_in};
use crate::config::GitHubOAuth;
use app::domain::policy::Role;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

const STATE: &str = "oauth_state";

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

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `GET /auth/github`: off to GitHub with a fresh `state`.
pub async fn start(State(state): State<AppState>, session: Session) -> Result<Response, ApiError> {
    let oauth = config(&state)?;
    let nonce: String = crate::auth::random_bytes::<24>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    session
        .insert(STATE, &nonce)
        .await
        .map_err(|e| ApiError::Unavailable(format!("cannot store the session: {e}")))?;
    let url = format!(
        "{}/login/oauth/authorize?client_id={}&redirect_uri={}&state={}&scope=read%3Auser&allow_signup=false",
        oauth.oauth_url,
        enc(&oauth.client_id),
        enc(&redirect_uri(&state)),
        nonce
    );
    Ok(Redirect::to(&url).into_response())
}

/// GitHub's answer.
#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: Option<String>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct GhUser {
    login: String,
}

/// `GET /auth/github/callback`.
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    Query(reply): Query<Callback>,
) -> Result<Response, ApiError> {
    let oauth = config(&state)?;
    let expected: Option<String> = session.remove(STATE).await.ok().flatten();
    let same = match (&expected, &reply.state) {
        (Some(a), Some(b)) => {
            a.len() == b.len()
                && a.bytes()
                    .zip(b.bytes())
                    .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                    == 0
        }
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
            "GitHub refused the sign-in: {error}"
        )));
    }
    let code = reply.code.ok_or_else(|| ApiError::BadRequest {
        message: "GitHub sent no code".into(),
        field: Some("code".into()),
    })?;
    let token = exchange(&state, oauth, &code).await?;
    let login = github_login(&state, &token).await?;
    if !oauth.allowed_logins.is_empty() && !oauth.allowed_logins.contains(&login) {
        audit(
            &state,
            &login,
            "auth.login_failed",
            "not in TFPILOT_ALLOWED_LOGINS".into(),
        )
        .await;
        return Err(ApiError::Forbidden {
            rule: "auth.allowed_logins".into(),
            message: format!("`{login}` may not sign in to this tfpilot; ask an admin"),
        });
    }
    match state.users.get(&login).await {
        Ok(user) if user.disabled => {
            return Err(ApiError::Forbidden {
                rule: "auth.disabled".into(),
                message: format!("the account `{login}` is disabled"),
            });
        }
        Ok(_) => {}
        Err(crate::auth::UserError::NotFound(_)) => {
            match state.users.add(&login, Role::Requester, None).await {
                Ok(_) | Err(crate::auth::UserError::Exists(_)) => {}
                Err(e) => return Err(ApiError::Unavailable(format!("cannot add the user: {e}"))),
            }
        }
        Err(e) => return Err(ApiError::Unavailable(format!("cannot read the user: {e}"))),
    }
    sign_in(&session, &login).await?;
    audit(&state, &login, "auth.login", "GitHub".into()).await;
    Ok(Redirect::to(super::session::LANDING).into_response())
}

async fn exchange(state: &AppState, oauth: &GitHubOAuth, code: &str) -> Result<String, ApiError> {
    let body = serde_json::json!({
        "client_id": oauth.client_id,
        "client_secret": oauth.client_secret.expose(),
        "code": code,
        "redirect_uri": redirect_uri(state),
    });
    let reply = crate::github::post_json(&oauth.oauth_url, "/login/oauth/access_token", &body)
        .await
        .map_err(|e| ApiError::Unavailable(format!("GitHub did not answer the sign-in: {e}")))?;
    let parsed: TokenReply = reply.json().map_err(ApiError::Unavailable)?;
    parsed.access_token.ok_or_else(|| {
        ApiError::Unauthorized(format!(
            "GitHub did not accept the sign-in: {}",
            parsed
                .error_description
                .unwrap_or_else(|| "no token".into())
        ))
    })
}

async fn github_login(state: &AppState, token: &str) -> Result<String, ApiError> {
    let api = state
        .config
        .github_oauth
        .as_ref()
        .map(|o| o.api_url.clone())
        .unwrap_or_default();
    let reply = crate::github::get_as_user(&api, "/user", token)
        .await
        .map_err(|e| ApiError::Unavailable(format!("cannot read the GitHub user: {e}")))?;
    if !reply.status.is_success() {
        return Err(ApiError::Unauthorized(format!(
            "GitHub refused the user token: {}",
            reply.message()
        )));
    }
    let user: GhUser = reply.json().map_err(ApiError::Unavailable)?;
    if !crate::auth::valid_login(&user.login) {
        return Err(ApiError::Unauthorized(format!(
            "the GitHub login `{}` cannot be used",
            user.login
        )));
    }
    Ok(user.login)
}
