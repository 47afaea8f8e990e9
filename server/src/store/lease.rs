//! Leases in the object store: at most one holder at a time across every
//! process sharing the store, taken by compare-and-swap and given up when
//! the holder stops renewing (a crashed process blocks nobody for longer
//! than the lease's time to live).

use super::{ObjectStore, Precondition, StoreError};
use crate::clock::Clock;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

#[derive(Serialize, Deserialize)]
struct Record {
    holder: String,
    /// Unix milliseconds after which anyone may take the lease.
    expires_at: u64,
}

fn record(holder: &str, ttl: Duration, clock: &dyn Clock) -> bytes::Bytes {
    let r = Record {
        holder: holder.to_owned(),
        expires_at: clock.unix_millis() + ttl.as_millis() as u64,
    };
    serde_json::to_vec(&r).expect("serializes").into()
}

/// What releasing a lease needs: the store, the key, its current etag and
/// the clock.
type Release = (
    Arc<dyn ObjectStore>,
    String,
    Arc<std::sync::Mutex<String>>,
    Arc<dyn Clock>,
);

/// A held lease; renewed in the background until dropped, then released.
pub struct Lease {
    renew: tokio::task::JoinHandle<()>,
    release: Option<Release>,
    took_over: Option<String>,
}

/// The holder name a released lease is left with.
const RELEASED: &str = "released";

impl Lease {
    /// Waits until `key` is free (absent, released or expired by `clock`)
    /// and takes it for `holder`, renewing it every third of `ttl`.
    pub async fn acquire(
        store: Arc<dyn ObjectStore>,
        key: String,
        holder: String,
        ttl: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<Lease, StoreError> {
        loop {
            let wait = Duration::from_secs(3600);
            let (s, k, h, c) = (store.clone(), key.clone(), holder.clone(), clock.clone());
            if let Some(lease) = Self::acquire_within(s, k, h, ttl, c, wait).await? {
                return Ok(lease);
            }
        }
    }

    /// [`Lease::acquire`], waiting at most `wait` (`Duration::ZERO`: one
    /// try); `None` when another holder kept it all along.
    pub async fn acquire_within(
        store: Arc<dyn ObjectStore>,
        key: String,
        holder: String,
        ttl: Duration,
        clock: Arc<dyn Clock>,
        wait: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut took_over = None;
        let etag = loop {
            match store
                .put(
                    &key,
                    record(&holder, ttl, clock.as_ref()),
                    Precondition::IfAbsent,
                )
                .await
            {
                Ok(etag) => break etag,
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
            match store.get(&key).await {
                Ok(obj) => {
                    let old = serde_json::from_slice::<Record>(&obj.bytes).ok();
                    let free = old
                        .as_ref()
                        .is_none_or(|r| r.expires_at <= clock.unix_millis());
                    if free {
                        // Expired without a release: its holder died.
                        let dead = old
                            .map(|r| r.holder)
                            .filter(|h| h != RELEASED && *h != holder);
                        match store
                            .put(
                                &key,
                                record(&holder, ttl, clock.as_ref()),
                                Precondition::IfMatch(obj.etag),
                            )
                            .await
                        {
                            Ok(etag) => {
                                took_over = dead;
                                break etag;
                            }
                            Err(StoreError::Conflict(_)) => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                Err(StoreError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            }
            let pause = Duration::from_millis(200 + fastrand::u64(..200));
            if tokio::time::Instant::now() + pause > deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause).await;
        };
        let current = Arc::new(std::sync::Mutex::new(etag));
        let renew = {
            let (store, key, holder, current, clock) = (
                store.clone(),
                key.clone(),
                holder.clone(),
                current.clone(),
                clock.clone(),
            );
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(ttl / 3).await;
                    let etag = current.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    match store
                        .put(
                            &key,
                            record(&holder, ttl, clock.as_ref()),
                            Precondition::IfMatch(etag),
                        )
                        .await
                    {
                        Ok(next) => *current.lock().unwrap_or_else(|p| p.into_inner()) = next,
                        Err(e) => tracing::warn!(lease = %key, "cannot renew the lease: {e}"),
                    }
                }
            })
        };
        Ok(Some(Lease {
            renew,
            release: Some((store, key, current, clock)),
            took_over,
        }))
    }

    /// The holder whose lease expired without being released (it died or
    /// stopped renewing) and was taken over by this one, if any.
    pub fn took_over(&self) -> Option<&str> {
        self.took_over.as_deref()
    }

    /// Gives the lease back now (dropping it does the same in the
    /// background), so another holder takes it at once.
    pub async fn release(mut self) {
        self.renew.abort();
        if let Some(release) = self.release.take() {
            give_back(release).await;
        }
    }
}

/// Releases by expiring the lease, only if it is still ours.
async fn give_back((store, key, current, clock): Release) {
    let etag = current.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if let Err(e) = store
        .put(
            &key,
            record(RELEASED, Duration::ZERO, clock.as_ref()),
            Precondition::IfMatch(etag),
        )
        .await
    {
        tracing::debug!(lease = %key, "lease not released (it expires): {e}");
    }
}

/// The releases of dropped leases still under way, in this process.
static RELEASING: std::sync::LazyLock<tokio_util::task::TaskTracker> =
    std::sync::LazyLock::new(tokio_util::task::TaskTracker::new);

/// Resolves once the releases of the leases dropped so far are written
/// (a stopping server waits for them before it exits).
pub async fn releases_settled() {
    RELEASING.close();
    RELEASING.wait().await;
    RELEASING.reopen();
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renew.abort();
        if let Some(release) = self.release.take()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            RELEASING.spawn_on(give_back(release), &handle);
        }
    }
}
