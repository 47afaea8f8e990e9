//! A project body (`POST` and `PATCH /api/v1/projects`) read onto a
//! project record: every field error at once, each naming its field, and
//! the names of the fields that changed.

use crate::config::Every;
use crate::config::slack::check_channel;
use crate::projects::store::{StoredExecutor, StoredProject, every_text};
use app::domain::config::FieldError;
use app::domain::ids::EnvName;
use app::domain::policy::{Role, Visibility};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The settings `tfpilot.toml` owns for a project it manages.
pub const CONFIG_OWNED: &[&str] = &[
    "title",
    "repo",
    "environments",
    "default_branch",
    "slack_channel",
    "executor",
    "drift_schedule",
];

/// Every field a body may hold.
const FIELDS: &[&str] = &[
    "key",
    "title",
    "repo",
    "environments",
    "default_branch",
    "slack_channel",
    "executor",
    "drift_schedule",
    "visibility",
    "members",
    "prod_allowed_users",
    "destroy_prod_allowed_users",
];

/// What the deployment allows of a project's repo.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    /// Repos are on GitHub (`owner/name` required); else local repos.
    pub github: bool,
}

/// What reading a body found.
#[derive(Debug, Default)]
pub struct Read {
    /// The fields whose value changed, in body order.
    pub changed: Vec<String>,
    /// Members to add or change (login → role) and to remove (`None`).
    pub members: BTreeMap<String, Option<Role>>,
    /// Every field error.
    pub errors: Vec<FieldError>,
}

