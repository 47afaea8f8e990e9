//! A short trust in what was read about a caller: the account a bearer
//! token or a session names is read from the store once, then trusted for
//! [`TRUST`] instead of on every call (a busy API client, an open event
//! stream's re-check every 2 s).
//!
//! A change made in this process — a user added, changed, disabled or
//! given a new password, a token revoked — counts at once: every write
//! raises the epoch of its store, and an entry read under an older epoch
//! is not trusted. A change made elsewhere (another replica, the `tfpilot`
//! CLI) counts within [`TRUST`].

use crate::store::ObjectStore;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long an account read from the store is trusted.
pub const TRUST: Duration = Duration::from_secs(5);

/// Entries kept before the stale ones are swept.
const SWEEP_AT: usize = 10_000;

/// The epoch of the users and tokens in `store` (one counter per store
/// object of the process, shared by every reader over it).
fn epochs(store: &Arc<dyn ObjectStore>) -> Arc<AtomicU64> {
    static BY_STORE: OnceLock<Mutex<HashMap<usize, Arc<AtomicU64>>>> = OnceLock::new();
    let key = Arc::as_ptr(store).cast::<()>() as usize;
    let mut all = BY_STORE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    all.entry(key).or_default().clone()
}

/// Says that a user or a token in `store` changed: nothing read from it
/// before is trusted any more.
pub fn changed(store: &Arc<dyn ObjectStore>) {
    epochs(store).fetch_add(1, Ordering::SeqCst);
}

/// Values by key, each trusted for a while after it was read.
#[derive(Clone)]
pub struct Trusted<T> {
    ttl: Duration,
    /// Raised by every change ([`changed`]).
    epochs: Arc<AtomicU64>,
    entries: Arc<Mutex<HashMap<String, Entry<T>>>>,
}

/// A value, when it was read and under which epoch.
struct Entry<T> {
    at: Instant,
    read_in: u64,
    value: T,
    /// Being read again in the background.
    refreshing: bool,
}

impl<T: Clone + Send + 'static> Trusted<T> {
    /// Trusting each value read from `store` for `ttl` (zero: never).
    pub fn new(ttl: Duration, store: &Arc<dyn ObjectStore>) -> Self {
        Self::counting(ttl, epochs(store))
    }

    fn counting(ttl: Duration, epochs: Arc<AtomicU64>) -> Self {
        Self {
            ttl,
            epochs,
            entries: Arc::default(),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry<T>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The epoch to read under: take it before reading the store, so a
    /// change racing the read leaves the entry untrusted.
    fn epoch(&self) -> u64 {
        self.epochs.load(Ordering::SeqCst)
    }

    /// The value of `key`: a trusted one, else what `read` gets from the
    /// store (then trusted). A value past half its trust is still served
    /// and read again in the background, once at a time, so busy callers
    /// do not all wait on the store when the trust runs out; no value is
    /// served past its trust, or after a change.
    pub async fn read_through<E, Fut>(&self, key: &str, read: impl FnOnce() -> Fut) -> Result<T, E>
    where
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let now = self.epoch();
        let kept = self.entries().get_mut(key).and_then(|e| {
            let age = e.at.elapsed();
            if e.read_in != now || age >= self.ttl {
                return None;
            }
            let again = age >= self.ttl / 2 && !e.refreshing;
            e.refreshing |= again;
            Some((e.value.clone(), again))
        });
        match kept {
            Some((value, false)) => Ok(value),
            Some((value, true)) => {
                let (trusted, key, reading) = (self.clone(), key.to_owned(), read());
                tokio::spawn(async move {
                    match reading.await {
                        Ok(fresh) => trusted.put(&key, now, fresh),
                        // It runs out at its time; the next read is inline.
                        Err(_) => {
                            if let Some(e) = trusted.entries().get_mut(&key) {
                                e.refreshing = false;
                            }
                        }
                    }
                });
                Ok(value)
            }
            None => {
                let value = read().await?;
                self.put(key, now, value.clone());
                Ok(value)
            }
        }
    }

    /// Remembers `value` for `key`, read under epoch `read_in`.
    fn put(&self, key: &str, read_in: u64, value: T) {
        if self.ttl.is_zero() || read_in != self.epoch() {
            return;
        }
        let mut entries = self.entries();
        if entries.len() >= SWEEP_AT {
            let (ttl, now) = (self.ttl, self.epoch());
            entries.retain(|_, e| e.at.elapsed() < ttl && e.read_in == now);
        }
        entries.insert(
            key.to_owned(),
            Entry {
                at: Instant::now(),
                read_in,
                value,
                refreshing: false,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Reads `value`, counting the reads in `reads`.
    fn reading(
        reads: &Arc<AtomicUsize>,
        value: u32,
    ) -> impl FnOnce() -> std::future::Ready<Result<u32, ()>> {
        let reads = reads.clone();
        move || {
            reads.fetch_add(1, Ordering::SeqCst);
            std::future::ready(Ok(value))
        }
    }

    #[tokio::test]
    async fn a_value_is_trusted_until_its_time_is_up_or_anything_changes() {
        let changes = Arc::new(AtomicU64::new(0));
        let reads = Arc::new(AtomicUsize::new(0));
        let trusted = Trusted::counting(Duration::from_millis(400), changes.clone());
        assert_eq!(trusted.read_through("ana", reading(&reads, 1)).await, Ok(1));
        assert_eq!(trusted.read_through("ana", reading(&reads, 2)).await, Ok(1));
        assert_eq!(reads.load(Ordering::SeqCst), 1, "trusted: not read again");

        changes.fetch_add(1, Ordering::SeqCst);
        assert_eq!(
            trusted.read_through("ana", reading(&reads, 3)).await,
            Ok(3),
            "a change here counts at once"
        );

        // Past half its trust: served, and read again in the background.
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(trusted.read_through("ana", reading(&reads, 4)).await, Ok(3));
        assert_eq!(trusted.read_through("ana", reading(&reads, 5)).await, Ok(3));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            reads.load(Ordering::SeqCst),
            3,
            "one read in the background"
        );
        assert_eq!(trusted.read_through("ana", reading(&reads, 6)).await, Ok(4));

        // Past its trust: read inline.
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(trusted.read_through("ana", reading(&reads, 7)).await, Ok(7));

        let never = Trusted::counting(Duration::ZERO, changes);
        assert_eq!(never.read_through("ana", reading(&reads, 8)).await, Ok(8));
        assert_eq!(never.read_through("ana", reading(&reads, 9)).await, Ok(9));
    }
}
