//! The pages' plain form posts, which work without any script: the request
//! page's action buttons and the admin pages. Each acts as the signed-in
//! user (the session cookie, same-origin only) through the same services
//! as the API, then goes back to its page with the outcome in the URL
//! (`?done=` or `?error=`, Post/Redirect/Get). A new token is the one
//! exception: it is rendered into the page the post returns, once, and is
//! never put in a URL or a session.

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::session::url_encode;
use crate::auth::contact::{LinkChange, Links};
use crate::service::admin::UserChange;
use app::api::FreshToken;
use app::domain::ids::RequestId;
use app::domain::policy::{Role, TokenScope};
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::provide_context;
use serde::Deserialize;

/// Back to `page` with `key` (`done` or `error`) saying `text`.
fn back(page: &str, key: &str, text: &str) -> Response {
    Redirect::to(&format!("{page}?{key}={}", url_encode(text))).into_response()
}

/// Back to `page` with the outcome; a caller who is not signed in is sent
/// to sign in first.
pub(super) fn outcome(page: &str, done: Result<String, ApiError>) -> Response {
    match done {
        Ok(text) => back(page, "done", &text),
        Err(ApiError::Unauthorized(_)) => {
            Redirect::to(&format!("/login?next={}", url_encode(page))).into_response()
        }
        Err(e) => back(page, "error", &e.sentence()),
    }
}

/// A role chosen in a form; empty is `None`.
fn role(field: &str, text: &str) -> Result<Option<Role>, ApiError> {
    if text.is_empty() {
        return Ok(None);
    }
    Role::parse(text)
        .map(Some)
        .ok_or_else(|| ApiError::BadRequest {
            message: format!("`{text}` is not a role; choose viewer, requester, approver or admin"),
            field: Some(field.to_owned()),
        })
}

/// What the request page's action forms post.
#[derive(Debug, Deserialize)]
pub struct ActForm {
    /// `approve`, `merge`…
    #[serde(default)]
    pub action: String,
    /// For `confirm`: the blocked changes the page showed, one
    /// `<action> <address>` per line.
    #[serde(default)]
    pub addresses: String,
}

/// The action name of the request page's Adopt form (the API's
/// `POST /api/v1/requests/{id}/adopt-drift`).
pub const ADOPT_DRIFT: &str = "adopt-drift";

/// `POST /requests/{id}/act`: the request page's buttons before (or
/// without) the wasm, and the drift section's Adopt form.
pub async fn act(
    state: State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ActForm>,
) -> Response {
    let Ok(rid) = RequestId::parse(&id) else {
        return Redirect::to("/requests").into_response();
    };
    let page = format!("/requests/{rid}");
    let done = async {
        let caller = caller?;
        if form.action == app::domain::policy::Action::Confirm.as_str() {
            let addresses = form.addresses.lines().map(str::to_owned).collect();
            state.flow.confirm(&caller.0, &rid, Some(addresses)).await?;
            return Ok(());
        }
        if form.action == ADOPT_DRIFT {
            state.flow.adopt_drift(&caller.0, &rid).await?;
            return Ok(());
        }
        super::requests::act(state, caller, Path((id, form.action)))
            .await
            .map(drop)
    }
    .await;
    match done {
        // The page shows the new state; nothing to add.
        Ok(()) => Redirect::to(&page).into_response(),
        Err(e) => outcome(&page, Err(e)),
    }
}

/// The add-user form.
#[derive(Debug, Deserialize)]
pub struct AddUserForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    slack_user_id: String,
    #[serde(default)]
    email: String,
}

