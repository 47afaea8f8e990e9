//! Sign-in limits, stored so that every replica shares them.
//!
//! An attempt first *reserves* a slot under each of its keys — the client
//! address, the login from that address, and the login from anywhere — by
//! compare-and-swap on a small counter object (`limits/<sha256 of the
//! key>.json`). Only an attempt holding all its slots runs argon2, on the
//! blocking pool behind a cap of [`CHECKS`] at a time. So parallel guesses
//! cannot all pass a check made before the count is written, and a refused
//! guess costs no hashing.
//!
//! A key allows its maximum of attempts per [`WINDOW`]; a success forgets
//! the login's counts. An account is slowed down, never locked: the refusal
//! says when the window ends and a new one opens. The login-from-anywhere
//! allowance is larger than the login-from-one-address one, so one client
//! guessing cannot shut its owner out from another address.

use crate::store::{ObjectStore, Precondition, StoreError};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

/// Attempts allowed per window for one login from one address.
pub const MAX_FAILURES: u32 = 5;
/// Attempts allowed per window for one login from all addresses.
pub const MAX_FOR_LOGIN: u32 = 25;
/// Attempts allowed per window from one address (an office shares one).
pub const MAX_FROM_ADDRESS: u32 = 20;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(300);
/// Password checks (argon2) running at once in this process.
pub const CHECKS: usize = 2;

/// One key's counter.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Slot {
    /// When the window opened (unix milliseconds).
    window_start: u64,
    /// Attempts reserved in the window (finished or running).
    attempts: u32,
}

/// The keys one attempt reserves.
#[derive(Debug, Clone)]
pub struct AttemptKeys {
    keys: Vec<(String, u32)>,
}

impl AttemptKeys {
    /// The keys of a sign-in as `login` from `address`.
    pub fn new(login: &str, address: &str) -> Self {
        Self {
            keys: vec![
                (format!("login-ip:{login}@{address}"), MAX_FAILURES),
                (format!("login:{login}"), MAX_FOR_LOGIN),
                (format!("ip:{address}"), MAX_FROM_ADDRESS),
            ],
        }
    }
}

/// Why an attempt may not go ahead.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// Over a limit: try again in this many seconds.
    #[error("too many sign-in attempts; try again in {0} seconds")]
    Wait(u64),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stored sign-in limits.
pub struct LoginLimits {
    store: Arc<dyn ObjectStore>,
    checks: tokio::sync::Semaphore,
}

fn object_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("limits/{}.json", super::hex(&digest))
}

const WINDOW_MS: u64 = WINDOW.as_millis() as u64;

impl LoginLimits {
    /// Over the store the counters live in.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            checks: tokio::sync::Semaphore::new(CHECKS),
        }
    }

    /// Changes one counter by compare-and-swap; `f` answers `Err(wait)` to
    /// refuse.
    async fn swap(
        &self,
        key: &str,
        f: impl Fn(&mut Slot, u64) -> Result<(), u64>,
    ) -> Result<(), LimitError> {
        let object = object_key(key);
        for attempt in 0..16u32 {
            let now = super::unix_millis();
            let (mut slot, cond) = match self.store.get(&object).await {
                Ok(o) => (
                    serde_json::from_slice::<Slot>(&o.bytes).unwrap_or_default(),
                    Precondition::IfMatch(o.etag),
                ),
                Err(StoreError::NotFound(_)) => (Slot::default(), Precondition::IfAbsent),
                Err(e) => return Err(e.into()),
            };
            if now.saturating_sub(slot.window_start) >= WINDOW_MS {
                slot = Slot {
                    window_start: now,
                    attempts: 0,
                };
            }
            f(&mut slot, now).map_err(LimitError::Wait)?;
            let bytes = Bytes::from(serde_json::to_vec(&slot).expect("serializes"));
            match self.store.put(&object, bytes, cond).await {
                Ok(_) => return Ok(()),
                Err(StoreError::Conflict(_)) => {
                    let jitter = u64::from(crate::auth::random_bytes::<1>()[0] % 8);
                    tokio::time::sleep(Duration::from_millis(2 + jitter + u64::from(attempt)))
                        .await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(LimitError::Store(StoreError::Unavailable(
            "the sign-in counter kept changing; try again".into(),
        )))
    }

    /// Reserves one attempt under every key, or none: a refusal gives back
    /// what was already taken.
    pub async fn reserve(&self, keys: &AttemptKeys) -> Result<(), LimitError> {
        for (i, (key, max)) in keys.keys.iter().enumerate() {
            let max = *max;
            let taken = self
                .swap(key, |slot, now| {
                    if slot.attempts >= max {
                        let ends = slot.window_start + WINDOW_MS;
                        return Err(ends.saturating_sub(now).div_ceil(1000).max(1));
                    }
                    slot.attempts += 1;
                    Ok(())
                })
                .await;
            if let Err(e) = taken {
                for (earlier, _) in &keys.keys[..i] {
                    let _ = self.give_back(earlier).await;
                }
                return Err(e);
            }
        }
        Ok(())
    }

    async fn give_back(&self, key: &str) -> Result<(), LimitError> {
        self.swap(key, |slot, _| {
            slot.attempts = slot.attempts.saturating_sub(1);
            Ok(())
        })
        .await
    }

    /// A success: the login's counts are forgotten (the address keeps its own).
    pub async fn succeeded(&self, keys: &AttemptKeys) {
        for (key, _) in keys.keys.iter().filter(|(k, _)| !k.starts_with("ip:")) {
            if let Err(e) = self.store.delete(&object_key(key)).await {
                tracing::warn!("cannot reset a sign-in counter: {e}");
            }
        }
    }

    /// Checks a password against an argon2id hash on the blocking pool, at
    /// most [`CHECKS`] at a time.
    pub async fn verify(&self, password: String, hash: String) -> bool {
        let Ok(_permit) = self.checks.acquire().await else {
            return false;
        };
        tokio::task::spawn_blocking(move || super::users::verify_password(&password, &hash))
            .await
            .unwrap_or(false)
    }
}