impl Read {
    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    fn set<T: PartialEq>(&mut self, field: &str, slot: &mut T, value: T) {
        if *slot != value {
            *slot = value;
            self.changed.push(field.to_owned());
        }
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(|s| s.trim().to_owned())
}

/// Whether `repo` is `owner/name`.
pub fn valid_repo(repo: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    matches!(repo.split_once('/'), Some((o, n)) if ok(o) && ok(n))
}

fn logins(field: &str, v: &Value, read: &mut Read) -> Option<Option<BTreeSet<String>>> {
    match v {
        Value::Null => Some(None),
        Value::Array(items) => {
            let mut out = BTreeSet::new();
            for item in items {
                match text(item).filter(|s| !s.is_empty() && s.len() <= 64) {
                    Some(login) => {
                        out.insert(login);
                    }
                    None => {
                        read.error(field, "must list logins (1–64 characters each)");
                        return None;
                    }
                }
            }
            Some(Some(out))
        }
        _ => {
            read.error(
                field,
                "must be a list of logins, or null for the deployment's list",
            );
            None
        }
    }
}

/// Reads `body` onto `project` (under `mode`): the settings change in
/// place, member changes are returned for the caller to check.
pub fn read(body: &Map<String, Value>, project: &mut StoredProject, mode: Mode) -> Read {
    let mut read = Read::default();
    for field in body.keys() {
        if !FIELDS.contains(&field.as_str()) {
            read.error(
                field,
                format!(
                    "is not a project setting; the settings are {}",
                    FIELDS.join(", ")
                ),
            );
        }
    }
    if let Some(v) = body.get("key")
        && text(v).as_deref() != Some(project.key.as_str())
    {
        read.error("key", "a project's key cannot change");
    }
    if let Some(v) = body.get("title") {
        match text(v).filter(|t| !t.is_empty() && t.chars().count() <= 100) {
            Some(t) => read.set("title", &mut project.title, t),
            None => read.error("title", "must be 1 to 100 characters"),
        }
    }
    if let Some(v) = body.get("environments") {
        environments(v, project, &mut read);
    }
    if let Some(v) = body.get("repo") {
        let repo = if v.is_null() {
            Some(String::new())
        } else {
            text(v)
        };
        match (repo.filter(|r| !r.is_empty()), mode.github) {
            (Some(r), true) if valid_repo(&r) => read.set("repo", &mut project.repo, Some(r)),
            (_, true) => read.error("repo", "must be `owner/name`, the project's infra repo on GitHub"),
            (None, false) => read.set("repo", &mut project.repo, None),
            (Some(_), false) => read.error(
                "repo",
                "must be empty: this server keeps each project's infra repo under its data dir (no TFPILOT_GITHUB_*)",
            ),
        }
    }
    if let Some(v) = body.get("default_branch") {
        match text(v) {
            Some(b) if !mode.github && b != crate::config::DEFAULT_BRANCH => read.error(
                "default_branch",
                "must be main: local repos are created on main",
            ),
            Some(b) if crate::git::check_branch(&b).is_ok() => {
                read.set("default_branch", &mut project.default_branch, b)
            }
            _ => read.error("default_branch", "must be a branch name such as main"),
        }
    }
    if let Some(v) = body.get("slack_channel") {
        let channel = if v.is_null() {
            Some(String::new())
        } else {
            text(v)
        };
        match channel {
            Some(c) if c.is_empty() => read.set("slack_channel", &mut project.slack_channel, None),
            Some(c) => match check_channel(&c) {
                None => read.set("slack_channel", &mut project.slack_channel, Some(c)),
                Some(problem) => read.error("slack_channel", problem),
            },
            None => read.error("slack_channel", "must be a channel id or #name, or null"),
        }
    }
    if let Some(v) = body.get("executor") {
        executor(v, project, &mut read);
    }
    if let Some(v) = body.get("drift_schedule") {
        drift_schedule(v, project, &mut read);
    }
    if let Some(v) = body.get("visibility") {
        match text(v).as_deref().and_then(Visibility::parse) {
            Some(vis) => read.set("visibility", &mut project.access.visibility, vis),
            None => read.error("visibility", "must be open or members"),
        }
    }
    if let Some(v) = body.get("members") {
        members(v, &mut read);
    }
    for field in ["prod_allowed_users", "destroy_prod_allowed_users"] {
        if let Some(list) = body.get(field).and_then(|v| logins(field, v, &mut read)) {
            let slot = if field == "prod_allowed_users" {
                &mut project.access.prod_allowed_users
            } else {
                &mut project.access.destroy_prod_allowed_users
            };
            read.set(field, slot, list);
        }
    }
    read
}

fn environments(v: &Value, project: &mut StoredProject, read: &mut Read) {
    let Some(items) = v.as_array().filter(|a| !a.is_empty() && a.len() <= 20) else {
        read.error(
            "environments",
            "must list 1 to 20 environments, such as [\"dev\", \"prod\"]",
        );
        return;
    };
    let mut envs: Vec<EnvName> = Vec::new();
    for item in items {
        match text(item).map(|t| EnvName::parse(&t)) {
            Some(Ok(e)) if !envs.contains(&e) => envs.push(e),
            Some(Ok(e)) => read.error("environments", format!("`{e}` is listed twice")),
            Some(Err(e)) => read.error("environments", e.to_string()),
            None => read.error("environments", "must list environment names"),
        }
    }
    project.drift_schedule.retain(|env, _| envs.contains(env));
    read.set("environments", &mut project.environments, envs);
}

fn executor(v: &Value, project: &mut StoredProject, read: &mut Read) {
    match text(v).as_deref() {
        Some("tfc") if matches!(project.executor, StoredExecutor::Tfc { .. }) => {}
        Some("tfc") => read.error(
            "executor",
            "projects on HCP Terraform are set up in tfpilot.toml (executor = \"tfc\" with a workspace per environment); a project created here runs on this server's own executor",
        ),
        Some("local" | "actions" | "mode") => {
            read.set("executor", &mut project.executor, StoredExecutor::Mode)
        }
        _ => read.error("executor", "must be \"local\" or \"actions\" (the mode's executor)"),
    }
}

fn drift_schedule(v: &Value, project: &mut StoredProject, read: &mut Read) {
    let parse = |text: &str| Every::parse(text).map(every_text);
    let mut next = BTreeMap::new();
    match v {
        Value::Null => {}
        Value::String(s) if s.trim().is_empty() => {}
        Value::String(s) => match parse(s) {
            Ok(every) => {
                for env in &project.environments {
                    next.insert(env.clone(), every.clone());
                }
            }
            Err(e) => return read.error("drift_schedule", e),
        },
        Value::Object(map) => {
            for (env, text) in map {
                let field = format!("drift_schedule.{env}");
                let Some(e) = project.environments.iter().find(|e| e.as_str() == env) else {
                    read.error(&field, "is not one of the project's environments");
                    continue;
                };
                match text.as_str().map(parse) {
                    Some(Ok(every)) => {
                        next.insert(e.clone(), every);
                    }
                    Some(Err(m)) => read.error(&field, m),
                    None => read.error(&field, "write a schedule such as \"every 6h\""),
                }
            }
        }
        _ => {
            return read.error(
                "drift_schedule",
                "write \"every 6h\", an object of environments and schedules, or null",
            );
        }
    }
    read.set("drift_schedule", &mut project.drift_schedule, next);
}

fn members(v: &Value, read: &mut Read) {
    let Some(map) = v.as_object() else {
        return read.error(
            "members",
            "must be an object of logins and roles ({\"amy\": \"approver\", \"bob\": null})",
        );
    };
    for (login, role) in map {
        let field = format!("members.{login}");
        if login.is_empty() || login.len() > 64 {
            read.error(&field, "is not a login");
            continue;
        }
        match role {
            Value::Null => {
                read.members.insert(login.clone(), None);
            }
            Value::String(r) => match Role::parse(r) {
                Some(role) => {
                    read.members.insert(login.clone(), Some(role));
                }
                None => read.error(
                    &field,
                    "must be viewer, requester, approver, admin or null (removes)",
                ),
            },
            _ => read.error(
                &field,
                "must be viewer, requester, approver, admin or null (removes)",
            ),
        }
    }
}
