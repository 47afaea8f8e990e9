//! Projects in the store, `projects/<key>.json`: each project's settings
//! (title, repo, environments, default branch, Slack channel, executor,
//! drift schedule), its access rules (visibility, members, allow-lists),
//! whether `tfpilot.toml` owns its settings, and who changed it when.
//! Written with compare-and-swap (`version` counts the writes); the
//! conversion to and from what the server serves (`config::Project` +
//! `ProjectAccess`) lives here too.

use super::Entry;
use crate::config::{Every, ExecutorChoice, Project, TfcProject};
use crate::store::records::Records;
use crate::store::{ObjectStore, StoreError, list_all};
use app::domain::ids::{EnvName, ProjectKey};
use app::domain::policy::ProjectAccess;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const PREFIX: &str = "projects/";

/// Where a project's runs go, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StoredExecutor {
    /// The mode's own (local terraform, or GitHub Actions).
    #[default]
    Mode,
    /// HCP Terraform workspaces.
    Tfc {
        /// The organization.
        organization: String,
        /// The workspace of each environment.
        workspaces: BTreeMap<EnvName, String>,
    },
}

/// One project as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredProject {
    /// The key (`payments`).
    pub key: ProjectKey,
    /// Display name.
    pub title: String,
    /// `owner/name` on GitHub; `None`: a local repo under the data dir.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Environments, in display order.
    pub environments: Vec<EnvName>,
    /// The branch requests merge into.
    pub default_branch: String,
    /// The Slack channel of its notices (`None`: the deployment's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_channel: Option<String>,
    /// Where its runs go.
    #[serde(default)]
    pub executor: StoredExecutor,
    /// How often each environment is checked for drift (`every 6h`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub drift_schedule: BTreeMap<EnvName, String>,
    /// Who sees it, its members and its own allow-lists.
    #[serde(flatten)]
    pub access: ProjectAccess,
    /// Whether `tfpilot.toml` owns its settings (members, visibility and
    /// allow-lists are data all the same).
    #[serde(default)]
    pub managed_by_config: bool,
    /// 1 when created, one more on every write.
    pub version: u64,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// Who created it (`tfpilot.toml` for a seeded project).
    pub created_by: String,
    /// When it last changed.
    pub updated_at: String,
    /// Who changed it last.
    pub updated_by: String,
}

/// `every <n>d|h|m`, the largest unit that divides the period.
pub fn every_text(every: Every) -> String {
    let secs = every.0.as_secs();
    if secs.is_multiple_of(86_400) {
        format!("every {}d", secs / 86_400)
    } else if secs.is_multiple_of(3_600) {
        format!("every {}h", secs / 3_600)
    } else {
        format!("every {}m", (secs / 60).max(1))
    }
}

impl StoredProject {
    /// A new record of `project` with `access`, created by `by` at `at`.
    pub fn new(project: &Project, access: ProjectAccess, by: &str, at: &str) -> Self {
        let mut me = Self {
            key: project.key.clone(),
            title: String::new(),
            repo: None,
            environments: Vec::new(),
            default_branch: String::new(),
            slack_channel: None,
            executor: StoredExecutor::Mode,
            drift_schedule: BTreeMap::new(),
            access,
            managed_by_config: false,
            version: 1,
            created_at: at.to_owned(),
            created_by: by.to_owned(),
            updated_at: at.to_owned(),
            updated_by: by.to_owned(),
        };
        me.set_settings(project);
        me
    }

    /// Takes every setting of `project` (not its key, access or stamps).
    pub fn set_settings(&mut self, project: &Project) {
        self.title = project.title.clone();
        self.repo = project.repo.clone();
        self.environments = project.environments.clone();
        self.default_branch = project.default_branch.clone();
        self.slack_channel = project.slack_channel.clone();
        self.executor = match &project.executor {
            ExecutorChoice::Mode => StoredExecutor::Mode,
            ExecutorChoice::Tfc(t) => StoredExecutor::Tfc {
                organization: t.organization.clone(),
                workspaces: t.workspaces.clone(),
            },
        };
        self.drift_schedule = project
            .drift_schedules
            .iter()
            .map(|(env, every)| (env.clone(), every_text(*every)))
            .collect();
    }

