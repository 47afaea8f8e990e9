//! The durable outbox: notices are stored before anyone is told, then delivered to every notifier and marked, so a crash loses none and a retry repeats none.
//!
//! A notice is written once under `outbox/<notice id>.json` (create-only:
//! the same status change noticed twice is stored once). A worker delivers
//! due entries in key order, which is request-then-version order, and never
//! delivers a request's later notice before an earlier one is through to
//! the same notifier (a notifier that fails holds back only its own later
//! notices of that request). Each entry remembers which notifiers still owe
//! it; a notifier that delivered is struck off at once, so a retry tells
//! only the ones that failed.
//! Entries are claimed with a lease by compare-and-swap, so two replicas
//! never deliver the same entry at the same time. A failure waits
//! (Slack's `Retry-After`, else exponential backoff) and never blocks the
//! request's flow; after [`MAX_ATTEMPTS`] (about a day) an entry moves to
//! `outbox-dead/`.

use super::{Notice, Notifier, NotifyError};
use crate::clock::Clock;
use crate::store::{ObjectStore, Precondition, StoreError, list_all};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// Where pending notices live.
pub const PREFIX: &str = "outbox/";
/// Where notices that never went through are kept for a person to read.
pub const DEAD: &str = "outbox-dead/";
/// Attempts before an entry is given up: about a day (the first ten
/// waits add up to an hour, then one every half hour).
pub const MAX_ATTEMPTS: u32 = 56;
/// How long a claimed entry is left to its claimer.
const LEASE: Duration = Duration::from_secs(60);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30 * 60);

/// One stored notice and who still owes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The notice.
    pub notice: Notice,
    /// Names of the notifiers that have not delivered it yet.
    pub pending: Vec<String>,
    /// Failed attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// Not before this time (Unix ms).
    #[serde(default)]
    pub next_at_ms: u64,
    /// Claimed by a worker until this time (Unix ms).
    #[serde(default)]
    pub lease_until_ms: u64,
    /// The last failure, for people reading the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Stores notices and delivers them to the notifiers.
pub struct Outbox {
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
    notifiers: Vec<Arc<dyn Notifier>>,
    wake: tokio::sync::Notify,
}

fn key(notice_id: &str) -> String {
    format!("{PREFIX}{notice_id}.json")
}

