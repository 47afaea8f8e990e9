//! The worker pool: `TFPILOT_WORKERS` tasks per replica, woken when an
//! alert is stored and polling otherwise. A worker claims the oldest
//! claimable job by compare-and-swap with a lease, renews the lease while
//! the job runs, and records the end; a job whose worker died is claimed
//! again once its lease ran out by the `Clock`.

use super::Jobs;
use app::domain::jobs::{Claim, Job, JobStatus, claim, finish, renew};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often an idle worker looks for work it was not woken for (another
/// replica's alerts, expired leases).
const POLL: Duration = Duration::from_secs(1);
/// A marker whose job never came (a stop between the two writes) is
/// dropped once it is this old.
const ORPHAN_MS: u64 = 60_000;

/// How a job's run ended.
pub(super) enum Ended {
    /// With this status and sentence.
    Done(JobStatus, String),
    /// Its lease was lost (expired and taken): the new holder goes on.
    Lost,
    /// The store failed: the lease runs out and the job is claimed again.
    Interrupted(String),
}

impl Jobs {
    /// Runs `n` workers named after `replica` until `stop`: then no job is
    /// claimed, a running job is cut at its next step and its lease handed
    /// back (another replica claims it at once), and this returns when
    /// every worker has.
    pub async fn run_pool(self: Arc<Self>, n: usize, replica: String, stop: CancellationToken) {
        let mut workers = tokio::task::JoinSet::new();
        for i in 0..n {
            let jobs = self.clone();
            let holder = format!("{replica}/{i}");
            workers.spawn(jobs.work(holder, stop.clone()));
        }
        while workers.join_next().await.is_some() {}
    }

    async fn work(self: Arc<Self>, holder: String, stop: CancellationToken) {
        while !stop.is_cancelled() {
            let wake = self.wake.notified();
            // A claim under way completes (its write may have landed);
            // a job claimed as the stop came is handed back at once.
            let next = self.next(&holder).await;
            if stop.is_cancelled() {
                if let Some(job) = next {
                    self.hand_back(&job, &holder).await;
                }
                return;
            }
            match next {
                Some(job) => self.execute(job, &holder, &stop).await,
                None => {
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = wake => {}
                        _ = tokio::time::sleep(POLL) => {}
                    }
                }
            }
        }
    }

    /// Hands `job`'s lease back at a stop: it stays running, claimable at
    /// once by another worker.
    async fn hand_back(&self, job: &Job, holder: &str) {
        let now_ms = self.clock.unix_millis();
        match self
            .store
            .update(&job.id, |j| renew(j, holder, now_ms, 0))
            .await
        {
            Ok(Some(_)) => tracing::info!(
                event = crate::logs::event::JOB_FINISHED,
                job = %job.id,
                outcome = "handed back",
                "the server stops: the job's lease is handed back for another worker"
            ),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(job = %job.id, "cannot hand the job's lease back (it runs out): {e}")
            }
        }
    }

    /// Claims the oldest claimable job, if any.
    async fn next(&self, holder: &str) -> Option<Job> {
        let ids = match self.store.open_ids(200).await {
            Ok(ids) => {
                crate::meters::jobs_open(ids.len());
                ids
            }
            Err(e) => {
                tracing::warn!("cannot list the job queue: {e}");
                return None;
            }
        };
        for id in ids {
            let now_ms = self.clock.unix_millis();
            let now = self.clock.rfc3339_millis();
            let ttl = self.lease_ms();
            let claimed = self
                .store
                .update(&id, |job| match claim(job, holder, now_ms, ttl, &now) {
                    Claim::Taken(next) | Claim::GivenUp(next) => Some(next),
                    Claim::Busy => None,
                })
                .await;
            match claimed {
                Ok(Some(job)) if job.status == JobStatus::Running => return Some(job),
                Ok(Some(job)) => self.audit_end(&job).await,
                Ok(None) => self.drop_stale_marker(&id).await,
                Err(super::JobStoreError::NotFound(_)) => {
                    let born = app::domain::ids::RequestId::parse(&id)
                        .map(|r| r.unix_millis())
                        .unwrap_or(0);
                    if now_ms.saturating_sub(born) > ORPHAN_MS {
                        self.store.close(&id).await;
                    }
                }
                Err(e) => tracing::warn!(job = %id, "cannot claim the job: {e}"),
            }
        }
        None
    }

    /// A marker of a job that is no longer open is dropped.
    async fn drop_stale_marker(&self, id: &str) {
        if let Ok(stored) = self.store.get(id).await
            && !stored.job.status.is_open()
        {
            self.store.close(id).await;
        }
    }

    /// Runs a claimed job with its lease renewed, and records how it ended
    /// (or hands it back at `stop`).
    async fn execute(&self, job: Job, holder: &str, stop: &CancellationToken) {
        tracing::info!(
            event = crate::logs::event::JOB_CLAIMED,
            job = %job.id,
            attempt = job.attempts,
            "job claimed"
        );
        let lost = Arc::new(AtomicBool::new(false));
        let renewal = {
            let ttl = self.lease_ms();
            let (store, clock, id, holder, lost) = (
                self.store.clone(),
                self.clock.clone(),
                job.id.clone(),
                holder.to_owned(),
                lost.clone(),
            );
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(ttl / 3)).await;
                    let now_ms = clock.unix_millis();
                    match store.update(&id, |j| renew(j, &holder, now_ms, ttl)).await {
                        Ok(Some(_)) => {}
                        Ok(None) => {
                            lost.store(true, Ordering::SeqCst);
                            return;
                        }
                        Err(e) => tracing::warn!(job = %id, "cannot renew the job's lease: {e}"),
                    }
                }
            })
        };
        let ended = tokio::select! {
            ended = self.drive(&job, holder, &lost) => ended,
            _ = stop.cancelled() => {
                renewal.abort();
                self.hand_back(&job, holder).await;
                return;
            }
        };
        renewal.abort();
        match ended {
            Ended::Done(status, result) => {
                let now_ms = self.clock.unix_millis();
                let now = self.clock.rfc3339_millis();
                let done = self
                    .store
                    .update(&job.id, |j| {
                        j.held_by(holder, now_ms)
                            .then(|| finish(j, status, result.clone(), &now))
                    })
                    .await;
                match done {
                    Ok(Some(job)) => {
                        tracing::info!(
                            event = crate::logs::event::JOB_FINISHED,
                            job = %job.id,
                            outcome = ?job.status,
                            "job finished"
                        );
                        self.audit_end(&job).await
                    }
                    Ok(None) => {
                        tracing::warn!(job = %job.id, "the job's lease was lost before it ended; its new holder finishes it")
                    }
                    Err(e) => {
                        tracing::warn!(job = %job.id, "cannot record the job's end (it runs again): {e}")
                    }
                }
            }
            Ended::Lost => {
                tracing::warn!(job = %job.id, "the job's lease was lost; its new holder goes on")
            }
            Ended::Interrupted(e) => {
                tracing::warn!(job = %job.id, "the job stopped (it runs again once its lease runs out): {e}")
            }
        }
    }

    /// `f` recorded on the job, if `holder` still holds it; `Lost` if not.
    pub(super) async fn record(
        &self,
        id: &str,
        holder: &str,
        mut f: impl FnMut(&mut Job),
    ) -> Result<Job, Ended> {
        let now_ms = self.clock.unix_millis();
        let now = self.clock.rfc3339_millis();
        match self
            .store
            .update(id, |j| {
                j.held_by(holder, now_ms).then(|| {
                    let mut next = j.clone();
                    f(&mut next);
                    next.updated_at = now.clone();
                    next
                })
            })
            .await
        {
            Ok(Some(job)) => Ok(job),
            Ok(None) => Err(Ended::Lost),
            Err(e) => Err(Ended::Interrupted(e.to_string())),
        }
    }
}
