//! `POST /auth/login`: local users sign in with a password.
//!
//! Failures say the same thing for an unknown login and a wrong password,
//! and are limited (`auth::limits`): per browser for one that signed in
//! before (its device cookie), else per login and client address, login
//! and address. A refusal is a 429 with `Retry-After` and a sentence
//! saying when to try again, as JSON or as the sign-in page.

use super::AppState;
use super::client_addr::client_addr;
use super::error::ApiError;
use super::session::{audit, body, cookie, is_local_path, local_path, sign_in, url_encode};
use crate::auth::device;
use crate::auth::limits::{AttemptKeys, LimitError};
use crate::auth::unix_millis;
use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use std::time::SystemTime;
use tower_sessions::Session;

/// Login form or JSON.
#[derive(Deserialize)]
pub struct Credentials {
    login: String,
    password: String,
    /// Where to go after a form login (a local path).
    #[serde(default)]
    next: Option<String>,
}

const WRONG: &str = "the login or the password is wrong";

/// The longest password checked (argon2 reads all of it).
const MAX_PASSWORD: usize = 1024;

/// `POST /auth/login`.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    req: Request,
) -> Result<Response, ApiError> {
    let address = client_addr(peer.ip(), req.headers(), &state.config.trusted_proxies);
    let device_cookie = cookie(req.headers(), device::COOKIE);
    let (parts, body_bytes) = req.into_parts();
    let (json, form) =
        body::<Credentials>(Request::from_parts(parts.clone(), body_bytes), &state).await?;
    let Credentials {
        login,
        password,
        next,
    } = form;
    let login = login.trim().to_owned();
    // Checked before the login reaches a store, a log or a limiter.
    if !crate::auth::valid_login(&login) {
        return Err(ApiError::BadRequest {
            message: "login must be 1-64 letters, digits, `-`, `_` or `.`, not starting with `.`"
                .into(),
            field: Some("login".into()),
        });
    }
    if password.chars().count() > MAX_PASSWORD {
        return Err(ApiError::BadRequest {
            message: format!("password must be at most {MAX_PASSWORD} characters"),
            field: Some("password".into()),
        });
    }
    let device = match device_cookie {
        Some(value) => state.devices.check(&login, &value).await?,
        None => None,
    };
    let keys = match &device {
        Some(device) => AttemptKeys::device(&login, device),
        None => AttemptKeys::anonymous(&login, address),
    };
    let from = format!(
        "from {address}{}",
        if device.is_some() {
            " in a browser that signed in before"
        } else {
            ""
        }
    );
    match state.limits.reserve(&keys, unix_millis()).await {
        Ok(()) => {}
        Err(LimitError::Wait { wait, whose }) => {
            audit(&state, &login, "auth.login_blocked", from).await;
            let message = wait_sentence(wait, whose);
            if json {
                return Err(ApiError::TooManyRequests {
                    message,
                    retry_after: wait.as_secs(),
                });
            }
            return Ok(limited_page(&state, parts, message, wait, next.as_deref()).await);
        }
        Err(LimitError::Store(e)) => return Err(e.into()),
    }
    // Judged and settled in a task of its own, so a client that hangs up
    // mid-check still has its attempt counted and its slot settled.
    let judged = tokio::spawn({
        let (state, keys, login) = (state.clone(), keys.clone(), login.clone());
        async move {
            let user = state.users.get(&login).await.ok().filter(|u| !u.disabled);
            // An unknown login costs the same check as a wrong password.
            let hash = user.as_ref().and_then(|u| u.password_hash.clone());
            let ok = state.limits.verify(password, hash).await;
            state.limits.settle(&keys, ok, unix_millis()).await;
            user.filter(|_| ok)
        }
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("the password check stopped: {e}")))?;
    let Some(user) = judged else {
        audit(&state, &login, "auth.login_failed", from).await;
        if json {
            return Err(ApiError::Unauthorized(WRONG.into()));
        }
        return Ok(Redirect::to("/login?error=1").into_response());
    };
    let csrf = sign_in(&state, &session, &user).await?;
    audit(&state, &login, "auth.login", from).await;
    let mut response = if json {
        Json(json!({ "login": login, "csrf": csrf })).into_response()
    } else {
        Redirect::to(local_path(next.as_deref())).into_response()
    };
    match state.devices.issue(&user.login).await {
        Ok(value) => {
            let set = device_cookie_header(&value, state.config.sessions.secure);
            if let Ok(set) = HeaderValue::from_str(&set) {
                response.headers_mut().append(header::SET_COOKIE, set);
            }
        }
        Err(e) => tracing::warn!("cannot issue a device cookie: {e}"),
    }
    Ok(response)
}

/// The device cookie: sent back to `/auth/login` only, never readable by
/// scripts.
fn device_cookie_header(value: &str, secure: bool) -> String {
    format!(
        "{}={value}; Path=/auth/login; Max-Age={}; HttpOnly; SameSite=Lax{}",
        device::COOKIE,
        device::MAX_AGE.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// "… try again in 120 seconds, after 2025-06-01T12:02:00Z".
fn wait_sentence(wait: std::time::Duration, whose: &str) -> String {
    let at = humantime::format_rfc3339_seconds(SystemTime::now() + wait);
    format!(
        "too many failed sign-ins {whose}; try again in {} seconds, after {at}",
        wait.as_secs()
    )
}

/// The sign-in page with the refusal above the form, as a 429 with
/// `Retry-After`.
async fn limited_page(
    state: &AppState,
    mut parts: axum::http::request::Parts,
    message: String,
    wait: std::time::Duration,
    next: Option<&str>,
) -> Response {
    let services = state.services.clone();
    let leptos = state.leptos.clone();
    let notice = app::api::SignInNotice(message);
    let render = leptos_axum::render_app_to_stream_with_context(
        move || {
            leptos::prelude::provide_context(services.clone());
            leptos::prelude::provide_context(notice.clone());
        },
        move || super::shell(leptos.clone()),
    );
    let page = match next.filter(|n| is_local_path(n)) {
        Some(next) => format!("/login?next={}", url_encode(next)),
        None => "/login".to_owned(),
    };
    parts.method = axum::http::Method::GET;
    parts.uri = page
        .parse()
        .unwrap_or_else(|_| "/login".parse().expect("a path"));
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    let mut page = render(Request::from_parts(parts, axum::body::Body::empty())).await;
    *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    page.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs()));
    page.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    page
}
