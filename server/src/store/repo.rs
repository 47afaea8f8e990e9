//! `RequestRepo`: request documents over the object store, every write a
//! compare-and-swap.
//!
//! `update` reads (doc, etag), applies a pure function, and writes with
//! `If-Match`; on a conflict it reloads and retries with jittered
//! exponential backoff, a bounded number of times. `version` grows by
//! exactly one per successful write. A write whose response was lost (and
//! whose retry then conflicts with itself) is recognised by its bytes, so
//! nothing is applied twice. Inside one process, writers of the same request
//! queue on a lock first, so conflicts only arise between processes.

use super::{ObjectStore, Precondition, StoreError};
use app::domain::ids::RequestId;
use app::domain::request::Request;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

/// What a repository operation can end in.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// No such request.
    #[error("request {0} does not exist")]
    NotFound(String),
    /// A request with this id already exists.
    #[error("request {0} already exists")]
    Exists(String),
    /// Too many concurrent writers: gave up after the bounded retries.
    #[error("request {id} is being changed by others; gave up after {attempts} attempts")]
    Contention {
        /// The request.
        id: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The stored document is not a request.
    #[error("{key} is not a valid request document: {message}")]
    Corrupt {
        /// The object key.
        key: String,
        /// The parser's message.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A document and the etag it was read at.
#[derive(Debug, Clone)]
pub struct Versioned {
    /// The request.
    pub doc: Request,
    /// Its etag in the store.
    pub etag: String,
}

/// Retry bounds of the CAS loop.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts before `Contention`.
    pub max_attempts: u32,
    /// First backoff (doubled per attempt, full jitter).
    pub base: Duration,
    /// Backoff ceiling.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 100,
            base: Duration::from_millis(5),
            cap: Duration::from_millis(500),
        }
    }
}

/// The key of a live request.
pub fn live_key(id: &str) -> String {
    format!("requests/{id}.json")
}

/// The key of an archived request.
pub fn history_key(id: &str) -> String {
    format!("history/{id}.json")
}

/// Request documents in a bucket.
#[derive(Clone)]
pub struct RequestRepo {
    store: Arc<dyn ObjectStore>,
    retry: RetryPolicy,
    /// Writers of one request inside this process queue here instead of
    /// racing; compare-and-swap still arbitrates between processes.
    stripes: Arc<[tokio::sync::Mutex<()>; STRIPES]>,
}

const STRIPES: usize = 64;

fn encode(doc: &Request) -> Bytes {
    serde_json::to_vec(doc)
        .expect("a request always serializes")
        .into()
}

/// Parses a stored request document.
pub fn decode(key: &str, bytes: &[u8]) -> Result<Request, RepoError> {
    serde_json::from_slice(bytes).map_err(|e| RepoError::Corrupt {
        key: key.to_owned(),
        message: e.to_string(),
    })
}

