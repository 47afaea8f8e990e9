//! Users over the API: admins list, add and change people (role, disabled,
//! password); anyone may change their own password.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::auth::{User, UserError};
use crate::service::admin::{AdminError, UserChange as Change};
use app::domain::policy::Role;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
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
}

/// `POST /api/v1/users` (admins).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    request_body = NewUser,
    responses(
        (status = 201, description = "The user", body = Object),
        (status = 400, description = "Bad login or password", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The login is taken", body = ErrorBody),
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
        .add_user(&actor, &body.login, body.role, body.password.as_deref())
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
}

/// `PATCH /api/v1/users/{login}`.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{login}",
    params(("login" = String, Path, description = "Login")),
    request_body = UserChange,
    responses(
        (status = 200, description = "The user", body = Object),
        (status = 400, description = "Weak password", body = ErrorBody),
        (status = 403, description = "Not an admin (only one's own password)", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
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
