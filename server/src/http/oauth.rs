//! GitHub sign-in (production): the OAuth authorization-code flow.
//! `GET /auth/github` puts a random `state` in a short-lived cookie (no
//! session is stored for an anonymous visitor) and sends the browser to
//! GitHub; `GET /auth/github/callback` checks the `state` against that
//! cookie, exchanges the code for a user token, reads the person from
//! `GET /user` and signs them in.
//!
//! Who: the user is found by GitHub's numeric user id
//! (`auth::identities`), so a renamed GitHub account keeps its user and a
//! local account or a reused login is never taken over. At every sign-in
//! the person must be named in `TFPILOT_ALLOWED_LOGINS` or be an active
//! member of an organization or team in `TFPILOT_ALLOWED_ORGS` (asked of
//! the API with their own token); with both empty, nobody is. A first
//! sign-in makes the user a requester; `TFPILOT_ADMINS` /
//! `TFPILOT_APPROVERS` may raise the role.

use super::AppState;
use super::error::ApiError;
use super::session::{audit, sign_in};
use crate::auth::identities::Found;
use crate::config::GitHubOAuth;
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

/// The cookie holding the `state` between the start and the callback.
const STATE_COOKIE: &str = "tfpilot_oauth_state";

/// `GET /auth/github`: off to GitHub with a fresh `state`.
pub async fn start(State(state): State<AppState>) -> Result<Response, ApiError> {
    let oauth = config(&state)?;
    let nonce = crate::auth::hex(&crate::auth::random_bytes::<24>());
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

#[derive(Deserialize)]
struct TokenReply {
    access_token: Option<String>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct GhUser {
    login: String,
    id: u64,
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
    let token = exchange(&state, oauth, &code).await?;
    let gh = github_user(&state, &token).await?;
    let login = gh.login.clone();
    let refuse = |rule: &str, message: String| ApiError::Forbidden {
        rule: rule.into(),
        message,
    };
    let find = || async {
        state
            .identities
            .find(gh.id, &login)
            .await
            .map_err(|e| ApiError::Unavailable(format!("cannot read the user: {e}")))
    };
    // The allow-lists are asked at every sign-in: someone removed from
    // them no longer gets in, whatever record they have.
    if !admitted(oauth, &gh, &token).await? {
        let known = matches!(find().await?, Found::User(_));
        audit(
            &state,
            &login,
            "auth.login_failed",
            if known {
                "GitHub: no longer on the allow-list or in an allowed organization or team"
            } else {
                "GitHub: not on the allow-list"
            }
            .into(),
        )
        .await;
        let message = if known {
            format!(
                "`{login}` may no longer sign in to this tfpilot: the GitHub login is not in TFPILOT_ALLOWED_LOGINS and not an active member of an organization or team in TFPILOT_ALLOWED_ORGS any more; ask an admin"
            )
        } else {
            format!(
                "`{login}` may not sign in to this tfpilot: an admin adds GitHub logins (TFPILOT_ALLOWED_LOGINS) or organizations and teams (TFPILOT_ALLOWED_ORGS)"
            )
        };
        return Err(refuse("auth.allowed_logins", message));
    }
    let found = find().await?;
    if let Found::Taken(message) = &found {
        audit(
            &state,
            &login,
            "auth.login_failed",
            format!("GitHub account {}: {message}", gh.id),
        )
        .await;
        return Err(refuse("auth.identity", message.clone()));
    }
    let found = match found {
        Found::Nobody => state
            .identities
            .sign_up(gh.id, &login)
            .await
            .map_err(|e| ApiError::Unavailable(format!("cannot add the user: {e}")))?,
        found => found,
    };
    let user = match found {
        Found::User(user) => user,
        Found::Taken(message) => return Err(refuse("auth.identity", message)),
        Found::Nobody => {
            return Err(ApiError::Unavailable(
                "the new user vanished as it was made; try again".into(),
            ));
        }
    };
    if user.disabled {
        return Err(refuse(
            "auth.disabled",
            format!("the account `{}` is disabled", user.login),
        ));
    }
    sign_in(&state, &session, &user).await?;
    let detail = if user.login == login {
        "GitHub".to_owned()
    } else {
        format!("GitHub, now called `{login}` there")
    };
    audit(&state, &user.login, "auth.login", detail).await;
    let clear = format!("{STATE_COOKIE}=; Path=/auth/github; Max-Age=0; HttpOnly; SameSite=Lax");
    Ok((
        [(axum::http::header::SET_COOKIE, clear)],
        Redirect::to(super::session::LANDING),
    )
        .into_response())
}

/// Whether a person GitHub vouched for may get a tfpilot account: named in
/// `TFPILOT_ALLOWED_LOGINS`, or an active member of an organization or
/// team in `TFPILOT_ALLOWED_ORGS`.
async fn admitted(oauth: &GitHubOAuth, gh: &GhUser, token: &str) -> Result<bool, ApiError> {
    if oauth.allowed_logins.contains(&gh.login) {
        return Ok(true);
    }
    for entry in &oauth.allowed_orgs {
        let path = match entry.split_once('/') {
            Some((org, team)) => format!(
                "/orgs/{}/teams/{}/memberships/{}",
                enc(org),
                enc(team),
                enc(&gh.login)
            ),
            None => format!("/user/memberships/orgs/{}", enc(entry)),
        };
        let reply = crate::github::get_as_user(&oauth.api_url, &path, token)
            .await
            .map_err(|e| {
                ApiError::Unavailable(format!("cannot check the membership of {entry}: {e}"))
            })?;
        if reply.status.is_success() {
            let body: serde_json::Value = reply.json().map_err(ApiError::Unavailable)?;
            if body["state"] == "active" {
                return Ok(true);
            }
        }
    }
    Ok(false)
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

async fn github_user(state: &AppState, token: &str) -> Result<GhUser, ApiError> {
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
            user.login.chars().take(64).collect::<String>()
        )));
    }
    Ok(user)
}
