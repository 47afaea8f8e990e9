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

/// When a value was read, under which epoch, and the value.
type Entry<T> = (Instant, u64, T);

impl<T: Clone> Trusted<T> {
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

    /// The epoch to read under: take it before reading the store, so a
    /// change racing the read leaves the entry untrusted.
    pub fn epoch(&self) -> u64 {
        self.epochs.load(Ordering::SeqCst)
    }

    /// The value of `key`, if it is still trusted.
    pub fn get(&self, key: &str) -> Option<T> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (at, read_in, value) = entries.get(key)?;
        (at.elapsed() < self.ttl && *read_in == self.epoch()).then(|| value.clone())
    }

    /// Remembers `value` for `key`, read under `read_in` ([`Trusted::epoch`]).
    pub fn put(&self, key: &str, read_in: u64, value: T) {
        if self.ttl.is_zero() || read_in != self.epoch() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= SWEEP_AT {
            let (ttl, now) = (self.ttl, self.epoch());
            entries.retain(|_, (at, read_in, _)| at.elapsed() < ttl && *read_in == now);
        }
        entries.insert(key.to_owned(), (Instant::now(), read_in, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_trusted_until_its_time_is_up_or_anything_changes() {
        let changes = Arc::new(AtomicU64::new(0));
        let trusted = Trusted::counting(Duration::from_millis(200), changes.clone());
        trusted.put("ana", trusted.epoch(), 1);
        assert_eq!(trusted.get("ana"), Some(1));
        assert_eq!(trusted.get("bo"), None);
        changes.fetch_add(1, Ordering::SeqCst);
        assert_eq!(trusted.get("ana"), None, "a change here counts at once");

        let read_in = trusted.epoch();
        changes.fetch_add(1, Ordering::SeqCst);
        trusted.put("ana", read_in, 2);
        assert_eq!(trusted.get("ana"), None, "a change racing the read");

        trusted.put("ana", trusted.epoch(), 3);
        assert_eq!(trusted.get("ana"), Some(3));
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(trusted.get("ana"), None, "past its time");

        let never = Trusted::counting(Duration::ZERO, changes);
        never.put("ana", never.epoch(), 4);
        assert_eq!(never.get("ana"), None);
    }
}
