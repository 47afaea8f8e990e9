//! Sign-in limits, stored so that every replica shares them.
//!
//! An attempt first *reserves* a slot under each of its keys by
//! compare-and-swap on a small counter object (`limits/<sha256 of the
//! key>.json`). Only an attempt holding all its slots runs argon2, on the
//! blocking pool behind a cap of [`CHECKS`] at a time, so parallel guesses
//! cannot all pass a check made before the count is written, and a refused
//! guess costs no hashing. When the check is done the slot is settled:
//! a failure counts, a success never does (its slot is given back, and the
//! login+address or device counter starts again from zero).
//!
//! The keys: an attempt with a valid device cookie for its login (see
//! [`super::device`]) is judged by that device's counter alone; any other
//! attempt by its login from its address, its login from anywhere and its
//! address. So guesses from elsewhere, however many, never keep the owner's
//! own browser out.
//!
//! Failures up to a key's maximum are free; the one reaching it blocks the
//! key for [`FIRST_WAIT`], and every further failure doubles the block, up
//! to [`MAX_WAIT`]. After the block one attempt at a time may try. A key
//! quiet for [`FORGET`] is forgotten, and [`LoginLimits::sweep`] deletes
//! the forgotten counter objects.

use crate::store::{ObjectStore, Precondition, StoreError, list_all};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

mod slot;
use slot::Slot;
pub use slot::backoff;

/// Failures allowed for one login from one address, or on one device.
pub const MAX_FAILURES: u32 = 5;
/// Failures allowed for one login from all addresses without a device cookie.
pub const MAX_FOR_LOGIN: u32 = 25;
/// Failures allowed from one address (an office shares one).
pub const MAX_FROM_ADDRESS: u32 = 20;
/// The block after a key's last free failure; each further one doubles it.
pub const FIRST_WAIT: Duration = Duration::from_secs(60);
/// The longest block.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// A key without attempts for this long (after its block) starts afresh.
pub const FORGET: Duration = Duration::from_secs(15 * 60);
/// A reserved attempt never settled (its server stopped) stops counting
/// after this long.
pub const STALE: Duration = Duration::from_secs(120);
/// How often forgotten counters are deleted.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5 * 60);
/// Password checks (argon2) running at once in this process.
pub const CHECKS: usize = 2;

const PREFIX: &str = "limits/";

/// What a success does to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnSuccess {
    /// Forget it (the login from this address, or this device).
    Reset,
    /// Give the slot back (the login from anywhere, the address).
    GiveBack,
}

#[derive(Debug, Clone)]
struct Key {
    name: String,
    max: u32,
    on_success: OnSuccess,
    /// Whose failures, for the refusal: "for this account", …
    whose: &'static str,
}

/// The keys one attempt is judged by.
#[derive(Debug, Clone)]
pub struct AttemptKeys {
    keys: Vec<Key>,
}

