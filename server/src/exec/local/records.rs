//! The run records (`runs/<id>.json` in the object store), the run
//! directories, and starting again the runs a restart interrupted.

use super::LocalExecutor;
use super::terraform::append;
use crate::exec::{ExecError, RunInfo, RunSpec};
use crate::store::{Precondition, list_all};
use app::domain::request::RunStatus;
use std::path::PathBuf;
use std::sync::Arc;

pub(super) fn record_key(run_id: &str) -> String {
    format!("runs/{run_id}.json")
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> ExecError {
    ExecError::Unavailable(e.to_string())
}

impl LocalExecutor {
    /// Sweeps the checkouts of runs a crash killed, then starts again the
    /// runs a previous process left queued or running (same run id, fresh
    /// checkout): terraform converges, so a repeated plan or apply is
    /// safe, and the request is not left waiting.
    pub async fn recover(self: &Arc<Self>) -> Result<usize, ExecError> {
        let dir = self.dir.clone();
        let swept = tokio::task::spawn_blocking(move || crate::exec::checkouts::sweep(&dir))
            .await
            .unwrap_or_default();
        if swept > 0 {
            tracing::info!(swept, "removed the checkouts of runs a crash interrupted");
        }
        let mut n = 0;
        for entry in list_all(self.records.as_ref(), "runs/")
            .await
            .map_err(unavailable)?
        {
            let Ok(obj) = self.records.get(&entry.key).await else {
                continue;
            };
            let Ok(mut info) = serde_json::from_slice::<RunInfo>(&obj.bytes) else {
                continue;
            };
            if info.status == RunStatus::Completed {
                continue;
            }
            info.status = RunStatus::Queued;
            let bytes = serde_json::to_vec(&info).expect("serializes");
            if self
                .records
                .put(&entry.key, bytes.into(), Precondition::IfMatch(obj.etag))
                .await
                .is_ok()
            {
                append(
                    &self.run_dir(&info.run_id).join("log.txt"),
                    "\n# tfpilot restarted while this run was in progress; running it again\n",
                )
                .await;
                self.enqueue(&info.run_id);
                tokio::spawn(self.clone().execute(info));
                n += 1;
            }
        }
        Ok(n)
    }

    pub(super) fn run_dir(&self, run_id: &str) -> PathBuf {
        self.dir.join("runs").join(run_id)
    }

    /// The local state file of a project's environment.
    pub fn state_path(&self, spec: &RunSpec) -> PathBuf {
        self.state_file(&spec.project, &spec.environment)
    }

    /// The local state file of `project`'s `environment`.
    pub fn state_file(
        &self,
        project: &app::domain::ids::ProjectKey,
        environment: &app::domain::ids::EnvName,
    ) -> PathBuf {
        self.dir
            .join("state")
            .join(project.as_str())
            .join(format!("{environment}.tfstate"))
    }

    pub(super) async fn save(&self, info: &RunInfo) -> Result<(), ExecError> {
        let bytes = serde_json::to_vec(info).expect("serializes");
        self.records
            .put(&record_key(&info.run_id), bytes.into(), Precondition::None)
            .await
            .map(drop)
            .map_err(unavailable)
    }
}
