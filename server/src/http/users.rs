//! Users over the API: admins list, add and change people (role, disabled,
//! password, Slack id, e-mail); anyone may change their own password.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::auth::contact::{LinkChange, Links};
use crate::auth::{User, UserError};
use crate::service::admin::{AdminError, UserChange as Change};
use app::domain::policy::Role;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::NotFound(_) => Self::NotFound(e.to_string()),
            UserError::Exists(_) => Self::Conflict(e.to_string()),
            UserError::InvalidLogin(_) => Self::BadRequest {
                message: e.to_string(),
                field: Some("login".into()),
            },
            UserError::WeakPassword => Self::BadRequest {
                message: e.to_string(),
                field: Some("password".into()),
            },
            UserError::InvalidSlackId(_) => Self::BadRequest {
                message: e.to_string(),
                field: Some("slack_user_id".into()),
            },
            UserError::InvalidEmail(_) => Self::BadRequest {
                message: e.to_string(),
                field: Some("email".into()),
            },
            UserError::SlackIdTaken { .. } | UserError::Ambiguous(_) => {
                Self::Conflict(e.to_string())
            }
            UserError::Store(s) => s.into(),
        }
    }
}

fn view(u: &User) -> Value {
    json!({
        "login": u.login,
        "role": u.role,
        "disabled": u.disabled,
        "password": u.password_hash.is_some(),
        "created_at": u.created_at,
        "slack_user_id": u.slack_user_id,
        "email": u.email,
    })
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Forbidden { rule, message } => Self::Forbidden { rule, message },
            AdminError::Conflict(m) => Self::Conflict(m),
            AdminError::Invalid { field, message } => Self::BadRequest {
                message,
                field: Some(field.into()),
            },
            AdminError::User(u) => u.into(),
            AdminError::Token(t) => t.into(),
        }
    }
}

/// `GET /api/v1/users` (admins).
#[utoipa::path(
    get,
    path = "/api/v1/users",
    responses(
        (status = 200, description = "Users (never their password hashes)", body = Object),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Value>, ApiError> {
    let users = state.admin.users(&actor).await?;
    Ok(Json(
        json!({ "users": users.iter().map(view).collect::<Vec<_>>() }),
    ))
}

/// A new user.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login.
    pub login: String,
    /// viewer, requester, approver or admin.
    #[schema(value_type = String)]
    pub role: Role,
    /// A password of 12+ characters; without one the user signs in with GitHub.
    #[serde(default)]
    pub password: Option<String>,
    /// The Slack member id (`U…`/`W…`) that acts as this user in Slack.
    #[serde(default)]
    pub slack_user_id: Option<String>,
    /// Where e-mail notices go.
    #[serde(default)]
    pub email: Option<String>,
}

/// `POST /api/v1/users` (admins).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    request_body = NewUser,
    responses(
        (status = 201, description = "The user", body = Object),
        (status = 400, description = "Bad login, password, Slack id or e-mail; `field` names it", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The login is taken, or the Slack id is linked to another user", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let user = state
        .admin
        .add_user(
            &actor,
            &body.login,
            body.role,
            body.password.as_deref(),
            Links {
                slack_user_id: body.slack_user_id,
                email: body.email,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view(&user))))
}

/// Changes to a user.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// New role (admins).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub role: Option<Role>,
    /// Disable or enable (admins); a disabled user's sessions and tokens stop at once.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// New password (admins, or the user themself).
    #[serde(default)]
    pub password: Option<String>,
    /// The Slack member id that acts as this user in Slack; `null`
    /// unlinks it (admins only: a user linking their own could claim
    /// someone else's Slack account).
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    pub slack_user_id: Option<Option<String>>,
    /// Where e-mail notices go; `null` clears it (admins only).
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
}

/// A field that is present, `null` or not: absent stays `None` (by
/// `default`), `null` is `Some(None)`.
fn given<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `PATCH /api/v1/users/{login}`.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{login}",
    params(("login" = String, Path, description = "Login")),
    request_body = UserChange,
    responses(
        (status = 200, description = "The user", body = Object),
        (status = 400, description = "Weak password, bad Slack id or bad e-mail; `field` names it", body = ErrorBody),
        (status = 403, description = "Not an admin (only one's own password; only admins set Slack ids and e-mail addresses)", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "The Slack id is linked to another user, or an admin would disable or demote themself", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Caller(actor): Caller,
    Path(login): Path<String>,
    ApiJson(body): ApiJson<UserChange>,
) -> Result<Json<Value>, ApiError> {
    let change = Change {
        role: body.role,
        disabled: body.disabled,
        password: body.password,
        links: LinkChange {
            slack_user_id: body.slack_user_id,
            email: body.email,
        },
    };
    let password = change.password.is_some();
    let user = state.admin.update_user(&actor, &login, change).await?;
    if password && user.login == actor.login {
        // The user's other sessions end; this one carries on.
        session
            .insert(crate::auth::session_keys::EPOCH, user.sessions_epoch)
            .await
            .map_err(|e| ApiError::Unavailable(format!("cannot store the session: {e}")))?;
    }
    Ok(Json(view(&user)))
}