/// The address as a limiter sees it: IPv4 as is, IPv6 by its /64 (one
/// host usually holds a whole /64).
pub fn address_key(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

impl AttemptKeys {
    /// A sign-in as `login` from `address` without a device cookie.
    pub fn anonymous(login: &str, address: IpAddr) -> Self {
        let address = address_key(address);
        let key = |name: String, max, on_success, whose| Key {
            name,
            max,
            on_success,
            whose,
        };
        Self {
            keys: vec![
                key(
                    format!("login-ip:{login}@{address}"),
                    MAX_FAILURES,
                    OnSuccess::Reset,
                    "for this account from your address",
                ),
                key(
                    format!("login:{login}"),
                    MAX_FOR_LOGIN,
                    OnSuccess::GiveBack,
                    "for this account",
                ),
                key(
                    format!("ip:{address}"),
                    MAX_FROM_ADDRESS,
                    OnSuccess::GiveBack,
                    "from your address",
                ),
            ],
        }
    }

    /// A sign-in as `login` from a browser holding `device`, a valid device
    /// cookie of that login: judged by that device's counter only.
    pub fn device(login: &str, device: &str) -> Self {
        Self {
            keys: vec![Key {
                name: format!("device:{login}:{device}"),
                max: MAX_FAILURES,
                on_success: OnSuccess::Reset,
                whose: "for this account in this browser",
            }],
        }
    }
}

/// Why an attempt may not go ahead.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// Over a limit: wait `wait` (whole seconds, at least one).
    #[error("too many failed sign-ins {whose}; try again in {} seconds", .wait.as_secs())]
    Wait {
        /// How long.
        wait: Duration,
        /// Whose failures: "for this account", "from your address", …
        whose: &'static str,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stored sign-in limits.
pub struct LoginLimits {
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn crate::clock::Clock>,
    ids: Arc<dyn crate::ids::Ids>,
    checks: tokio::sync::Semaphore,
}

fn object_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("{PREFIX}{}.json", super::hex(&digest))
}

impl LoginLimits {
    /// Over the store the counters live in; the sweep reads `clock`,
    /// retries are jittered and the dummy hash made from `ids`.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        clock: Arc<dyn crate::clock::Clock>,
        ids: Arc<dyn crate::ids::Ids>,
    ) -> Self {
        Self {
            store,
            clock,
            ids,
            checks: tokio::sync::Semaphore::new(CHECKS),
        }
    }

    /// Changes one counter by compare-and-swap; `f` answers `Err(wait ms)`
    /// to refuse.
    async fn swap(
        &self,
        key: &str,
        now: u64,
        f: impl Fn(&mut Slot) -> Result<(), u64>,
    ) -> Result<(), Result<u64, StoreError>> {
        let object = object_key(key);
        for attempt in 0..16u32 {
            let (slot, cond) = match self.store.get(&object).await {
                Ok(o) => (
                    serde_json::from_slice::<Slot>(&o.bytes).unwrap_or_default(),
                    Precondition::IfMatch(o.etag),
                ),
                Err(StoreError::NotFound(_)) => (Slot::default(), Precondition::IfAbsent),
                Err(e) => return Err(Err(e)),
            };
            let mut slot = slot.fresh(now);
            f(&mut slot).map_err(Ok)?;
            let bytes = Bytes::from(serde_json::to_vec(&slot).expect("serializes"));
            match self.store.put(&object, bytes, cond).await {
                Ok(_) => return Ok(()),
                Err(StoreError::Conflict(_)) => {
                    let jitter = u64::from(self.ids.bytes::<1>()[0] % 8);
                    tokio::time::sleep(Duration::from_millis(2 + jitter + u64::from(attempt)))
                        .await;
                }
                Err(e) => return Err(Err(e)),
            }
        }
        Err(Err(StoreError::Unavailable(
            "the sign-in counter kept changing; try again".into(),
        )))
    }

    /// Reserves one attempt under every key at `now` (unix ms), or none: a
    /// refusal gives back what was already taken.
    pub async fn reserve(&self, keys: &AttemptKeys, now: u64) -> Result<(), LimitError> {
        for (i, key) in keys.keys.iter().enumerate() {
            let taken = self.swap(&key.name, now, |s| s.reserve(key.max, now)).await;
            if let Err(refused) = taken {
                for earlier in &keys.keys[..i] {
                    self.give_back(&earlier.name, now).await;
                }
                return Err(match refused {
                    Ok(wait) => LimitError::Wait {
                        wait: Duration::from_secs(wait.div_ceil(1000).max(1)),
                        whose: key.whose,
                    },
                    Err(e) => e.into(),
                });
            }
        }
        Ok(())
    }

    async fn give_back(&self, key: &str, now: u64) {
        let given = self
            .swap(key, now, |s| {
                s.running = s.running.saturating_sub(1);
                Ok(())
            })
            .await;
        if let Err(Err(e)) = given {
            tracing::warn!("cannot give back a sign-in slot: {e}");
        }
    }

    /// Settles a reserved attempt: a failure counts under every key; a
    /// success gives the slots back and resets the login+address or device
    /// counter.
    pub async fn settle(&self, keys: &AttemptKeys, succeeded: bool, now: u64) {
        for key in &keys.keys {
            match (succeeded, key.on_success) {
                (true, OnSuccess::Reset) => {
                    if let Err(e) = self.store.delete(&object_key(&key.name)).await {
                        tracing::warn!("cannot reset a sign-in counter: {e}");
                    }
                }
                (true, OnSuccess::GiveBack) => self.give_back(&key.name, now).await,
                (false, _) => {
                    let counted = self
                        .swap(&key.name, now, |s| {
                            s.fail(key.max, now);
                            Ok(())
                        })
                        .await;
                    if let Err(Err(e)) = counted {
                        tracing::warn!("cannot count a failed sign-in: {e}");
                    }
                }
            }
        }
    }

    /// Checks a password against an argon2id hash on the blocking pool, at
    /// most [`CHECKS`] at a time. Without a hash (unknown login, no
    /// password) a dummy hash is checked, so it costs the same, and the
    /// answer is no.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let Ok(_permit) = self.checks.acquire().await else {
            return false;
        };
        tokio::task::spawn_blocking(move || match hash {
            Some(hash) => super::users::verify_password(&password, &hash),
            None => {
                super::users::verify_password(
                    &password,
                    super::users::dummy_hash(&crate::ids::OsIds),
                );
                false
            }
        })
        .await
        .unwrap_or(false)
    }

    /// Deletes the counters forgotten as of `now` (quiet for [`FORGET`]);
    /// how many. A counter is read just before it is deleted, so only one
    /// that was quiet for that long and taken at that very moment could
    /// lose an attempt.
    pub async fn sweep(&self, now: u64) -> Result<usize, StoreError> {
        let mut deleted = 0;
        for entry in list_all(self.store.as_ref(), PREFIX).await? {
            let slot = match self.store.get(&entry.key).await {
                Ok(o) => serde_json::from_slice::<Slot>(&o.bytes).unwrap_or_default(),
                Err(StoreError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            if slot.fresh(now) == Slot::default() {
                self.store.delete(&entry.key).await?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// Sweeps every [`SWEEP_EVERY`], for ever.
    pub async fn sweep_forever(self: Arc<Self>) {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match self.sweep(self.clock.unix_millis()).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(deleted = n, "forgotten sign-in counters deleted"),
                Err(e) => tracing::warn!("cannot sweep sign-in counters: {e}"),
            }
        }
    }
}

#[cfg(test)]
mod tests;
