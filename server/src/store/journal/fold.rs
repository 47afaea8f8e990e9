//! Repeated refusals, folded on write. A script that hammers an action it
//! may not take would otherwise add a record per attempt; instead the
//! identical refusals (same scope, actor, action and rule) within one
//! [`FOLD_WINDOW`] (the clock's hours) are one record with a `count` and
//! the time of the last (`until`): at most one record per kind of refusal
//! per window, however fast or concurrent the refusals.
//!
//! The log stays append-only in spirit: a folded record is created like
//! any other (under the time of the first refusal), and later only its
//! `count` grows and its `until` moves forward, by compare-and-swap; what
//! it says happened (who, what, why, when first) never changes, and no
//! record is ever deleted. Every other record is create-only.
//!
//! Which record counts a kind of refusal in a window is claimed once, with
//! a create-only pointer `audit-folds/<scope>/<kind hash>-<window>.json`
//! (outside the `audit/` listing) naming its key. The first refusal
//! creates the pointer, then the record; the others count on it. When the
//! record cannot be counted on (still missing long after its claim, or
//! contended past every retry), the refusal gets a record of its own:
//! none is ever dropped.

use super::{AuditLog, AuditRecord};
use crate::store::{Precondition, StoreError};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The window identical refusals fold within (aligned to the clock).
pub const FOLD_WINDOW: Duration = Duration::from_secs(60 * 60);

/// Compare-and-swap attempts at a count: a loss means another refusal was
/// counted, so with fewer concurrent refusals than this none falls back.
const BUMPS: usize = 64;
/// Reads of a claimed record that its claimant is still creating.
const WAITS: usize = 50;

/// Which record counts a kind of refusal in a window.
#[derive(Serialize, Deserialize)]
struct Pointer {
    key: String,
}

fn pointer_key(record: &AuditRecord, rule: &str, window: u64) -> String {
    let mut hash = Sha256::new();
    for part in [&record.actor, &record.action, rule] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    format!(
        "audit-folds/{}/{}-{window}.json",
        record.request.as_deref().unwrap_or("_system"),
        crate::auth::hex(&hash.finalize()[..12])
    )
}

impl AuditLog {
    /// Appends a refusal by `rule`, folded into the record of the same
    /// refusal (scope, actor, action, rule) in the current window.
    pub async fn append_refusal(&self, record: &AuditRecord, rule: &str) -> Result<(), StoreError> {
        self.append_folded_at(record, rule, self.clock.unix_millis())
            .await
    }

    /// [`Self::append_refusal`] at `now_ms` (Unix milliseconds), which
    /// picks the window.
    pub async fn append_folded_at(
        &self,
        record: &AuditRecord,
        rule: &str,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let window = now_ms / u64::try_from(FOLD_WINDOW.as_millis()).unwrap_or(u64::MAX);
        let pointer_key = pointer_key(record, rule, window);
        let mine = self.new_key(record);
        let claim = serde_json::to_vec(&Pointer { key: mine.clone() }).expect("serializes");
        let counted_on = match self
            .store
            .put(&pointer_key, claim.into(), Precondition::IfAbsent)
            .await
        {
            Ok(_) => None,
            Err(StoreError::Conflict(_)) => {
                let obj = self.store.get(&pointer_key).await?;
                match serde_json::from_slice::<Pointer>(&obj.bytes) {
                    // Our own claim, whose response was lost.
                    Ok(p) if p.key == mine => None,
                    Ok(p) => Some(p.key),
                    Err(_) => Some(String::new()),
                }
            }
            Err(e) => return Err(e),
        };
        let bytes = Bytes::from(serde_json::to_vec(record).expect("serializes"));
        let done = match counted_on {
            None => self.create_at(&mine, bytes).await?,
            Some(key) => !key.is_empty() && self.bump(&key, record).await?,
        };
        if done {
            Ok(())
        } else {
            self.append(record).await
        }
    }

    /// Counts one more refusal on the record at `key`; `false` when it is
    /// not there (after waiting for its claimant), is not this refusal's,
    /// or stays contended.
    async fn bump(&self, key: &str, record: &AuditRecord) -> Result<bool, StoreError> {
        let (mut bumps, mut waits) = (0, 0);
        loop {
            let obj = match self.store.get(key).await {
                Ok(obj) => obj,
                Err(StoreError::NotFound(_)) if waits < WAITS => {
                    waits += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                Err(StoreError::NotFound(_)) => return Ok(false),
                Err(e) => return Err(e),
            };
            let Ok(mut stored) = serde_json::from_slice::<AuditRecord>(&obj.bytes) else {
                return Ok(false);
            };
            if (&stored.actor, &stored.action, &stored.request)
                != (&record.actor, &record.action, &record.request)
            {
                return Ok(false);
            }
            stored.count = stored.count.saturating_add(1);
            stored.until = Some(record.at.clone());
            let bytes = serde_json::to_vec(&stored).expect("serializes");
            match self
                .store
                .put(key, bytes.into(), Precondition::IfMatch(obj.etag))
                .await
            {
                Ok(_) => return Ok(true),
                Err(StoreError::Conflict(_)) if bumps < BUMPS => {
                    bumps += 1;
                    tokio::time::sleep(Duration::from_millis(fastrand::u64(0..4))).await;
                }
                Err(StoreError::Conflict(_)) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }
}
