//! Projects as data: listed and read by whoever sees them, created by
//! admins, changed by admins (settings) and by the project's admins
//! (members only). Each change is written with compare-and-swap, audited
//! (`project.create`, `project.update` with what changed) and served at
//! once; other replicas follow on their next reload. A project managed by
//! `tfpilot.toml` refuses changes to the settings the file owns (409
//! naming the field); its members, visibility and allow-lists are data.

pub mod body;

use crate::auth::{UserError, Users};
use crate::clock::Clock;
use crate::git::GitHost;
use crate::projects::seed::Served;
use crate::projects::store::StoredProject;
use crate::store::StoreError;
use crate::store::journal::AuditLog;
use app::domain::config::FieldError;
use app::domain::ids::ProjectKey;
use app::domain::policy::{Actor, Decision, Operation, ProjectAccess, decide_operation};
use body::{CONFIG_OWNED, Mode};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Why a project operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectsError {
    /// Not allowed; `rule` names the rule.
    #[error("{message}")]
    Forbidden {
        /// Stable rule id.
        rule: String,
        /// Why.
        message: String,
    },
    /// No such project, or hidden from the caller (the same answer).
    #[error("project {0} does not exist")]
    NotFound(String),
    /// A field conflicts with what exists (a taken key, a setting
    /// `tfpilot.toml` owns).
    #[error("{message}")]
    Conflict {
        /// The field at fault.
        field: String,
        /// Why, and what to do instead.
        message: String,
    },
    /// Fields break their rules (every one).
    #[error("the project is invalid")]
    Invalid(Vec<FieldError>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn decide(op: Operation<'_>, actor: &Actor) -> Result<(), ProjectsError> {
    match decide_operation(op, actor) {
        Decision::Allowed => Ok(()),
        Decision::Forbidden { rule, reason }
        | Decision::Conflict {
            rule: Some(rule),
            reason,
        } => Err(ProjectsError::Forbidden {
            rule,
            message: reason,
        }),
        Decision::Conflict { rule: None, reason } => Err(ProjectsError::Forbidden {
            rule: "projects".into(),
            message: reason,
        }),
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ProjectsError {
    ProjectsError::Invalid(vec![FieldError {
        field: field.to_owned(),
        message: message.into(),
    }])
}

/// The projects service.
#[derive(Clone)]
pub struct ProjectsService {
    served: Served,
    git: Arc<dyn GitHost>,
    users: Users,
    audit: AuditLog,
    clock: Arc<dyn Clock>,
    mode: Mode,
}

impl ProjectsService {
    /// Over the served projects; `github` when repos are on GitHub (the
    /// embedded mode creates a local repo for each new project).
    pub fn new(
        served: Served,
        git: Arc<dyn GitHost>,
        users: Users,
        audit: AuditLog,
        github: bool,
    ) -> Self {
        Self {
            clock: users.clock().clone(),
            served,
            git,
            users,
            audit,
            mode: Mode { github },
        }
    }

    /// Whether repos are on GitHub (else local).
    pub fn on_github(&self) -> bool {
        self.mode.github
    }

    /// The projects `actor` sees, in key order.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<StoredProject>, ProjectsError> {
        let policy = self.served.projects().policy();
        Ok(self
            .served
            .store()
            .list()
            .await?
            .into_iter()
            .filter(|p| policy.sees(p.key.as_str(), actor))
            .collect())
    }

    /// One project (404 when hidden from `actor`, as when unknown).
    pub async fn get(&self, actor: &Actor, key: &str) -> Result<StoredProject, ProjectsError> {
        self.read(actor, key).await.map(|(p, _)| p)
    }

    async fn read(
        &self,
        actor: &Actor,
        key: &str,
    ) -> Result<(StoredProject, String), ProjectsError> {
        let not_found = || ProjectsError::NotFound(key.chars().take(64).collect());
        let parsed = ProjectKey::parse(key).map_err(|_| not_found())?;
        let (project, etag) = self
            .served
            .store()
            .get(&parsed)
            .await?
            .ok_or_else(not_found)?;
        // The record decides (the snapshot may lag another replica's write).
        if project.access.role_of(actor).is_none() {
            return Err(not_found());
        }
        Ok((project, etag))
    }

    /// Creates a project (admins): 422 for an invalid key or field, 409
    /// for a taken key. In the embedded mode its local repo is created
    /// from the template at once.
    pub async fn create(
        &self,
        actor: &Actor,
        body: &Value,
    ) -> Result<StoredProject, ProjectsError> {
        decide(Operation::CreateProject, actor)?;
        let body = object(body)?;
        let key_text = body.get("key").and_then(Value::as_str).unwrap_or_default();
        let key = ProjectKey::parse(key_text.trim()).map_err(|e| invalid("key", e.to_string()))?;
        let at = self.clock.rfc3339_millis();
        let blank = crate::config::Project {
            key: key.clone(),
            title: key.to_string(),
            repo: None,
            environments: Vec::new(),
            default_branch: crate::config::DEFAULT_BRANCH.into(),
            slack_channel: None,
            executor: crate::config::ExecutorChoice::Mode,
            drift_schedules: Default::default(),
        };
        let mut project = StoredProject::new(&blank, ProjectAccess::default(), &actor.login, &at);
        let mut read = body::read(&body, &mut project, self.mode);
        if !body.contains_key("environments") {
            read.errors.push(FieldError {
                field: "environments".into(),
                message: "is required: list 1 to 20 environments, such as [\"dev\", \"prod\"]"
                    .into(),
            });
        }
        if self.mode.github && !body.contains_key("repo") {
            read.errors.push(FieldError {
                field: "repo".into(),
                message: "is required: `owner/name`, the project's infra repo on GitHub".into(),
            });
        }
        self.check_members(&mut read).await?;
        if !read.errors.is_empty() {
            return Err(ProjectsError::Invalid(read.errors));
        }
        apply_members(&mut project, &read.members);
        match self.served.store().put(&project, None).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(ProjectsError::Conflict {
                    field: "key".into(),
                    message: format!(
                        "key: a project called {key} exists already; choose another key"
                    ),
                });
            }
            Err(e) => return Err(e.into()),
        }
        self.reload().await;
        if !self.mode.github
            && let Err(e) = self.git.ensure_repo(&key).await
        {
            tracing::warn!(project = %key, "cannot create the project's local repo yet (retried on its first request): {e}");
        }
        self.audit(actor, "project.create", describe_new(&project))
            .await;
        Ok(project)
    }

    /// Changes a project: its members (admins and the project's admins),
    /// anything else (admins). A setting `tfpilot.toml` owns is refused
    /// for a project it manages (409 naming the field).
    pub async fn patch(
        &self,
        actor: &Actor,
        key: &str,
        body: &Value,
    ) -> Result<StoredProject, ProjectsError> {
        let body = object(body)?;
        loop {
            let (mut project, etag) = self.read(actor, key).await?;
            let mut read = body::read(&body, &mut project, self.mode);
            let settings =
                read.changed.iter().any(|f| f != "members") || body.keys().any(|k| k != "members");
            let role_here = project.access.role_of(actor);
            decide(
                Operation::ChangeProject {
                    role_here,
                    settings,
                },
                actor,
            )?;
            if project.managed_by_config
                && let Some(field) = read
                    .changed
                    .iter()
                    .find(|f| CONFIG_OWNED.contains(&f.as_str()))
            {
                return Err(ProjectsError::Conflict {
                    field: field.clone(),
                    message: format!(
                        "{field}: project {key} is managed by tfpilot.toml; change {field} there (its members, visibility and allow-lists may change here)"
                    ),
                });
            }
            self.check_members(&mut read).await?;
            if !read.errors.is_empty() {
                return Err(ProjectsError::Invalid(read.errors));
            }
            let member_changes = apply_members(&mut project, &read.members);
            if read.changed.is_empty() && member_changes.is_empty() {
                return Ok(project);
            }
            project.version += 1;
            project.updated_at = self.clock.rfc3339_millis();
            project.updated_by = actor.login.clone();
            match self.served.store().put(&project, Some(&etag)).await {
                Ok(()) => {}
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
            self.reload().await;
            let mut what: Vec<String> = read
                .changed
                .iter()
                .filter(|f| *f != "members")
                .cloned()
                .collect();
            what.extend(member_changes);
            let detail = format!(
                "{} (version {}): {}",
                project.key,
                project.version,
                what.join(", ")
            );
            self.audit(actor, "project.update", detail).await;
            return Ok(project);
        }
    }

    /// Every member login of `read` must be a user: 422 naming
    /// `members.<login>` otherwise.
    async fn check_members(&self, read: &mut body::Read) -> Result<(), ProjectsError> {
        for (login, role) in &read.members {
            if role.is_none() {
                continue;
            }
            match self.users.get(login).await {
                Ok(_) => {}
                Err(UserError::NotFound(_)) => read.errors.push(FieldError {
                    field: format!("members.{login}"),
                    message: format!("there is no user `{login}`; add the user first"),
                }),
                Err(UserError::Store(e)) => return Err(e.into()),
                Err(e) => read.errors.push(FieldError {
                    field: format!("members.{login}"),
                    message: e.to_string(),
                }),
            }
        }
        Ok(())
    }

    async fn reload(&self) {
        if let Err(e) = self.served.load().await {
            tracing::warn!(
                "cannot reload the projects after a change (the next refresh will): {e}"
            );
        }
    }

    async fn audit(&self, actor: &Actor, action: &str, detail: String) {
        self.audit.note(actor, action, detail).await;
    }
}

fn object(body: &Value) -> Result<Map<String, Value>, ProjectsError> {
    body.as_object()
        .cloned()
        .ok_or_else(|| invalid("body", "must be a JSON object of project settings"))
}

/// Applies member changes; returns them in words (`amy → approver`,
/// `bob removed`), only those that changed something.
fn apply_members(
    project: &mut StoredProject,
    changes: &std::collections::BTreeMap<String, Option<app::domain::policy::Role>>,
) -> Vec<String> {
    let mut said = Vec::new();
    for (login, role) in changes {
        let members = &mut project.access.members;
        match role {
            Some(role) if members.get(login) != Some(role) => {
                members.insert(login.clone(), *role);
                said.push(format!("member {login} → {}", role.as_str()));
            }
            None if members.remove(login).is_some() => said.push(format!("member {login} removed")),
            _ => {}
        }
    }
    said
}

fn describe_new(p: &StoredProject) -> String {
    let envs: Vec<&str> = p.environments.iter().map(|e| e.as_str()).collect();
    let members: Vec<String> = p
        .access
        .members
        .iter()
        .map(|(l, r)| format!("{l} {}", r.as_str()))
        .collect();
    format!(
        "{} “{}”: environments {}, repo {}, visibility {}{}",
        p.key,
        p.title,
        envs.join(", "),
        p.repo.as_deref().unwrap_or("local"),
        p.access.visibility.as_str(),
        if members.is_empty() {
            String::new()
        } else {
            format!(", members {}", members.join(", "))
        }
    )
}
