//! `POST /auth/login`: local users sign in with a password
//! (`service::signin` checks it, within its limits).
//!
//! A refusal by the limits is a 429 with `Retry-After` and a sentence
//! saying when to try again, as JSON or as the sign-in page.

use super::AppState;
use super::client_addr::client_addr;
use super::error::ApiError;
use super::session::{audit, body, cookie, is_local_path, local_path, sign_in, url_encode};
use crate::auth::device;
use crate::service::signin::{SignInError, Verified};
use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
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
    let verified = state
        .signin
        .password(&login, password, address, device_cookie.as_deref())
        .await;
    let Verified { user, from } = match verified {
        Ok(verified) => verified,
        Err(SignInError::Limited { message, wait }) if !json => {
            return Ok(limited_page(&state, parts, message, wait, next.as_deref()).await);
        }
        Err(SignInError::Wrong) if !json => {
            return Ok(Redirect::to("/login?error=1").into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let csrf = sign_in(&state, &session, &user).await?;
    audit(&state, &login, "auth.login", from).await;
    let mut response = if json {
        Json(json!({ "login": login, "csrf": csrf })).into_response()
    } else {
        Redirect::to(local_path(next.as_deref())).into_response()
    };
    if let Some(value) = state.signin.device_cookie(&user.login).await {
        let set = device_cookie_header(&value, state.config.sessions.secure);
        if let Ok(set) = HeaderValue::from_str(&set) {
            response.headers_mut().append(header::SET_COOKIE, set);
        }
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
