//! The projects pages (`/admin/projects` and `/admin/projects/{key}`):
//! the projects the caller sees, and one project's settings and members.

use serde::{Deserialize, Serialize};

/// A project as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRow {
    /// Key.
    pub key: String,
    /// Display name.
    pub title: String,
    /// Environments, in order.
    pub environments: Vec<String>,
    /// `owner/name`, or `local`.
    pub repo: String,
    /// `open` or `members`.
    pub visibility: String,
    /// How many members.
    pub members: usize,
    /// Whether tfpilot.toml owns its settings.
    pub managed_by_config: bool,
    /// Whether the caller may change its members.
    pub can_manage: bool,
}

/// `/admin/projects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectsPage {
    /// The projects the caller sees.
    pub rows: Vec<ProjectRow>,
    /// Whether the caller may create projects (admins).
    pub can_create: bool,
    /// Whether repos are on GitHub (`owner/name` asked) or local.
    pub github: bool,
}

/// One member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    /// Login.
    pub login: String,
    /// Role in the project.
    pub role: String,
}

/// `/admin/projects/{key}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    /// Key.
    pub key: String,
    /// Display name.
    pub title: String,
    /// `owner/name`, empty for a local repo.
    pub repo: String,
    /// Environments, comma-separated.
    pub environments: String,
    /// Default branch.
    pub default_branch: String,
    /// Slack channel, empty for the deployment's.
    pub slack_channel: String,
    /// `local`, `actions` or `tfc`.
    pub executor: String,
    /// `every 6h` for every environment, or `env=every 6h, …`; empty: none.
    pub drift_schedule: String,
    /// `open` or `members`.
    pub visibility: String,
    /// Its own production allow-list, comma-separated (`None`: the
    /// deployment's).
    pub prod_allowed_users: Option<String>,
    /// Its own production destroy allow-list.
    pub destroy_prod_allowed_users: Option<String>,
    /// Members in login order.
    pub members: Vec<MemberRow>,
    /// Whether tfpilot.toml owns its settings.
    pub managed_by_config: bool,
    /// Whether the caller may change its settings (admins).
    pub can_settings: bool,
    /// Whether the caller may change its members (admins, project admins).
    pub can_members: bool,
    /// Whether repos are on GitHub.
    pub github: bool,
    /// `v3 by ada, 2026-12-05 08:00`.
    pub changed: String,
}
