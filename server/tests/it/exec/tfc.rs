//! The contract on the HCP Terraform executor, against the stateful fake
//! of the API, whose runs execute real terraform on the uploaded archives;
//! commits come from a local repo seeded like the embedded mode's.

use super::{Harness, Keep, World, commit_block, edit_state, sandbox};
use crate::support::root;
use crate::support::tfc::{Fake, TOKEN};
use app::domain::ids::{EnvName, RequestId};
use async_trait::async_trait;
use server::config::SecretString;
use server::exec::tfc::{TfcExecutor, TfcSettings, Workspace};
use server::exec::{DriftSpec, RunInfo, RunSpec, run_name};
use server::git::GitHost;
use server::git::local::LocalGit;
use server::store::fs::FsStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// The organization and the workspace of `sandbox`/`dev`.
pub const ORG: &str = "acme";
pub const WORKSPACE: &str = "sandbox-dev";

/// The fake, the repo, and what they need to live.
pub struct TfcWorld {
    pub fake: Fake,
    pub git: Arc<LocalGit>,
    _keep: Keep,
}

impl TfcWorld {
    /// A fresh fake with the `acme/sandbox-dev` workspace (working
    /// directory `envs/dev`) and a freshly seeded repo.
    pub async fn start() -> TfcWorld {
        let fake = Fake::start().await;
        fake.add_workspace(ORG, WORKSPACE, "envs/dev");
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(FsStore::open(dir.path().join("store")).unwrap());
        let git = Arc::new(LocalGit::new(
            dir.path().join("git"),
            root().join("infra-workflows/template"),
            Some(root().join("infra-workflows/sandbox")),
            store,
        ));
        git.ensure_repo(&sandbox()).await.unwrap();
        TfcWorld {
            fake,
            git,
            _keep: Box::new(dir),
        }
    }

    /// An executor on this world with `token` for `workspace` of `acme`,
    /// polling every few ms.
    pub fn executor(
        &self,
        token: &str,
        workspace: &str,
        completed: Option<UnboundedSender<RunInfo>>,
    ) -> TfcExecutor {
        let settings = TfcSettings {
            url: self.fake.url(),
            token: SecretString::new(token.to_owned()),
        };
        let workspace = Workspace {
            organization: ORG.into(),
            name: workspace.into(),
        };
        TfcExecutor::new(
            &settings,
            self.git.clone(),
            [((sandbox(), EnvName::parse("dev").unwrap()), workspace)],
            completed,
        )
        .unwrap()
        .with_poll(Duration::from_millis(20), Duration::from_millis(200))
    }

    /// The fake's runs of `spec`.
    pub fn runs_of(&self, spec: &RunSpec) -> Vec<crate::support::tfc::Run> {
        let name = run_name(spec);
        self.fake
            .runs()
            .into_iter()
            .filter(|r| r.message == name || r.message.starts_with(&format!("{name} on ")))
            .collect()
    }
}

/// A TFC executor on a fresh fake and repo.
async fn harness() -> Harness {
    harness_with(TOKEN, WORKSPACE, None).await.0
}

/// A harness whose executor uses `token` and `workspace`, with the fake
/// and the executor kept aside for the test.
pub async fn harness_with(
    token: &str,
    workspace: &str,
    completed: Option<UnboundedSender<RunInfo>>,
) -> (Harness, Fake, Arc<TfcExecutor>) {
    let world = TfcWorld::start().await;
    let fake = world.fake.clone();
    let exec = Arc::new(world.executor(token, workspace, completed));
    let harness = Harness {
        exec: exec.clone(),
        world: Box::new(world),
    };
    (harness, fake, exec)
}

#[async_trait]
impl World for TfcWorld {
    async fn merge_block(&self, request: &RequestId) -> String {
        commit_block(self.git.as_ref(), request, true).await
    }

    async fn remove_block(&self, request: &RequestId) -> String {
        commit_block(self.git.as_ref(), request, false).await
    }

    async fn advance(&self, _spec: &RunSpec) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    /// The TFC runs whose message is the run's name.
    async fn executions(&self, spec: &RunSpec) -> usize {
        self.runs_of(spec).len()
    }

    async fn change_out_of_band(&self, request: &RequestId) {
        let ws = self.fake.state.lock().unwrap().workspaces[0].id.clone();
        edit_state(&self.fake.state_file(&ws), request);
    }

    /// The plan-only runs whose message names the check.
    async fn drift_executions(&self, spec: &DriftSpec) -> usize {
        let name = format!("{} on ", spec.run_name());
        self.fake
            .runs()
            .iter()
            .filter(|r| r.plan_only && r.message.starts_with(&name))
            .count()
    }
}

exec_contract!(harness);