impl RequestRepo {
    /// Over `store`.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            retry: RetryPolicy::default(),
            stripes: Arc::new(std::array::from_fn(|_| tokio::sync::Mutex::new(()))),
        }
    }

    /// With other retry bounds.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The store underneath.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Whether `id` was archived (a destroyed request's id is never used again).
    async fn archived(&self, id: &str) -> Result<bool, RepoError> {
        match self.store.get(&history_key(id)).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Stores a new request (`version` must be 1); refuses an id in use,
    /// live or archived.
    pub async fn create(&self, doc: &Request) -> Result<Versioned, RepoError> {
        if self.archived(doc.id.as_str()).await? {
            return Err(RepoError::Exists(doc.id.to_string()));
        }
        self.create_checked(doc, true).await
    }

    /// Stores a new request under an id this server minted a moment ago
    /// (from its clock and 32 random bits): refuses a live one, but skips
    /// the two reads of `history/` that [`RequestRepo::create`] makes, as
    /// an id minted now is not one archived before.
    pub async fn create_fresh(&self, doc: &Request) -> Result<Versioned, RepoError> {
        self.create_checked(doc, false).await
    }

    async fn create_checked(&self, doc: &Request, archive: bool) -> Result<Versioned, RepoError> {
        let key = live_key(doc.id.as_str());
        let bytes = encode(doc);
        match self
            .store
            .put(&key, bytes.clone(), Precondition::IfAbsent)
            .await
        {
            Ok(etag) => {
                // Archived between the check and the write: not ours to reuse.
                if archive && self.archived(doc.id.as_str()).await? {
                    self.store.delete(&key).await?;
                    return Err(RepoError::Exists(doc.id.to_string()));
                }
                Ok(Versioned {
                    doc: doc.clone(),
                    etag,
                })
            }
            Err(StoreError::Conflict(_)) => {
                // Our own earlier attempt may have landed before its response was lost.
                let current = self.store.get(&key).await?;
                if current.bytes == bytes {
                    Ok(Versioned {
                        doc: doc.clone(),
                        etag: current.etag,
                    })
                } else {
                    Err(RepoError::Exists(doc.id.to_string()))
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Reads a live request.
    pub async fn get(&self, id: &RequestId) -> Result<Versioned, RepoError> {
        self.get_key(&live_key(id.as_str()), id.as_str()).await
    }

    /// Reads an archived request.
    pub async fn get_archived(&self, id: &RequestId) -> Result<Versioned, RepoError> {
        self.get_key(&history_key(id.as_str()), id.as_str()).await
    }

    async fn get_key(&self, key: &str, id: &str) -> Result<Versioned, RepoError> {
        let obj = self.store.get(key).await.map_err(|e| match e {
            StoreError::NotFound(_) => RepoError::NotFound(id.to_owned()),
            e => e.into(),
        })?;
        Ok(Versioned {
            doc: decode(key, &obj.bytes)?,
            etag: obj.etag,
        })
    }

    /// Applies `f` (a pure function of the current document) with
    /// compare-and-swap; `version` is set to the read version + 1 and
    /// `updated_at` to `now()`. `f` may refuse with its own error.
    pub async fn update<E>(
        &self,
        id: &RequestId,
        now: impl Fn() -> String,
        mut f: impl FnMut(&Request) -> Result<Request, E>,
    ) -> Result<Result<Versioned, E>, RepoError> {
        let key = live_key(id.as_str());
        let stripe = id
            .as_str()
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
        let _queued = self.stripes[stripe % STRIPES].lock().await;
        let mut written: Option<Bytes> = None;
        for attempt in 0..self.retry.max_attempts {
            let obj = self.store.get(&key).await.map_err(|e| match e {
                StoreError::NotFound(_) => RepoError::NotFound(id.to_string()),
                e => e.into(),
            })?;
            let current = decode(&key, &obj.bytes)?;
            if written.as_ref() == Some(&obj.bytes) {
                // The previous attempt landed; its response was lost.
                return Ok(Ok(Versioned {
                    doc: current,
                    etag: obj.etag,
                }));
            }
            let mut next = match f(&current) {
                Ok(next) => next,
                Err(refusal) => return Ok(Err(refusal)),
            };
            next.version = current.version + 1;
            next.updated_at = now();
            let bytes = encode(&next);
            written = Some(bytes.clone());
            match self
                .store
                .put(&key, bytes, Precondition::IfMatch(obj.etag))
                .await
            {
                Ok(etag) => return Ok(Ok(Versioned { doc: next, etag })),
                Err(StoreError::Conflict(_)) => {
                    let again = attempt + 1 < self.retry.max_attempts;
                    crate::meters::cas_conflict("request", again);
                    tokio::time::sleep(self.backoff(attempt)).await
                }
                Err(StoreError::NotFound(_)) => return Err(RepoError::NotFound(id.to_string())),
                Err(e) => return Err(e.into()),
            }
        }
        Err(RepoError::Contention {
            id: id.to_string(),
            attempts: self.retry.max_attempts,
        })
    }

    /// Moves a request to `history/` (copy, then delete). Idempotent: an
    /// already archived request succeeds.
    pub async fn archive(&self, id: &RequestId) -> Result<(), RepoError> {
        let (live, history) = (live_key(id.as_str()), history_key(id.as_str()));
        match self.store.copy(&live, &history).await {
            Ok(_) => {}
            Err(StoreError::NotFound(_)) => {
                return match self.store.get(&history).await {
                    Ok(_) => Ok(()),
                    Err(StoreError::NotFound(_)) => Err(RepoError::NotFound(id.to_string())),
                    Err(e) => Err(e.into()),
                };
            }
            Err(e) => return Err(e.into()),
        }
        self.store.delete(&live).await?;
        Ok(())
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.retry.base.saturating_mul(1 << attempt.min(16));
        let ceiling = exp.min(self.retry.cap);
        ceiling.mul_f64(fastrand::f64())
    }
}
