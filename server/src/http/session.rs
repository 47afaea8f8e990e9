//! Browser sessions: the session layer, `POST /auth/logout`,
//! `POST /auth/setup` (the first admin, from the one-time link, made by
//! `service::signin`),
//! `GET /api/v1/session` (who is signed in, and the CSRF token), and what
//! sign-in (`super::login`) and GitHub sign-in share.
//!
//! Forms get redirects, JSON callers get JSON.

use super::AppState;
use super::error::ApiError;
use crate::config::SessionConfig;
use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::auth::session_keys::{CSRF, EPOCH, LOGIN, SINCE};
/// The cookie's name.
pub const COOKIE: &str = "tfpilot_session";
/// Where a sign-in lands when it names no page (the dashboard).
pub const LANDING: &str = "/requests";

/// Pages that need a signed-in user: a visitor without a session is sent
/// to `/login?next=<page>` instead of seeing an error.
pub(super) async fn sign_in_first(
    session: Session,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path();
    let private = ["/requests", "/admin", "/jobs"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")));
    if private
        && req.method() == axum::http::Method::GET
        && matches!(session.get::<String>(LOGIN).await, Ok(None))
    {
        let target = req
            .uri()
            .path_and_query()
            .map_or(path, |pq| pq.as_str())
            .to_owned();
        let query = url_encode(&target);
        return Redirect::to(&format!("/login?next={query}")).into_response();
    }
    next.run(req).await
}

pub(super) use app::api::url_encode;

/// The session layer: store-backed, `HttpOnly`, `SameSite=Lax`, `Secure`
/// per config, idle expiry.
pub fn layer(
    config: &SessionConfig,
    store: crate::auth::sessions::StoreSessions,
) -> SessionManagerLayer<crate::auth::sessions::StoreSessions> {
    let idle = time::Duration::seconds(config.idle.as_secs().try_into().unwrap_or(i64::MAX));
    SessionManagerLayer::new(store)
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// First-admin form or JSON.
#[derive(Deserialize)]
pub struct SetupForm {
    token: String,
    login: String,
    password: String,
}

/// Whether the caller sent JSON (and wants JSON back).
pub(super) fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Reads a form or a JSON body.
pub(super) async fn body<T: serde::de::DeserializeOwned + Send + 'static>(
    req: Request,
    state: &AppState,
) -> Result<(bool, T), ApiError> {
    if !super::auth::origin_allowed(req.headers(), state) {
        return Err(ApiError::Forbidden {
            rule: "csrf".into(),
            message: "cross-site sign-in refused: use tfpilot's own sign-in page".into(),
        });
    }
    let json = wants_json(req.headers());
    let bad = |status: axum::http::StatusCode, e: String| {
        if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            super::error::too_large()
        } else {
            ApiError::BadRequest {
                message: e,
                field: None,
            }
        }
    };
    if json {
        let Json(v) = Json::<T>::from_request(req, state)
            .await
            .map_err(|e| bad(e.status(), e.body_text()))?;
        Ok((true, v))
    } else {
        let axum::Form(v) = axum::Form::<T>::from_request(req, state)
            .await
            .map_err(|e| bad(e.status(), e.body_text()))?;
        Ok((false, v))
    }
}

/// Where a sign-in goes: the landing page without `next`, `next` when it
/// is a local path, and `/` for anything else.
pub(super) fn local_path(next: Option<&str>) -> &str {
    match next {
        None | Some("") => LANDING,
        Some(p) if is_local_path(p) => p,
        Some(_) => "/",
    }
}

/// The grammar of a local path: a leading `/`, then printable ASCII only
/// (no control characters, spaces or raw non-ASCII: those travel
/// percent-encoded), no `//` anywhere, no backslash, no `:` before the
/// query (no scheme), at most 2,048 bytes.
pub fn is_local_path(p: &str) -> bool {
    let path = p.split(['?', '#']).next().unwrap_or("");
    p.len() <= 2048
        && p.starts_with('/')
        && p.bytes().all(|b| b.is_ascii_graphic())
        && !p.contains("//")
        && !p.contains('\\')
        && !path.contains(':')
}

pub(super) async fn audit(state: &AppState, actor: &str, action: &str, detail: String) {
    state.admin.audit(actor, action, detail).await;
}

/// Starts a signed-in session for `login`: a new id (no fixation), a new
/// CSRF token.
pub(super) async fn sign_in(
    state: &AppState,
    session: &Session,
    user: &crate::auth::User,
) -> Result<String, ApiError> {
    let fail = |e: tower_sessions::session::Error| {
        ApiError::Unavailable(format!("cannot store the session: {e}"))
    };
    session.cycle_id().await.map_err(fail)?;
    let csrf = state.ids.random_hex(24);
    session.insert(LOGIN, &user.login).await.map_err(fail)?;
    session.insert(CSRF, &csrf).await.map_err(fail)?;
    session
        .insert(SINCE, state.clock.unix_secs())
        .await
        .map_err(fail)?;
    session
        .insert(EPOCH, user.sessions_epoch)
        .await
        .map_err(fail)?;
    Ok(csrf)
}

/// The value of cookie `name` in the request, if any.
pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// `POST /auth/logout`: the server-side session is deleted.
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let login: Option<String> = session.get(LOGIN).await.ok().flatten();
    session
        .flush()
        .await
        .map_err(|e| ApiError::Unavailable(format!("cannot end the session: {e}")))?;
    if let Some(login) = login {
        audit(&state, &login, "auth.logout", String::new()).await;
    }
    if wants_json(&headers)
        || headers
            .get(header::ACCEPT)
            .is_some_and(|a| a == "application/json")
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Ok(Redirect::to("/login").into_response())
    }
}

/// `POST /auth/setup`: creates the first admin from the one-time link and
/// signs them in.
pub async fn setup(
    State(state): State<AppState>,
    session: Session,
    req: Request,
) -> Result<Response, ApiError> {
    let (json, form) = body::<SetupForm>(req, &state).await?;
    let user = state
        .signin
        .complete_setup(&form.token, &form.login, &form.password)
        .await?;
    let csrf = sign_in(&state, &session, &user).await?;
    audit(
        &state,
        &user.login,
        "auth.setup",
        "first admin created".into(),
    )
    .await;
    if json {
        Ok((
            StatusCode::CREATED,
            Json(json!({ "login": user.login, "csrf": csrf })),
        )
            .into_response())
    } else {
        Ok(Redirect::to(LANDING).into_response())
    }
}

/// `GET /api/v1/session`: the signed-in caller and the CSRF token to send
/// as `X-CSRF-Token` on state-changing requests.
pub async fn current(
    super::auth::Caller(actor): super::auth::Caller,
    session: Session,
) -> Result<Json<serde_json::Value>, ApiError> {
    let csrf: Option<String> = session.get(CSRF).await.ok().flatten();
    Ok(Json(json!({
        "login": actor.login,
        "role": actor.role,
        "csrf": csrf,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_strict_local_path() {
        for ok in [
            "/",
            "/requests",
            "/requests/01abc?status=failed&q=a:b",
            "/admin/users#x",
        ] {
            assert_eq!(local_path(Some(ok)), ok);
        }
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\\evil.example",
            "/\nx",
            "/a\rb",
            "https://evil.example",
            "/https://evil.example",
            "evil.example",
            "/a b",
            "/é",
            "/a//b",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(local_path(None), LANDING);
        assert!(!is_local_path(&format!("/{}", "a".repeat(3000))));
    }
}
