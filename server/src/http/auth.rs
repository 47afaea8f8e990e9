//! Who is calling: `Authorization: Bearer <token>` (machines, scripts), or
//! the browser's session cookie. A state-changing request made with the
//! cookie must prove it comes from tfpilot's own pages (CSRF): the
//! `X-CSRF-Token` header of the session, or an `Origin` that is tfpilot's.
//! Bearer requests are exempt (a browser never adds the header by itself).

use super::AppState;
use super::error::ApiError;
use crate::auth::TokenError;
use crate::auth::session_keys::CSRF;
use app::domain::policy::{Actor, Operation, decide_operation};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use tower_sessions::Session;

/// The authenticated caller of an API request.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    /// Any caller but a token of scope `automation`, which may only file
    /// remediations ([`Operation::UseApi`]): 403 `scope.automation`.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(actor) = AnyCaller::from_request_parts(parts, state).await?.0;
        ApiError::from_decision(decide_operation(Operation::UseApi, &actor))?;
        Ok(Caller(actor))
    }
}

/// Any authenticated caller, automation tokens included: only the alert
/// receiver takes it (and decides [`Operation::FileRemediation`]).
pub struct AnyCaller(pub Caller);

impl FromRequestParts<AppState> for AnyCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = match parts.headers.get(header::AUTHORIZATION) {
            Some(header) => bearer(header, state).await,
            None => cookie(parts, state).await,
        }?;
        super::trace::record_actor(parts, &caller.0.login);
        Ok(AnyCaller(caller))
    }
}

async fn bearer(header: &axum::http::HeaderValue, state: &AppState) -> Result<Caller, ApiError> {
    let token = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
        })?;
    let (user, scope) = state
        .tokens
        .authenticate_scoped(token)
        .await
        .map_err(|e| match e {
            TokenError::Store(e) => ApiError::Unavailable(format!("cannot check the token: {e}")),
            _ => ApiError::Unauthorized("the bearer token is invalid or revoked".into()),
        })?;
    let role = crate::auth::effective_role(&state.config, &user);
    if let Some(id) = token.strip_prefix("tfp_").and_then(|t| t.split('_').next())
        && first_use_in_a_while(id)
    {
        state
            .admin
            .audit(&user.login, "token.used", format!("token {id}"))
            .await;
    }
    Ok(Caller(Actor {
        role: scope.map_or(role, |s| s.cap(role)),
        login: user.login,
        credential: app::domain::policy::Credential::Token { scope },
    }))
}

/// Token use is audited once per token every ten minutes per process, not
/// on every call.
fn first_use_in_a_while(id: &str) -> bool {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    use std::time::{Duration, Instant};
    static SEEN: OnceLock<Mutex<HashMap<String, Instant>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    if seen.len() > 10_000 {
        seen.retain(|_, at| now.duration_since(*at) < Duration::from_secs(600));
    }
    match seen.get(id) {
        Some(at) if now.duration_since(*at) < Duration::from_secs(600) => false,
        _ => {
            seen.insert(id.to_owned(), now);
            true
        }
    }
}

/// Whether the caller of a long-lived response (an event stream) may still
/// be served: `false` once its token is revoked, its user disabled or its
/// session's password changed. A store that cannot be reached is not a
/// reason to drop the caller.
pub(super) async fn still_allowed(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    session: &Session,
) -> bool {
    let outcome = match headers.get(header::AUTHORIZATION) {
        Some(h) => bearer(h, state).await.map(drop),
        None => crate::auth::session_actor(session, &state.users, &state.config)
            .await
            .map(drop)
            .map_err(session_error),
    };
    !matches!(outcome, Err(ApiError::Unauthorized(_)))
}

fn session_error(e: crate::auth::SessionError) -> ApiError {
    match e {
        crate::auth::SessionError::Unauthorized(m) => ApiError::Unauthorized(m),
        e => ApiError::Unavailable(e.to_string()),
    }
}

const SIGN_IN: &str = "sign in at /login, or send `Authorization: Bearer <token>` (create one with `tfpilot tokens create --user NAME`)";

async fn cookie(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
    let session = Session::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::Unauthorized(SIGN_IN.into()))?;
    let actor = crate::auth::session_actor(&session, &state.users, &state.config)
        .await
        .map_err(session_error)?;
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let expected: Option<String> = session
            .get(CSRF)
            .await
            .map_err(|e| ApiError::Unavailable(format!("cannot read the session: {e}")))?;
        check_csrf(parts, state, expected.as_deref())?;
    }
    Ok(Caller(actor))
}

/// The CSRF header of the session, or a same-origin `Origin` (tfpilot's
/// public URL, or the request's own host).
fn check_csrf(parts: &Parts, state: &AppState, expected: Option<&str>) -> Result<(), ApiError> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if let (Some(sent), Some(expected)) = (header("x-csrf-token"), expected)
        && crate::auth::constant_time_eq(sent.as_bytes(), expected.as_bytes())
    {
        return Ok(());
    }
    if let Some(origin) = header("origin") {
        let public = state.config.sessions.origin();
        let own_host = header("host").is_some_and(|host| {
            origin
                .split_once("://")
                .is_some_and(|(_, rest)| rest == host)
        });
        if origin == public || own_host {
            return Ok(());
        }
    }
    Err(ApiError::Forbidden {
        rule: "csrf".into(),
        message: "cross-site request refused: send the X-CSRF-Token header from GET /api/v1/session, or make the request from tfpilot's own pages".into(),
    })
}

/// For cookie-less form posts (sign-in, setup): an `Origin`, when the
/// browser sends one, must be tfpilot's.
pub(super) fn origin_allowed(headers: &axum::http::HeaderMap, state: &AppState) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match header("origin") {
        None => true,
        Some(origin) => {
            origin == state.config.sessions.origin()
                || header("host").is_some_and(|host| {
                    origin
                        .split_once("://")
                        .is_some_and(|(_, rest)| rest == host)
                })
        }
    }
}
