//! Alerts in: each alert is recorded once per `(fingerprint, status,
//! startsAt)` by a create-only record `alerts/<sha256>.json` naming its
//! job, shared by every replica and restart; a new alert gets its policy
//! chosen and its job stored (queued, or "no policy matched"). The queue
//! is bounded by counting the open markers in the store.

use super::store::JobStoreError;
use super::{Jobs, remediation};
use crate::store::{Precondition, StoreError};
use app::domain::ids::RequestId;
use app::domain::jobs::{Job, JobAction, JobAlert, JobStatus};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What was stored of one delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// Alerts in the delivery.
    pub received: usize,
    /// Alerts seen for the first time: each has a job now.
    pub new: usize,
    /// Alerts already recorded (a resend): nothing new was stored.
    pub duplicates: usize,
    /// New alerts no policy matched (their jobs read "no policy matched").
    pub unmatched: usize,
    /// The jobs of the new alerts, in the delivery's order.
    pub jobs: Vec<String>,
}

/// Why a delivery was not (all) stored.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The queue is full: `stored` says what was stored before it filled.
    #[error(
        "the remediation queue is full ({open} of {max} jobs waiting); Alertmanager will send it again"
    )]
    Full {
        /// Jobs open now.
        open: usize,
        /// `TFPILOT_JOBS_MAX_QUEUED`.
        max: usize,
        /// What was stored.
        stored: Receipt,
    },
    /// The store failed.
    #[error("cannot store the alert: {0}")]
    Store(String),
}

impl From<StoreError> for IntakeError {
    fn from(e: StoreError) -> Self {
        Self::Store(e.to_string())
    }
}

impl From<JobStoreError> for IntakeError {
    fn from(e: JobStoreError) -> Self {
        Self::Store(e.to_string())
    }
}

/// The create-only record of one alert.
#[derive(Serialize, Deserialize)]
struct Seen {
    job: String,
}

fn alert_key(a: &JobAlert) -> String {
    let digest = Sha256::digest(format!("{}\n{}\n{}", a.fingerprint, a.status, a.starts_at));
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("alerts/{hex}.json")
}

fn as_alert(a: &JobAlert) -> remediation::Alert {
    remediation::Alert {
        status: if a.status == "resolved" {
            remediation::AlertStatus::Resolved
        } else {
            remediation::AlertStatus::Firing
        },
        labels: a.labels.clone(),
        annotations: a.annotations.clone(),
        fingerprint: a.fingerprint.clone(),
        starts_at: a.starts_at.clone(),
    }
}

/// What became of one alert.
enum Taken {
    /// Stored with its job (`open`: queued; `skipped`: no policy matched).
    New {
        id: String,
        open: bool,
        skipped: bool,
    },
    /// Recorded before: nothing stored.
    Duplicate,
    /// It would have queued a job, and the queue is full.
    Refused,
}

/// How many alerts of a delivery are stored at once.
const AT_ONCE: usize = 16;

impl Jobs {
    /// Stores the new alerts of one delivery and their jobs, up to
    /// [`AT_ONCE`] at a time and never more queued jobs than there is room
    /// for; a full queue stops it (what was stored stays, a resend skips
    /// it).
    pub async fn receive(&self, alerts: Vec<JobAlert>) -> Result<Receipt, IntakeError> {
        let max = self.settings.max_queued;
        let mut open = self.store.count_open(max).await?;
        let policies = match self.policies.all().await {
            Ok(p) => p,
            Err(e) => return Err(IntakeError::Store(e.to_string())),
        };
        let mut receipt = Receipt {
            received: alerts.len(),
            ..Receipt::default()
        };
        let mut pending = alerts.into_iter().peekable();
        while pending.peek().is_some() {
            let room = max.saturating_sub(open);
            let chunk: Vec<JobAlert> = pending.by_ref().take(room.clamp(1, AT_ONCE)).collect();
            let taken =
                futures::future::join_all(chunk.iter().map(|a| self.take(a, &policies, room == 0)))
                    .await;
            let mut refused = false;
            for t in taken {
                match t? {
                    Taken::New {
                        id,
                        open: o,
                        skipped,
                    } => {
                        if o {
                            open += 1;
                            self.wake.notify_waiters();
                        }
                        if skipped {
                            receipt.unmatched += 1;
                        }
                        receipt.new += 1;
                        receipt.jobs.push(id);
                    }
                    Taken::Duplicate => receipt.duplicates += 1,
                    Taken::Refused => refused = true,
                }
            }
            if refused {
                return Err(IntakeError::Full {
                    open,
                    max,
                    stored: receipt,
                });
            }
        }
        Ok(receipt)
    }

