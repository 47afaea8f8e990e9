//! Jobs in the object store: `jobs/<id>.json`, created once and changed
//! only through [`JobStore::update`] (compare-and-swap, retried on a
//! conflict). A job a worker still has to run also has an empty marker
//! `jobs-open/<id>`, written before the job and deleted after it ends, so
//! the queue is counted and scanned by listing the markers alone — across
//! every replica sharing the store, and without reading every job ever.

use crate::store::{ObjectStore, Precondition, StoreError};
use app::domain::jobs::Job;
use bytes::Bytes;
use std::sync::Arc;

const JOBS: &str = "jobs/";
const OPEN: &str = "jobs-open/";

/// What a job store operation can end in.
#[derive(Debug, thiserror::Error)]
pub enum JobStoreError {
    /// No such job.
    #[error("job {0} does not exist")]
    NotFound(String),
    /// A job with this id exists.
    #[error("job {0} already exists")]
    Exists(String),
    /// Others kept changing it.
    #[error("job {0} is being changed by others; gave up")]
    Contention(String),
    /// The stored document is not a job.
    #[error("job {key} is unreadable: {message}")]
    Corrupt {
        /// The key.
        key: String,
        /// The parser's message.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A job and the etag it was read at.
#[derive(Debug, Clone)]
pub struct StoredJob {
    /// The job.
    pub job: Job,
    /// Its etag.
    pub etag: String,
}

/// Jobs over the requests bucket.
#[derive(Clone)]
pub struct JobStore {
    store: Arc<dyn ObjectStore>,
}

fn key(id: &str) -> String {
    format!("{JOBS}{id}.json")
}

fn bytes(job: &Job) -> Bytes {
    serde_json::to_vec_pretty(job).unwrap_or_default().into()
}

impl JobStore {
    /// Over `store`.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    /// The store underneath.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Stores a new job; an open one gets its marker first (a marker whose
    /// job never came is dropped by the workers).
    pub async fn create(&self, job: &Job) -> Result<(), JobStoreError> {
        if job.status.is_open() {
            self.store
                .put(
                    &format!("{OPEN}{}", job.id),
                    Bytes::new(),
                    Precondition::None,
                )
                .await?;
        }
        match self
            .store
            .put(&key(&job.id), bytes(job), Precondition::IfAbsent)
            .await
        {
            Ok(_) => Ok(()),
            Err(StoreError::Conflict(_)) => Err(JobStoreError::Exists(job.id.clone())),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads a job.
    pub async fn get(&self, id: &str) -> Result<StoredJob, JobStoreError> {
        let k = key(id);
        let obj = match self.store.get(&k).await {
            Ok(obj) => obj,
            Err(StoreError::NotFound(_)) => return Err(JobStoreError::NotFound(id.to_owned())),
            Err(e) => return Err(e.into()),
        };
        let job = serde_json::from_slice(&obj.bytes).map_err(|e| JobStoreError::Corrupt {
            key: k,
            message: e.to_string(),
        })?;
        Ok(StoredJob {
            job,
            etag: obj.etag,
        })
    }

    /// The one way a job changes: `f` decides the next job from the
    /// current one (`None`: leave it), written with `If-Match`; on a
    /// conflict it reads again and asks `f` again. A job that is no longer
    /// open loses its marker.
    pub async fn update(
        &self,
        id: &str,
        mut f: impl FnMut(&Job) -> Option<Job>,
    ) -> Result<Option<Job>, JobStoreError> {
        for attempt in 0..16u32 {
            let current = self.get(id).await?;
            let Some(next) = f(&current.job) else {
                return Ok(None);
            };
            match self
                .store
                .put(&key(id), bytes(&next), Precondition::IfMatch(current.etag))
                .await
            {
                Ok(_) => {
                    if !next.status.is_open() {
                        self.close(id).await;
                    }
                    return Ok(Some(next));
                }
                Err(StoreError::Conflict(_)) => {
                    let wait = 5u64 << attempt.min(6);
                    tokio::time::sleep(std::time::Duration::from_millis(
                        wait + fastrand::u64(..=wait),
                    ))
                    .await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(JobStoreError::Contention(id.to_owned()))
    }

    /// Drops `id`'s open marker (best effort: a stale marker is dropped
    /// by the next worker that reads its job).
    pub async fn close(&self, id: &str) {
        if let Err(e) = self.store.delete(&format!("{OPEN}{id}")).await {
            tracing::warn!(job = id, "cannot drop the open marker: {e}");
        }
    }

    /// Ids of open jobs, oldest first, at most `limit`.
    pub async fn open_ids(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        let page = self.store.list(OPEN, None, limit).await?;
        Ok(page
            .entries
            .into_iter()
            .filter_map(|e| e.key.strip_prefix(OPEN).map(str::to_owned))
            .collect())
    }

    /// How many jobs are open, counted up to `cap` (enough to tell
    /// whether the queue is full without listing all of it).
    pub async fn count_open(&self, cap: usize) -> Result<usize, StoreError> {
        let mut n = 0;
        let mut token = None;
        loop {
            let page = self.store.list(OPEN, token, 1000).await?;
            n += page.entries.len();
            match page.next {
                Some(next) if n < cap => token = Some(next),
                _ => return Ok(n),
            }
        }
    }

    /// Every job id, newest first (ids sort by time).
    pub async fn ids_newest_first(&self) -> Result<Vec<String>, StoreError> {
        let mut ids: Vec<String> = crate::store::list_all(self.store.as_ref(), JOBS)
            .await?
            .into_iter()
            .filter_map(|e| {
                e.key
                    .strip_prefix(JOBS)
                    .and_then(|k| k.strip_suffix(".json"))
                    .map(str::to_owned)
            })
            .collect();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        Ok(ids)
    }
}