    /// Its settings as the server serves them (a drift schedule that no
    /// longer reads is dropped, with a warning).
    pub fn project(&self) -> Project {
        let drift_schedules = self
            .drift_schedule
            .iter()
            .filter_map(|(env, text)| match Every::parse(text) {
                Ok(every) => Some((env.clone(), every)),
                Err(e) => {
                    tracing::warn!(project = %self.key, "drift_schedule.{env}: {e}");
                    None
                }
            })
            .collect();
        Project {
            key: self.key.clone(),
            title: self.title.clone(),
            repo: self.repo.clone(),
            environments: self.environments.clone(),
            default_branch: self.default_branch.clone(),
            slack_channel: self.slack_channel.clone(),
            executor: match &self.executor {
                StoredExecutor::Mode => ExecutorChoice::Mode,
                StoredExecutor::Tfc {
                    organization,
                    workspaces,
                } => ExecutorChoice::Tfc(TfcProject {
                    organization: organization.clone(),
                    workspaces: workspaces.clone(),
                }),
            },
            drift_schedules,
        }
    }

    /// What the server serves of it.
    pub fn entry(&self) -> Entry {
        Entry {
            project: self.project(),
            access: self.access.clone(),
        }
    }
}

/// A period in seconds as an [`Every`] (for tests and forms).
pub fn every_secs(secs: u64) -> Every {
    Every(Duration::from_secs(secs))
}

/// The project records, compare-and-swap.
#[derive(Clone)]
pub struct ProjectStore {
    store: Arc<dyn ObjectStore>,
    records: Records,
}

/// The key of a project's record.
pub fn record_key(key: &ProjectKey) -> String {
    format!("{PREFIX}{key}.json")
}

impl ProjectStore {
    /// Over the requests store.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            records: Records::new(store.clone()),
            store,
        }
    }

    /// One project and its version tag, if stored.
    pub async fn get(
        &self,
        key: &ProjectKey,
    ) -> Result<Option<(StoredProject, String)>, StoreError> {
        Ok(self
            .records
            .get::<StoredProject>(&record_key(key))
            .await?
            .map(|s| (s.value, s.etag)))
    }

    /// Every stored project in key order; an unreadable record is skipped
    /// with a warning.
    pub async fn list(&self) -> Result<Vec<StoredProject>, StoreError> {
        let mut out = Vec::new();
        for entry in list_all(self.store.as_ref(), PREFIX).await? {
            match self.records.get::<StoredProject>(&entry.key).await {
                Ok(Some(s)) => out.push(s.value),
                Ok(None) => {}
                Err(StoreError::Invalid(e)) => {
                    tracing::warn!("skipping an unreadable project record: {e}")
                }
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// Writes `project`: created when `etag` is `None` (a conflict when it
    /// exists), else replacing exactly that version.
    pub async fn put(&self, project: &StoredProject, etag: Option<&str>) -> Result<(), StoreError> {
        self.records
            .put(&record_key(&project.key), project, etag)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_back_as_written() {
        for (secs, text) in [
            (86_400, "every 1d"),
            (6 * 3_600, "every 6h"),
            (90 * 60, "every 90m"),
            (2 * 86_400, "every 2d"),
        ] {
            assert_eq!(every_text(every_secs(secs)), text);
            assert_eq!(Every::parse(text).unwrap().0.as_secs(), secs);
        }
    }

    #[test]
    fn a_project_round_trips_through_its_record() {
        let env = |e: &str| EnvName::parse(e).unwrap();
        let project = Project {
            key: ProjectKey::parse("payments").unwrap(),
            title: "Payments".into(),
            repo: Some("acme/payments-infra".into()),
            environments: vec![env("dev"), env("prod")],
            default_branch: "trunk".into(),
            slack_channel: Some("#pay".into()),
            executor: ExecutorChoice::Tfc(TfcProject {
                organization: "acme".into(),
                workspaces: [(env("dev"), "pd".into()), (env("prod"), "pp".into())].into(),
            }),
            drift_schedules: [(env("prod"), every_secs(6 * 3_600))].into(),
        };
        let access = ProjectAccess {
            members: [("amy".to_owned(), app::domain::policy::Role::Approver)].into(),
            ..ProjectAccess::default()
        };
        let stored = StoredProject::new(&project, access.clone(), "ada", "2026-12-05T08:00:00Z");
        let json = serde_json::to_value(&stored).unwrap();
        assert_eq!(json["members"]["amy"], "approver");
        assert_eq!(json["visibility"], "open");
        assert_eq!(json["executor"]["kind"], "tfc");
        assert_eq!(json["drift_schedule"]["prod"], "every 6h");
        let back: StoredProject = serde_json::from_value(json).unwrap();
        assert_eq!(back, stored);
        assert_eq!(back.entry().project, project);
        assert_eq!(back.entry().access, access);
    }
}