impl Outbox {
    /// An outbox in `store` delivering to `notifiers`.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        clock: Arc<dyn Clock>,
        notifiers: Vec<Arc<dyn Notifier>>,
    ) -> Self {
        Self {
            store,
            clock,
            notifiers,
            wake: tokio::sync::Notify::new(),
        }
    }

    /// The store entries live in.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The notifiers' names.
    pub fn notifier_names(&self) -> Vec<&'static str> {
        self.notifiers.iter().map(|n| n.name()).collect()
    }

    /// Stores `notice` for delivery (once: a notice stored before is left
    /// as it is) and wakes the worker.
    pub async fn enqueue(&self, notice: &Notice) -> Result<(), StoreError> {
        if self.notifiers.is_empty() {
            return Ok(());
        }
        let entry = Entry {
            notice: notice.clone(),
            pending: self.notifiers.iter().map(|n| n.name().to_owned()).collect(),
            attempts: 0,
            next_at_ms: 0,
            lease_until_ms: 0,
            last_error: None,
        };
        let bytes = serde_json::to_vec(&entry)
            .map_err(|e| StoreError::Invalid(format!("notice {}: {e}", notice.id)))?;
        match self
            .store
            .put(&key(&notice.id), bytes.into(), Precondition::IfAbsent)
            .await
        {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        self.wake.notify_one();
        Ok(())
    }

    /// Delivers until `stop`: at once when woken, else every `every`. A
    /// pass under way at the stop finishes (a notice cut between its
    /// delivery and its mark would be sent again after the restart).
    pub async fn run(self: Arc<Self>, every: Duration, stop: tokio_util::sync::CancellationToken) {
        while !stop.is_cancelled() {
            if let Err(e) = self.deliver_due().await {
                tracing::warn!("outbox pass failed (will retry): {e}");
            }
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(every) => {}
            }
        }
    }

    /// One pass: every due entry, in order; the number delivered in full.
    pub async fn deliver_due(&self) -> Result<usize, StoreError> {
        // Per request, the notifiers an earlier notice still waits for.
        let mut held: HashMap<String, HashSet<String>> = HashMap::new();
        let mut done = 0;
        let listed = list_all(self.store.as_ref(), PREFIX).await?;
        let entries = listed.len();
        for listed in listed {
            let Some(id) = listed
                .key
                .strip_prefix(PREFIX)
                .and_then(|k| k.strip_suffix(".json"))
            else {
                continue;
            };
            // `<request>.<version>.<n>.<kind>`: later notices of a request wait
            // for its earlier ones.
            let request = id.split('.').next().unwrap_or(id).to_owned();
            let held = held.entry(request).or_default();
            match self.deliver_one(&listed.key, held).await {
                Ok(None) => done += 1,
                Ok(Some(waiting)) => held.extend(waiting),
                Err(e) => {
                    tracing::warn!(entry = %listed.key, "outbox entry not delivered: {e}");
                    held.extend(self.notifier_names().into_iter().map(str::to_owned));
                }
            }
        }
        crate::meters::outbox_pending(entries.saturating_sub(done));
        Ok(done)
    }

    /// Claims and delivers one entry to the notifiers not in `held`;
    /// `None` when it is through (delivered to all, or given up), else the
    /// notifiers it still waits for.
    async fn deliver_one(
        &self,
        key: &str,
        held: &HashSet<String>,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let obj = match self.store.get(key).await {
            Ok(obj) => obj,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut entry: Entry = serde_json::from_slice(&obj.bytes)
            .map_err(|e| StoreError::Invalid(format!("{key}: not an outbox entry: {e}")))?;
        let now = self.clock.unix_millis();
        if entry.next_at_ms > now
            || entry.lease_until_ms > now
            || entry.pending.iter().all(|p| held.contains(p))
        {
            return Ok(Some(entry.pending));
        }
        entry.lease_until_ms = now + LEASE.as_millis() as u64;
        let mut etag = match self.put(key, &entry, Precondition::IfMatch(obj.etag)).await {
            Ok(etag) => etag,
            // Another worker claimed it.
            Err(StoreError::Conflict(_)) => return Ok(Some(entry.pending)),
            Err(e) => return Err(e),
        };
        let mut failure: Option<NotifyError> = None;
        for notifier in &self.notifiers {
            if !entry.pending.iter().any(|p| p == notifier.name()) || held.contains(notifier.name())
            {
                continue;
            }
            match notifier.notify(&entry.notice).await {
                Ok(()) => {
                    entry.pending.retain(|p| p != notifier.name());
                    if entry.pending.is_empty() {
                        break;
                    }
                    // Struck off at once: a crash now repeats no delivery.
                    etag = self.put(key, &entry, Precondition::IfMatch(etag)).await?;
                }
                Err(e) => {
                    tracing::warn!(
                        notifier = notifier.name(),
                        notice = %entry.notice.id,
                        attempt = entry.attempts + 1,
                        "notice not delivered (will retry): {e}"
                    );
                    failure = Some(match (failure, e) {
                        (Some(NotifyError::RetryAfter(a)), NotifyError::RetryAfter(b)) => {
                            NotifyError::RetryAfter(a.max(b))
                        }
                        (Some(NotifyError::RetryAfter(a)), _) => NotifyError::RetryAfter(a),
                        (_, e) => e,
                    });
                }
            }
        }
        // Names no notifier of this server answers to (a notifier removed
        // from the configuration) are dropped, not retried forever.
        let known: Vec<&str> = self.notifier_names();
        entry.pending.retain(|p| known.contains(&p.as_str()));
        if entry.pending.is_empty() {
            self.store.delete(key).await?;
            return Ok(None);
        }
        entry.lease_until_ms = 0;
        let Some(failure) = failure else {
            // Nobody failed: what is left waits behind an earlier notice.
            self.put(key, &entry, Precondition::IfMatch(etag)).await?;
            return Ok(Some(entry.pending));
        };
        entry.attempts += 1;
        let wait = match &failure {
            NotifyError::RetryAfter(d) => *d,
            NotifyError::Failed(_) => backoff(entry.attempts),
        };
        entry.last_error = Some(failure.to_string());
        entry.next_at_ms = self.clock.unix_millis() + wait.as_millis() as u64;
        if entry.attempts >= MAX_ATTEMPTS {
            tracing::error!(
                notice = %entry.notice.id,
                pending = ?entry.pending,
                "notice given up after {} attempts; kept under {DEAD}",
                entry.attempts
            );
            let dead = key.replacen(PREFIX, DEAD, 1);
            self.put(&dead, &entry, Precondition::None).await?;
            self.store.delete(key).await?;
            return Ok(None);
        }
        self.put(key, &entry, Precondition::IfMatch(etag)).await?;
        Ok(Some(entry.pending))
    }

    async fn put(
        &self,
        key: &str,
        entry: &Entry,
        cond: Precondition,
    ) -> Result<String, StoreError> {
        let bytes =
            serde_json::to_vec(entry).map_err(|e| StoreError::Invalid(format!("{key}: {e}")))?;
        self.store.put(key, bytes.into(), cond).await
    }

    /// The entries still waiting (for status pages and tests).
    pub async fn pending(&self) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::new();
        for listed in list_all(self.store.as_ref(), PREFIX).await? {
            if let Ok(obj) = self.store.get(&listed.key).await
                && let Ok(entry) = serde_json::from_slice(&obj.bytes)
            {
                out.push(entry);
            }
        }
        Ok(out)
    }
}

/// 4 s, 8 s, 16 s, … up to half an hour, after `attempts` failures.
pub fn backoff(attempts: u32) -> Duration {
    let secs = 1u64 << attempts.min(12);
    Duration::from_secs(secs * 2).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests;
