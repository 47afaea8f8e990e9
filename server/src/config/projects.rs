//! Projects from `tfpilot.toml`: key, title, repo, environments.

use super::ConfigError;
use super::drift::{Every, drift_schedules};
use super::tfc::{ExecutorChoice, FileSource, FileTfc, executor_choice};
use app::domain::ids::{EnvName, ProjectKey};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A project: an infra repo and its environments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Key (`sandbox`).
    pub key: ProjectKey,
    /// Display name.
    pub title: String,
    /// `owner/name` on GitHub, or `None` for a local repo under the data dir.
    pub repo: Option<String>,
    /// Environments, in display order.
    pub environments: Vec<EnvName>,
    /// The branch requests merge into and runs start from (`default_branch`,
    /// default `main`).
    pub default_branch: String,
    /// The Slack channel for notices of this project's requests
    /// (`slack_channel`; default `TFPILOT_SLACK_CHANNEL`).
    pub slack_channel: Option<String>,
    /// Where its runs go (`executor`, `tfc`).
    pub executor: ExecutorChoice,
    /// How often each environment is checked for drift (`drift_schedule`;
    /// an environment not named is never checked on a schedule).
    pub drift_schedules: BTreeMap<EnvName, Every>,
}

/// The default branch of a project that names none.
pub const DEFAULT_BRANCH: &str = "main";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileProject {
    title: Option<String>,
    repo: Option<String>,
    environments: Vec<String>,
    default_branch: Option<String>,
    slack_channel: Option<String>,
    executor: Option<toml::Spanned<String>>,
    tfc: Option<toml::Spanned<FileTfc>>,
    drift_schedule: Option<toml::Spanned<toml::Value>>,
}

/// The embedded default: one local project `sandbox` with `dev` and `prod`.
pub(super) fn default_projects() -> BTreeMap<ProjectKey, Project> {
    let key = ProjectKey::parse("sandbox").expect("valid key");
    let envs = ["dev", "prod"]
        .map(|e| EnvName::parse(e).expect("valid env"))
        .to_vec();
    BTreeMap::from([(
        key.clone(),
        Project {
            key,
            title: "Sandbox".into(),
            repo: None,
            environments: envs,
            default_branch: DEFAULT_BRANCH.into(),
            slack_channel: None,
            executor: ExecutorChoice::Mode,
            drift_schedules: BTreeMap::new(),
        },
    )])
}

pub(super) fn parse_projects(
    raw: BTreeMap<String, FileProject>,
    source: &FileSource,
) -> Result<BTreeMap<ProjectKey, Project>, ConfigError> {
    let bad = |key: &str, message: String| ConfigError::File {
        path: source.shown.clone(),
        message: format!("projects.{key}: {message}"),
    };
    let mut out = BTreeMap::new();
    for (key_text, p) in raw {
        let key = ProjectKey::parse(&key_text).map_err(|e| bad(&key_text, e.to_string()))?;
        if p.environments.is_empty() {
            return Err(bad(&key_text, "needs at least one environment".into()));
        }
        let environments = p
            .environments
            .iter()
            .map(|e| EnvName::parse(e).map_err(|err| bad(&key_text, err.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let default_branch = p.default_branch.unwrap_or_else(|| DEFAULT_BRANCH.into());
        crate::git::check_branch(&default_branch).map_err(|_| {
            bad(
                &key_text,
                format!("default_branch: `{default_branch}` is not a branch name"),
            )
        })?;
        let slack_channel = p
            .slack_channel
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if let Some(problem) = slack_channel
            .as_deref()
            .and_then(super::slack::check_channel)
        {
            return Err(bad(&key_text, format!("slack_channel: {problem}")));
        }
        let executor = executor_choice(&key_text, p.executor, p.tfc, &environments, source)?;
        let drift_schedules = drift_schedules(&key_text, p.drift_schedule, &environments, source)?;
        out.insert(
            key.clone(),
            Project {
                title: p.title.unwrap_or_else(|| key_text.clone()),
                key,
                repo: p.repo,
                default_branch,
                environments,
                slack_channel,
                executor,
                drift_schedules,
            },
        );
    }
    Ok(out)
}
