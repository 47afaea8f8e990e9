//! Remediation jobs: the alert intake (`intake.rs`), the job store with
//! its one compare-and-swap helper (`store.rs`), the worker pool that
//! claims jobs with a lease (`worker.rs`) and what a job does to its
//! request through the normal pipeline (`run.rs`, `ship.rs`).

mod intake;
mod run;
mod ship;
pub mod store;
mod worker;

pub use intake::{IntakeError, Receipt};
pub use store::{JobStore, JobStoreError};

use app::domain::remediation;

use crate::clock::Clock;
use crate::config::JobSettings;
use crate::ids::Ids;
use crate::notify::Notices;
use crate::service::flow::Flow;
use crate::service::policies::Policies;
use crate::store::journal::AuditLog;
use crate::store::repo::RequestRepo;
use app::domain::jobs::{Job, JobStatus};
use app::domain::policy::Policy;
use app::domain::registry::Registry;
use std::sync::Arc;

/// The job queue and its workers.
pub struct Jobs {
    store: JobStore,
    policies: Policies,
    settings: JobSettings,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
    wake: Arc<tokio::sync::Notify>,
    flow: Arc<Flow>,
    repo: RequestRepo,
    registry: Arc<Registry>,
    guardrails: Policy,
    notices: Notices,
    audit: AuditLog,
}

/// One page of the job log.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct JobPage {
    /// Newest first.
    pub items: Vec<Job>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// Which jobs the log shows.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only this status.
    pub status: Option<JobStatus>,
    /// Only this policy's.
    pub policy: Option<String>,
    /// Only jobs on this request.
    pub request: Option<String>,
    /// At most this many (1 to 1000).
    pub limit: usize,
    /// Older than this job id.
    pub cursor: Option<String>,
}

/// At most this many jobs are read to fill one page of a filtered log; a
/// page that found fewer still gives a cursor to go on from.
const SCAN: usize = 2000;

impl Jobs {
    /// Wires the queue over the ports' requests store, clock and ids, and
    /// the services a job drives.
    pub fn new(
        ports: &crate::ports::Ports,
        policies: Policies,
        settings: JobSettings,
        flow: Arc<Flow>,
        registry: Arc<Registry>,
        guardrails: Policy,
        notices: Notices,
    ) -> Self {
        Self {
            store: JobStore::new(ports.requests.clone()),
            policies,
            settings,
            clock: ports.clock.clone(),
            ids: ports.ids.clone(),
            wake: Arc::new(tokio::sync::Notify::new()),
            flow,
            repo: RequestRepo::new(ports.requests.clone()),
            registry,
            guardrails,
            notices,
            audit: ports.audit_log(),
        }
    }

    /// The settings it runs with.
    pub fn settings(&self) -> JobSettings {
        self.settings
    }

    /// How long a claim lasts without renewal (`TFPILOT_JOBS_LEASE_SECS`).
    fn lease_ms(&self) -> u64 {
        self.settings.lease_secs.saturating_mul(1000)
    }

    /// One job.
    pub async fn get(&self, id: &str) -> Result<Job, JobStoreError> {
        Ok(self.store.get(id).await?.job)
    }

    /// A page of the job log, newest first.
    pub async fn list(&self, filter: &JobFilter) -> Result<JobPage, JobStoreError> {
        let ids = self.store.ids_newest_first().await?;
        let start = match &filter.cursor {
            Some(c) => ids.partition_point(|id| id.as_str() >= c.as_str()),
            None => 0,
        };
        let limit = filter.limit.clamp(1, 1000);
        let mut page = JobPage::default();
        let mut last = None;
        for id in ids.iter().skip(start).take(SCAN) {
            last = Some(id.clone());
            let job = match self.store.get(id).await {
                Ok(s) => s.job,
                Err(JobStoreError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let keep = filter.status.is_none_or(|s| s == job.status)
                && filter
                    .policy
                    .as_deref()
                    .is_none_or(|p| job.policy.as_deref() == Some(p))
                && filter
                    .request
                    .as_deref()
                    .is_none_or(|r| job.request.as_deref() == Some(r));
            if keep {
                page.items.push(job);
                if page.items.len() == limit {
                    break;
                }
            }
        }
        let consumed = last.as_ref().map_or(start, |l| {
            ids.partition_point(|id| id.as_str() >= l.as_str())
        });
        if consumed < ids.len() {
            page.next_cursor = last;
        }
        Ok(page)
    }
}
