//! The contract on the GitHub Actions executor, dispatching to the
//! stateful GitHub fake, whose workflow runs execute real terraform and
//! the repo's own scope check.

use super::{Harness, World, commit_block, edit_state, sandbox};
use crate::git::{client, host_on};
use crate::support::github::Fake;
use app::domain::ids::RequestId;
use async_trait::async_trait;
use server::exec::actions::ActionsExecutor;
use server::exec::run_name;
use server::exec::{DriftSpec, RunSpec};
use server::git::GitHost;
use std::sync::Arc;
use std::time::Duration;

const REPO: &str = "acme/infra";

struct Actions {
    fake: Fake,
    git: Arc<dyn GitHost>,
}

/// An Actions executor on a fresh fake whose `acme/infra` backs `sandbox`.
async fn harness() -> Harness {
    let fake = Fake::start().await;
    fake.create_repo(REPO).await;
    let git: Arc<dyn GitHost> = Arc::new(host_on(&fake));
    git.ensure_repo(&sandbox()).await.unwrap();
    let exec = ActionsExecutor::new(
        client(&fake, Duration::from_secs(5)),
        [(sandbox(), REPO.to_owned())],
        Duration::from_millis(50),
    );
    Harness {
        exec: Arc::new(exec),
        world: Box::new(Actions { fake, git }),
    }
}

#[async_trait]
impl World for Actions {
    async fn merge_block(&self, request: &RequestId) -> String {
        commit_block(self.git.as_ref(), request, true).await
    }

    async fn remove_block(&self, request: &RequestId) -> String {
        commit_block(self.git.as_ref(), request, false).await
    }

    async fn advance(&self, _spec: &RunSpec) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    /// The workflow runs named after the run.
    async fn executions(&self, spec: &RunSpec) -> usize {
        let name = run_name(spec);
        self.fake
            .runs(REPO)
            .iter()
            .filter(|r| r.display_title == name)
            .count()
    }

    async fn change_out_of_band(&self, request: &RequestId) {
        edit_state(
            &self.fake.state_dir().join(REPO).join("dev.tfstate"),
            request,
        );
    }

    /// The drift workflow's runs named after the check.
    async fn drift_executions(&self, spec: &DriftSpec) -> usize {
        let name = spec.run_name();
        self.fake
            .runs(REPO)
            .iter()
            .filter(|r| r.workflow == "tfpilot-drift.yml" && r.display_title == name)
            .count()
    }
}

exec_contract!(harness);
