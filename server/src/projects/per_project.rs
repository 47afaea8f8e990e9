//! One setting of each project as an adapter reads it (a repo, a default
//! branch, a Slack channel): fixed when the adapter is built, or read from
//! the served snapshot on every use, so a project created or changed
//! while the server runs counts at once.

use super::Projects;
use crate::config::Project;
use app::domain::ids::ProjectKey;
use std::collections::HashMap;
use std::sync::Arc;

type Read = Arc<dyn Fn(&Project) -> Option<String> + Send + Sync>;

/// A setting per project.
#[derive(Clone)]
pub enum PerProject {
    /// Fixed when built.
    Fixed(Arc<HashMap<ProjectKey, String>>),
    /// Read from the served projects on every use.
    Served {
        /// The snapshot.
        projects: Arc<Projects>,
        /// The setting of one project.
        read: Read,
    },
}

impl PerProject {
    /// Fixed values.
    pub fn fixed(values: impl IntoIterator<Item = (ProjectKey, String)>) -> Self {
        Self::Fixed(Arc::new(values.into_iter().collect()))
    }

    /// `read` of each served project, now.
    pub fn served(
        projects: Arc<Projects>,
        read: impl Fn(&Project) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        Self::Served {
            projects,
            read: Arc::new(read),
        }
    }

    /// The setting of `project`, if it has one.
    pub fn get(&self, project: &ProjectKey) -> Option<String> {
        match self {
            Self::Fixed(values) => values.get(project).cloned(),
            Self::Served { projects, read } => projects.get(project).and_then(|p| read(&p)),
        }
    }
}

impl Default for PerProject {
    fn default() -> Self {
        Self::Fixed(Arc::default())
    }
}

impl std::fmt::Debug for PerProject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Fixed(values) => f.debug_tuple("Fixed").field(values).finish(),
            Self::Served { projects, .. } => f.debug_tuple("Served").field(projects).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projects::Entry;

    #[test]
    fn a_served_setting_follows_the_snapshot() {
        let config = crate::config::Config::load(|_| None).unwrap();
        let projects = Arc::new(Projects::from_config(&config));
        let channel = PerProject::served(projects.clone(), |p| p.slack_channel.clone());
        let sandbox = ProjectKey::parse("sandbox").unwrap();
        assert_eq!(channel.get(&sandbox), None);
        let mut project = (*projects.get(&sandbox).unwrap()).clone();
        project.slack_channel = Some("#sandbox".into());
        projects.replace([Entry {
            project,
            access: Default::default(),
        }]);
        assert_eq!(channel.get(&sandbox).as_deref(), Some("#sandbox"));
        let fixed = PerProject::fixed([(sandbox.clone(), "x".to_owned())]);
        assert_eq!(fixed.get(&sandbox).as_deref(), Some("x"));
    }
}
