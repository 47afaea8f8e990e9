//! Users over the API: admins list, add and change people (role, disabled,
//! password); anyone may change their own password.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ErrorBody};
use super::session::audit;
use crate::auth::{User, UserError};
use app::domain::policy::{Actor, Role};
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

fn admin_only(actor: &Actor) -> Result<(), ApiError> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            rule: "users.admin".into(),
            message: "only an admin manages users".into(),
        })
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
    admin_only(&actor)?;
    let users = state.users.list().await?;
    Ok(Json(
        json!({ "users": users.iter().map(view).collect::<Vec<_>>() }),
    ))
}

/// A new user.
#[derive(Deserialize, utoipa::ToSchema)]
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
    admin_only(&actor)?;
    let user = state
        .users
        .add(body.login.trim(), body.role, body.password.as_deref())
        .await?;
    audit(
        &state,
        &actor.login,
        "user.create",
        format!("{} as {}", user.login, user.role.as_str()),
    )
    .await;
    Ok((StatusCode::CREATED, Json(view(&user))))
}

/// Changes to a user.
#[derive(Deserialize, utoipa::ToSchema)]
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
    Caller(actor): Caller,
    Path(login): Path<String>,
    ApiJson(body): ApiJson<UserChange>,
) -> Result<Json<Value>, ApiError> {
    let own_password_only = body.role.is_none() && body.disabled.is_none() && login == actor.login;
    if !own_password_only {
        admin_only(&actor)?;
    }
    if login == actor.login
        && (body.disabled == Some(true) || body.role.is_some_and(|r| r < Role::Admin))
    {
        return Err(ApiError::Conflict(
            "an admin cannot disable or demote themself; ask another admin".into(),
        ));
    }
    let hash = body
        .password
        .as_deref()
        .map(crate::auth::users::hash_password)
        .transpose()?;
    let user = state
        .users
        .update(&login, |u| {
            if let Some(role) = body.role {
                u.role = role;
            }
            if let Some(disabled) = body.disabled {
                u.disabled = disabled;
            }
            if let Some(hash) = &hash {
                u.password_hash = Some(hash.clone());
            }
            Ok(())
        })
        .await?;
    let mut changed = Vec::new();
    if let Some(role) = body.role {
        changed.push(format!("role {}", role.as_str()));
    }
    if let Some(disabled) = body.disabled {
        changed.push(if disabled { "disabled" } else { "enabled" }.to_owned());
    }
    if hash.is_some() {
        changed.push("password changed".into());
    }
    audit(
        &state,
        &actor.login,
        "user.update",
        format!("{}: {}", user.login, changed.join(", ")),
    )
    .await;
    Ok(Json(view(&user)))
}
