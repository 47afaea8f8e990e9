//! The projects pages' plain form posts: create a project, save its
//! settings, add or change a member, remove one. Each builds the API's
//! body, acts through the projects service as the signed-in user, and
//! goes back to the page with `?done=` or `?error=`.

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::forms::outcome;
use super::session::url_encode;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// How a form field becomes its JSON value.
type Read = dyn Fn(&str) -> Value;

/// A comma-separated list as JSON strings.
fn list(text: &str) -> Vec<Value> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Value::String(s.to_owned()))
        .collect()
}

/// `every 6h`, or `dev=every 1d, prod=every 6h`; empty is none.
fn schedule(text: &str) -> Value {
    let text = text.trim();
    if text.is_empty() {
        return Value::Null;
    }
    if !text.contains('=') {
        return Value::String(text.to_owned());
    }
    let map: Map<String, Value> = text
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(env, every)| {
            (
                env.trim().to_owned(),
                Value::String(every.trim().to_owned()),
            )
        })
        .collect();
    Value::Object(map)
}

/// The new-project form.
#[derive(Debug, Deserialize)]
pub struct NewProjectForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    environments: String,
    #[serde(default)]
    repo: String,
    #[serde(default)]
    visibility: String,
}

/// `POST /admin/projects`: creates a project (admins), then opens it.
pub async fn create(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    axum::Form(form): axum::Form<NewProjectForm>,
) -> Response {
    let key = form.key.trim().to_owned();
    let done = async {
        let Caller(actor) = caller?;
        let mut body = json!({"key": key, "environments": list(&form.environments)});
        for (field, value) in [
            ("title", &form.title),
            ("repo", &form.repo),
            ("visibility", &form.visibility),
        ] {
            if !value.trim().is_empty() {
                body[field] = json!(value.trim());
            }
        }
        let p = state.projects.create(&actor, &body).await?;
        Ok(format!("Created project {}.", p.key))
    }
    .await;
    match done {
        Ok(text) => outcome(&format!("/admin/projects/{}", url_encode(&key)), Ok(text)),
        Err(e) => outcome("/admin/projects", Err(e)),
    }
}

/// The settings form: a field the page disabled is not sent.
#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    title: Option<String>,
    environments: Option<String>,
    repo: Option<String>,
    default_branch: Option<String>,
    slack_channel: Option<String>,
    drift_schedule: Option<String>,
    visibility: Option<String>,
    prod_allowed_users: Option<String>,
    destroy_prod_allowed_users: Option<String>,
}

/// `POST /admin/projects/{key}`: saves the settings sent (admins).
pub async fn settings(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(key): Path<String>,
    axum::Form(form): axum::Form<SettingsForm>,
) -> Response {
    let done = async {
        let Caller(actor) = caller?;
        let mut body = Map::new();
        let text = |v: &str| {
            let v = v.trim();
            if v.is_empty() { Value::Null } else { json!(v) }
        };
        let logins = |v: &str| {
            let l = list(v);
            if l.is_empty() {
                Value::Null
            } else {
                Value::Array(l)
            }
        };
        let f = &form;
        let fields: [(&str, &Option<String>, &Read); 9] = [
            ("title", &f.title, &|v| json!(v.trim())),
            ("environments", &f.environments, &|v| Value::Array(list(v))),
            ("repo", &f.repo, &text),
            ("default_branch", &f.default_branch, &|v| json!(v.trim())),
            ("slack_channel", &f.slack_channel, &text),
            ("drift_schedule", &f.drift_schedule, &schedule),
            ("visibility", &f.visibility, &|v| json!(v.trim())),
            ("prod_allowed_users", &f.prod_allowed_users, &logins),
            (
                "destroy_prod_allowed_users",
                &f.destroy_prod_allowed_users,
                &logins,
            ),
        ];
        for (field, value, read) in fields {
            if let Some(v) = value {
                body.insert(field.to_owned(), read(v));
            }
        }
        let p = state
            .projects
            .patch(&actor, &key, &Value::Object(body))
            .await?;
        Ok(format!("Saved project {} (version {}).", p.key, p.version))
    }
    .await;
    outcome(&format!("/admin/projects/{}", url_encode(&key)), done)
}

/// The add-or-change-member form.
#[derive(Debug, Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    role: String,
}

/// `POST /admin/projects/{key}/members`: adds a member or changes their
/// role (admins and the project's admins).
pub async fn member(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(key): Path<String>,
    axum::Form(form): axum::Form<MemberForm>,
) -> Response {
    let login = form.login.trim().to_owned();
    let done = async {
        let Caller(actor) = caller?;
        let body = json!({"members": {login.clone(): form.role.trim()}});
        state.projects.patch(&actor, &key, &body).await?;
        Ok(format!("{login} is {} in {key}.", form.role.trim()))
    }
    .await;
    outcome(&format!("/admin/projects/{}", url_encode(&key)), done)
}

/// `POST /admin/projects/{key}/members/{login}/remove`.
pub async fn remove_member(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path((key, login)): Path<(String, String)>,
) -> Response {
    let done = async {
        let Caller(actor) = caller?;
        let body = json!({"members": {login.clone(): null}});
        state.projects.patch(&actor, &key, &body).await?;
        Ok(format!("Removed {login} from {key}."))
    }
    .await;
    outcome(&format!("/admin/projects/{}", url_encode(&key)), done)
}
