//! Runs go where their project says: projects with `executor = "tfc"` to
//! HCP Terraform, every other project to the mode's executor (local
//! terraform, or GitHub Actions).

use super::plan::PlanOutput;
use super::{DriftReport, DriftSpec, ExecError, Executor, RunInfo, RunSpec};
use app::domain::ids::ProjectKey;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Arc;

/// An executor per project, and one for the rest.
pub struct ByProject {
    default: Arc<dyn Executor>,
    projects: HashMap<ProjectKey, Arc<dyn Executor>>,
}

impl ByProject {
    /// `default` for every project `projects` does not name.
    pub fn new(
        default: Arc<dyn Executor>,
        projects: impl IntoIterator<Item = (ProjectKey, Arc<dyn Executor>)>,
    ) -> Self {
        Self {
            default,
            projects: projects.into_iter().collect(),
        }
    }

    fn of(&self, spec: &RunSpec) -> &dyn Executor {
        self.projects
            .get(&spec.project)
            .unwrap_or(&self.default)
            .as_ref()
    }
}

#[async_trait]
impl Executor for ByProject {
    fn name(&self, project: &ProjectKey) -> &'static str {
        self.projects
            .get(project)
            .unwrap_or(&self.default)
            .name(project)
    }

    async fn dispatch(&self, spec: &RunSpec) -> Result<RunInfo, ExecError> {
        self.of(spec).dispatch(spec).await
    }

    async fn status(&self, spec: &RunSpec) -> Result<RunInfo, ExecError> {
        self.of(spec).status(spec).await
    }

    async fn plan_output(&self, spec: &RunSpec) -> Result<PlanOutput, ExecError> {
        self.of(spec).plan_output(spec).await
    }

    async fn log(&self, spec: &RunSpec) -> Result<String, ExecError> {
        self.of(spec).log(spec).await
    }

    async fn drift(&self, spec: &DriftSpec) -> Result<DriftReport, ExecError> {
        self.projects
            .get(&spec.project)
            .unwrap_or(&self.default)
            .drift(spec)
            .await
    }

    fn queued_ahead(&self, run_id: &str) -> Option<usize> {
        std::iter::once(&self.default)
            .chain(self.projects.values())
            .find_map(|e| e.queued_ahead(run_id))
    }

    fn waiting(&self, run_id: &str) -> Option<String> {
        std::iter::once(&self.default)
            .chain(self.projects.values())
            .find_map(|e| e.waiting(run_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::RunKind;
    use crate::exec::fake::FakeExecutor;
    use app::domain::ids::{EnvName, RequestId};

    fn spec(project: &str) -> RunSpec {
        RunSpec {
            project: ProjectKey::parse(project).unwrap(),
            environment: EnvName::parse("dev").unwrap(),
            request: RequestId::parse("abcdefghjkmnpqrs").unwrap(),
            kind: RunKind::Plan,
            sha: "abc".into(),
            attempt: 1,
            scope: None,
        }
    }

    #[tokio::test]
    async fn each_project_runs_on_its_own_executor() {
        let mode = Arc::new(FakeExecutor::new());
        let tfc = Arc::new(FakeExecutor::new());
        let routed = ByProject::new(
            mode.clone(),
            [(
                ProjectKey::parse("payments").unwrap(),
                tfc.clone() as Arc<dyn Executor>,
            )],
        );
        routed.dispatch(&spec("payments")).await.unwrap();
        routed.dispatch(&spec("sandbox")).await.unwrap();
        assert_eq!(tfc.runs().len(), 1);
        assert_eq!(tfc.runs()[0].spec.project.as_str(), "payments");
        assert_eq!(mode.runs().len(), 1);
        assert_eq!(mode.runs()[0].spec.project.as_str(), "sandbox");
        assert!(routed.status(&spec("payments")).await.is_ok());
    }
}
