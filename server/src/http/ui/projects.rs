//! The projects pages' data: the projects the caller sees, and one
//! project with what the caller may change of it.

use super::{UiServices, refusal};
use crate::projects::store::{StoredExecutor, StoredProject};
use app::api::{MemberRow, ProjectRow, ProjectView, ProjectsPage, short_time};
use app::domain::policy::{Actor, Decision, Operation, Role, decide_operation};
use app::services::Refusal;

fn may(op: Operation<'_>, actor: &Actor) -> bool {
    decide_operation(op, actor) == Decision::Allowed
}

fn can_members(p: &StoredProject, actor: &Actor) -> bool {
    let role_here = p.access.role_of(actor);
    may(
        Operation::ChangeProject {
            role_here,
            settings: false,
        },
        actor,
    )
}

fn joined(list: &Option<std::collections::BTreeSet<String>>) -> Option<String> {
    list.as_ref()
        .map(|l| l.iter().cloned().collect::<Vec<_>>().join(", "))
}

/// `every 6h` when every environment has that schedule, else
/// `dev=every 1d, prod=every 6h`.
fn schedule(p: &StoredProject) -> String {
    let mut values: Vec<&String> = p.drift_schedule.values().collect();
    values.dedup();
    if values.len() == 1 && p.drift_schedule.len() == p.environments.len() {
        return values[0].clone();
    }
    p.drift_schedule
        .iter()
        .map(|(env, every)| format!("{env}={every}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl UiServices {
    /// `/admin/projects`.
    pub(super) async fn projects_page(&self) -> Result<ProjectsPage, Refusal> {
        let actor = self.caller().await?;
        let projects = self.projects.list(&actor).await.map_err(refusal)?;
        Ok(ProjectsPage {
            rows: projects
                .into_iter()
                .map(|p| ProjectRow {
                    can_manage: can_members(&p, &actor),
                    key: p.key.to_string(),
                    title: p.title,
                    environments: p.environments.iter().map(|e| e.to_string()).collect(),
                    repo: p.repo.unwrap_or_else(|| "local".into()),
                    visibility: p.access.visibility.as_str().to_owned(),
                    members: p.access.members.len(),
                    managed_by_config: p.managed_by_config,
                })
                .collect(),
            can_create: may(Operation::CreateProject, &actor),
            github: self.projects.on_github(),
        })
    }

    /// `/admin/projects/{key}`.
    pub(super) async fn project_view(&self, key: &str) -> Result<ProjectView, Refusal> {
        let actor = self.caller().await?;
        let p = self.projects.get(&actor, key).await.map_err(refusal)?;
        let can_settings = may(
            Operation::ChangeProject {
                role_here: p.access.role_of(&actor),
                settings: true,
            },
            &actor,
        );
        let github = self.projects.on_github();
        Ok(ProjectView {
            can_members: can_members(&p, &actor),
            can_settings,
            github,
            drift_schedule: schedule(&p),
            changed: format!(
                "v{} by {}, {}",
                p.version,
                p.updated_by,
                short_time(&p.updated_at)
            ),
            executor: match p.executor {
                StoredExecutor::Tfc { .. } => "tfc".into(),
                StoredExecutor::Mode if github => "actions".into(),
                StoredExecutor::Mode => "local".into(),
            },
            key: p.key.to_string(),
            title: p.title,
            repo: p.repo.unwrap_or_default(),
            environments: p
                .environments
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            default_branch: p.default_branch,
            slack_channel: p.slack_channel.unwrap_or_default(),
            visibility: p.access.visibility.as_str().to_owned(),
            prod_allowed_users: joined(&p.access.prod_allowed_users),
            destroy_prod_allowed_users: joined(&p.access.destroy_prod_allowed_users),
            members: p
                .access
                .members
                .iter()
                .map(|(login, role)| MemberRow {
                    login: login.clone(),
                    role: role.as_str().to_owned(),
                })
                .collect(),
            managed_by_config: p.managed_by_config,
        })
    }

    /// Whether `actor` is an admin of some served project.
    pub(super) fn project_admin(&self, actor: &Actor) -> bool {
        self.served
            .policy()
            .projects
            .values()
            .any(|a| a.members.get(&actor.login) == Some(&Role::Admin))
    }
}
