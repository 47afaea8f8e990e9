//! The contract on the local executor: real `terraform` on a local repo
//! seeded from `infra-workflows/template` with the sandbox overlay.

use super::{Harness, Keep, World, commit_block, edit_state, sandbox};
use crate::support::root;
use app::domain::ids::RequestId;
use async_trait::async_trait;
use server::exec::local::{LocalExecutor, SharedLocalExecutor};
use server::exec::{DriftSpec, Executor, RunSpec};
use server::git::GitHost;
use server::git::local::LocalGit;
use server::store::fs::FsStore;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

struct Local {
    git: Arc<dyn GitHost>,
    exec: Arc<dyn Executor>,
    /// The executor's directory.
    dir: PathBuf,
    _keep: Keep,
}

/// A local executor on a freshly seeded repo, everything in one temp dir.
async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FsStore::open(dir.path().join("store")).unwrap());
    let git = Arc::new(LocalGit::new(
        dir.path().join("git"),
        root().join("infra-workflows/template"),
        Some(root().join("infra-workflows/sandbox")),
        store.clone(),
    ));
    git.ensure_repo(&sandbox()).await.unwrap();
    let local = LocalExecutor::new(
        git.clone(),
        store,
        dir.path().join("exec"),
        Duration::from_secs(120),
        None,
    );
    let exec: Arc<dyn Executor> = Arc::new(SharedLocalExecutor(Arc::new(local)));
    Harness {
        exec: exec.clone(),
        world: Box::new(Local {
            git,
            exec,
            dir: dir.path().join("exec"),
            _keep: Box::new(dir),
        }),
    }
}

#[async_trait]
impl World for Local {
    async fn merge_block(&self, request: &RequestId) -> String {
        commit_block(self.git.as_ref(), request, true).await
    }

    async fn remove_block(&self, request: &RequestId) -> String {
        commit_block(self.git.as_ref(), request, false).await
    }

    async fn advance(&self, _spec: &RunSpec) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    /// Every execution of a run appends its `terraform init` to the run's log.
    async fn executions(&self, spec: &RunSpec) -> usize {
        let log = self.exec.log(spec).await.unwrap_or_default();
        log.matches("$ terraform init").count()
    }

    async fn change_out_of_band(&self, request: &RequestId) {
        edit_state(&self.dir.join("state/sandbox/dev.tfstate"), request);
    }

    /// Every drift check writes its first line to the check's log.
    async fn drift_executions(&self, spec: &DriftSpec) -> usize {
        let log = self.dir.join("drift").join(&spec.run_id).join("log.txt");
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .matches("# drift check on the tip of main")
            .count()
    }
}

exec_contract!(harness);