    /// Records one alert and stores its job, unless it was recorded
    /// before; `full` refuses a job that would be queued.
    async fn take(
        &self,
        alert: &JobAlert,
        policies: &[remediation::Remediation],
        full: bool,
    ) -> Result<Taken, IntakeError> {
        let key = alert_key(alert);
        let mut job = self.new_job(alert, policies);
        if full && job.status.is_open() {
            // A resend of what is stored is still a duplicate.
            return match self.store.store().get(&key).await {
                Ok(_) => Ok(Taken::Duplicate),
                Err(StoreError::NotFound(_)) => Ok(Taken::Refused),
                Err(e) => Err(e.into()),
            };
        }
        let seen = serde_json::to_vec(&Seen {
            job: job.id.clone(),
        })
        .unwrap_or_default();
        match self
            .store
            .store()
            .put(&key, seen.into(), Precondition::IfAbsent)
            .await
        {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => {
                let obj = self.store.store().get(&key).await?;
                match serde_json::from_slice::<Seen>(&obj.bytes) {
                    Ok(seen)
                        if matches!(
                            self.store.get(&seen.job).await,
                            Err(JobStoreError::NotFound(_))
                        ) =>
                    {
                        // A stop between the record and its job: the job
                        // is made now, under the recorded id.
                        job.id = seen.job;
                    }
                    _ => return Ok(Taken::Duplicate),
                }
            }
            Err(e) => return Err(e.into()),
        }
        match self.store.create(&job).await {
            Ok(()) => {}
            Err(JobStoreError::Exists(_)) => return Ok(Taken::Duplicate),
            Err(e) => return Err(e.into()),
        }
        Ok(Taken::New {
            open: job.status.is_open(),
            skipped: job.status == JobStatus::Skipped,
            id: job.id,
        })
    }

    /// The job of a new alert: its policy chosen now, its action
    /// interpolated now (a value missing from the alert fails the job at
    /// once, naming the field).
    fn new_job(&self, alert: &JobAlert, policies: &[remediation::Remediation]) -> Job {
        let now = self.clock.rfc3339_millis();
        let entropy = u32::from_le_bytes(self.ids.bytes::<4>());
        let mut job = Job {
            id: RequestId::generate(self.clock.unix_millis(), entropy).to_string(),
            status: JobStatus::Skipped,
            alert: alert.clone(),
            policy: None,
            action: None,
            request: None,
            attempts: 0,
            lease: None,
            steps: Default::default(),
            result: Some("no policy matched".into()),
            created_at: now.clone(),
            updated_at: now.clone(),
            finished_at: None,
        };
        let remediation_alert = as_alert(alert);
        let Some(policy) = remediation::choose(policies, &remediation_alert) else {
            return job;
        };
        job.policy = Some(policy.name.clone());
        match remediation::plan(policy, &remediation_alert) {
            Ok(planned) => {
                job.request = planned.request.clone();
                job.action = Some(JobAction {
                    kind: planned.kind.as_str().to_owned(),
                    request: planned.request,
                    inputs: planned.inputs,
                    message: planned.message,
                    auto_approve_environments: policy
                        .auto_approve_environments
                        .iter()
                        .cloned()
                        .collect(),
                });
                job.status = JobStatus::Queued;
                job.result = None;
            }
            Err(e) => {
                job.status = JobStatus::Failed;
                job.finished_at = Some(now);
                job.result = Some(format!("policy {}: {} {}", policy.name, e.field, e.message));
            }
        }
        job
    }
}