/// A link field of a form: trimmed, empty is none.
fn link(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// `POST /admin/users`: adds a user (admins).
pub async fn add_user(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    axum::Form(form): axum::Form<AddUserForm>,
) -> Response {
    let done = async {
        let Caller(actor) = caller?;
        let role = role("role", &form.role)?.unwrap_or(Role::Requester);
        let password = Some(form.password.as_str()).filter(|p| !p.is_empty());
        let user = state
            .admin
            .add_user(
                &actor,
                &form.login,
                role,
                password,
                Links {
                    slack_user_id: link(&form.slack_user_id),
                    email: link(&form.email),
                },
            )
            .await?;
        Ok(format!("Added {} as {}.", user.login, user.role.as_str()))
    }
    .await;
    outcome("/admin/users", done)
}

/// A user row's form.
#[derive(Debug, Deserialize)]
pub struct SetUserForm {
    #[serde(default)]
    role: String,
    /// `on` when the box is ticked (absent otherwise).
    #[serde(default)]
    disabled: String,
    /// Absent: kept; empty: unlinked.
    #[serde(default)]
    slack_user_id: Option<String>,
    /// Absent: kept; empty: cleared.
    #[serde(default)]
    email: Option<String>,
}

/// `POST /admin/users/{login}`: role, disabled, Slack id and e-mail
/// (admins).
pub async fn set_user(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(login): Path<String>,
    axum::Form(form): axum::Form<SetUserForm>,
) -> Response {
    let done = async {
        let Caller(actor) = caller?;
        let change = UserChange {
            role: role("role", &form.role)?,
            disabled: Some(form.disabled == "on"),
            password: None,
            links: LinkChange {
                slack_user_id: form.slack_user_id.as_deref().map(link),
                email: form.email.as_deref().map(link),
            },
        };
        let user = state.admin.update_user(&actor, &login, change).await?;
        Ok(format!(
            "Saved {}: {}{}{}{}.",
            user.login,
            user.role.as_str(),
            if user.disabled { ", disabled" } else { "" },
            user.slack_user_id
                .as_deref()
                .map(|id| format!(", Slack {id}"))
                .unwrap_or_default(),
            user.email
                .as_deref()
                .map(|e| format!(", {e}"))
                .unwrap_or_default(),
        ))
    }
    .await;
    outcome("/admin/users", done)
}

/// The create-token form.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
}

/// `POST /admin/tokens`: a token for the caller, shown on the page this
/// returns and never again (the response is not cached).
pub async fn create_token(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let caller = Caller::from_request_parts(&mut parts, &state).await;
    let form =
        axum::Form::<TokenForm>::from_request(Request::from_parts(parts.clone(), body), &state)
            .await;
    let created = async {
        let Caller(actor) = caller?;
        let axum::Form(form) = form.map_err(|e| ApiError::BadRequest {
            message: e.body_text(),
            field: None,
        })?;
        let scope = match form.scope.as_str() {
            "" => None,
            text => Some(TokenScope::parse(text).ok_or_else(|| ApiError::BadRequest {
                message: format!(
                    "`{text}` is not a scope; choose one of {}",
                    TokenScope::ALL.map(TokenScope::as_str).join(", ")
                ),
                field: Some("scope".to_owned()),
            })?),
        };
        let (_, token) = state
            .admin
            .create_token(&actor, None, &form.name, scope)
            .await?;
        Ok(token)
    }
    .await;
    let token = match created {
        Ok(token) => token,
        Err(e) => return outcome("/admin/tokens", Err(e)),
    };
    let services = state.services.clone();
    let leptos = state.leptos.clone();
    let render = leptos_axum::render_app_to_stream_with_context(
        move || {
            provide_context(services.clone());
            provide_context(FreshToken(token.clone()));
        },
        move || super::shell(leptos.clone()),
    );
    parts.method = Method::GET;
    let mut page = render(Request::from_parts(parts, Body::empty())).await;
    page.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    page
}

/// `POST /admin/tokens/{id}/revoke`.
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
) -> Response {
    let done = async {
        let Caller(actor) = caller?;
        let revoked = state.admin.revoke_token(&actor, &id).await?;
        Ok(format!(
            "Revoked {} ({}); it no longer works.",
            revoked.id, revoked.name
        ))
    }
    .await;
    outcome("/admin/tokens", done)
}

/// What the policies page's save forms post.
#[derive(Debug, Deserialize)]
pub struct PolicyForm {
    /// The policy as JSON.
    #[serde(default)]
    pub policy: String,
}

/// `POST /admin/policies`: saves (creates or replaces) the policy the
/// form's JSON names.
pub async fn save_policy(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    axum::Form(form): axum::Form<PolicyForm>,
) -> Response {
    let done = async {
        let Caller(actor) = caller?;
        let raw: serde_json::Value =
            serde_json::from_str(&form.policy).map_err(|e| ApiError::BadRequest {
                message: format!("the policy is not JSON: {e}"),
                field: Some("policy".into()),
            })?;
        let name = raw
            .get("name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let (stored, created) = if name.is_empty() {
            (state.policies.create(&actor, &raw).await?, true)
        } else {
            state.policies.replace(&actor, &name, &raw).await?
        };
        Ok(format!(
            "{} policy {} (version {}).",
            if created { "Created" } else { "Saved" },
            stored.policy.name,
            stored.version
        ))
    }
    .await;
    outcome("/admin/policies", done)
}

/// `POST /admin/policies/{name}/delete`.
pub async fn delete_policy(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(name): Path<String>,
) -> Response {
    let done = async {
        let Caller(actor) = caller?;
        state.policies.delete(&actor, &name).await?;
        Ok(format!("Deleted policy {name}."))
    }
    .await;
    outcome("/admin/policies", done)
}
