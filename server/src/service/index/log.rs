//! The shared change log: how replicas over one store agree on what
//! changed, in one order, within a moment.
//!
//! Every change a replica makes to its index (a row written, a row
//! dropped) is also appended to the log in the requests bucket: records
//! `changes/<seq>.json`, each written create-only at the next sequence
//! number, so two replicas never hold the same number and a number is
//! never skipped. Every replica tails the log (the next record is read
//! as soon as its own appender wrote one, else every [`POLL`]), applies
//! what other replicas wrote to its index, and publishes each change to
//! its feed under the change's global number, `seq × PER_RECORD +` its
//! place in the record: a `Last-Event-ID` means the same on every
//! replica. A row never gives way to an older version of itself, and a
//! dropped one never comes back, so replaying, duplicates and the
//! refresh's repairs are harmless. Only the newest [`KEEP`] records are
//! kept; a replica that fell further behind re-reads the bucket.

use super::Index;
use super::sync::StoredEntry;
use crate::store::{Precondition, StoreError, list_all};
use app::api::Change;
use app::domain::ids::RequestId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};

/// Where the records live in the requests bucket.
pub const PREFIX: &str = "changes/";
/// At most this many changes per record; numbers leave room for them.
pub const PER_RECORD: u64 = 256;
/// Records kept behind the newest.
pub const KEEP: u64 = 4096;
/// How often an idle tailer looks for a record another replica wrote.
pub const POLL: Duration = Duration::from_millis(100);
/// How often old records are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Ids remembered as published before the memory is cleared.
const PUBLISHED_KEPT: usize = 200_000;

/// One change as the log holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Item {
    /// A row written (its document's version inside).
    Row(StoredEntry),
    /// A row dropped at its document's final version.
    Removed {
        id: RequestId,
        project: String,
        version: u64,
    },
}

#[derive(Serialize, Deserialize)]
struct Record {
    changes: Vec<Item>,
}

fn key(seq: u64) -> String {
    format!("{PREFIX}{seq:020}.json")
}

fn seq_of(key: &str) -> Option<u64> {
    key.strip_prefix(PREFIX)?
        .strip_suffix(".json")?
        .parse()
        .ok()
}

/// A replica's end of the log: what it appends, and how far it has read.
pub struct ChangeLog {
    outgoing: mpsc::UnboundedSender<Item>,
    incoming: std::sync::Mutex<Option<mpsc::UnboundedReceiver<Item>>>,
    /// Set once the log is followed: changes go through it from then on.
    attached: AtomicBool,
    /// The newest sequence number known to exist (read, written or lost).
    head: AtomicU64,
    /// Pokes the tailer when this replica appended a record.
    appended: Notify,
    /// Changes queued and not yet written.
    pending: std::sync::atomic::AtomicUsize,
    /// Changes ever queued, and (watched) ever written or given up.
    queued: AtomicU64,
    done: tokio::sync::watch::Sender<u64>,
}

impl Default for ChangeLog {
    fn default() -> Self {
        let (outgoing, incoming) = mpsc::unbounded_channel();
        Self {
            outgoing,
            incoming: std::sync::Mutex::new(Some(incoming)),
            attached: AtomicBool::new(false),
            head: AtomicU64::new(0),
            appended: Notify::new(),
            pending: std::sync::atomic::AtomicUsize::new(0),
            queued: AtomicU64::new(0),
            done: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl ChangeLog {
    /// Whether changes go through the log (else the feed numbers them).
    pub(super) fn attached(&self) -> bool {
        self.attached.load(Ordering::Acquire)
    }

    /// Queues a change to append (in order, batched).
    pub(super) fn append(&self, item: Item) {
        // The receiver lives as long as the appender; without one there is
        // no log to write to.
        // Counted before it can be written (and taken off the count).
        self.pending.fetch_add(1, Ordering::AcqRel);
        self.queued.fetch_add(1, Ordering::AcqRel);
        if self.outgoing.send(item).is_err() {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            self.done.send_modify(|n| *n += 1);
        }
    }
}

impl Index {
    /// Finds the log's newest record and routes this index's changes
    /// through the log from now on; [`Index::follow_log`] then reads
    /// after it. Called before the index is loaded, so nothing written
    /// during the load is missed.
    pub async fn attach_log(&self) -> Result<u64, StoreError> {
        let head = list_all(self.store.as_ref(), PREFIX)
            .await?
            .iter()
            .filter_map(|e| seq_of(&e.key))
            .max()
            .unwrap_or(0);
        self.log.head.fetch_max(head, Ordering::AcqRel);
        self.log.attached.store(true, Ordering::Release);
        self.changes.reached(head * PER_RECORD + PER_RECORD - 1);
        Ok(head)
    }

    /// Appends this replica's changes, reads everyone's after record
    /// `after`, and prunes old records — until the task is dropped.
    pub async fn follow_log(self: Arc<Self>, after: u64) {
        let Some(incoming) = self
            .log
            .incoming
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        else {
            return tracing::warn!("the change log is followed already");
        };
        tokio::join!(
            self.clone().append_forever(incoming),
            self.clone().tail_forever(after + 1),
            self.prune_forever(),
        );
    }

    /// Waits until the changes queued here so far (a write's own, just
    /// made) are in the log, at most `limit`; whether they are. Without a
    /// log, at once. A write answered after it is seen on every replica
    /// within a poll of the log.
    pub async fn logged(&self, limit: Duration) -> bool {
        if !self.log.attached() {
            return true;
        }
        let upto = self.log.queued.load(Ordering::Acquire);
        let mut done = self.log.done.subscribe();
        tokio::time::timeout(limit, done.wait_for(|n| *n >= upto))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Waits until every change queued here is in the log, at most
    /// `limit` (at shutdown); whether none is left.
    pub async fn flush_log(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while self.log.pending.load(Ordering::Acquire) > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    async fn append_forever(self: Arc<Self>, mut incoming: mpsc::UnboundedReceiver<Item>) {
        while let Some(first) = incoming.recv().await {
            let mut changes = vec![first];
            while changes.len() < PER_RECORD as usize {
                match incoming.try_recv() {
                    Ok(item) => changes.push(item),
                    Err(_) => break,
                }
            }
            let count = changes.len();
            let bytes: bytes::Bytes = match serde_json::to_vec(&Record { changes }) {
                Ok(b) => b.into(),
                Err(e) => {
                    self.log.pending.fetch_sub(count, Ordering::AcqRel);
                    self.log.done.send_modify(|n| *n += count as u64);
                    tracing::error!("cannot write a change log record: {e}");
                    continue;
                }
            };
            let mut backoff = Duration::from_millis(50);
            loop {
                let seq = self.log.head.load(Ordering::Acquire) + 1;
                match self
                    .store
                    .put(&key(seq), bytes.clone(), Precondition::IfAbsent)
                    .await
                {
                    Ok(_) => {
                        self.log.head.fetch_max(seq, Ordering::AcqRel);
                        self.log.pending.fetch_sub(count, Ordering::AcqRel);
                        self.log.done.send_modify(|n| *n += count as u64);
                        self.log.appended.notify_one();
                        break;
                    }
                    // Another replica's: ours goes after it.
                    Err(StoreError::Conflict(_)) => {
                        self.log.head.fetch_max(seq, Ordering::AcqRel);
                    }
                    Err(e) => {
                        tracing::warn!(seq, "cannot append to the change log (will retry): {e}");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
        }
    }

    async fn tail_forever(self: Arc<Self>, mut next: u64) {
        let mut published: HashMap<RequestId, u64> = HashMap::new();
        let mut misses = 0u32;
        loop {
            match self.store.get(&key(next)).await {
                Ok(obj) => {
                    misses = 0;
                    match serde_json::from_slice::<Record>(&obj.bytes) {
                        Ok(record) => self.apply_record(next, record, &mut published),
                        Err(e) => tracing::error!(
                            seq = next,
                            "skipping an unreadable change log record: {e}"
                        ),
                    }
                    self.log.head.fetch_max(next, Ordering::AcqRel);
                    self.changes.reached(next * PER_RECORD + PER_RECORD - 1);
                    next += 1;
                    continue;
                }
                Err(StoreError::NotFound(_)) => {
                    misses = misses.wrapping_add(1);
                    // Pruned past this replica (it fell far behind)?
                    let suspect =
                        self.log.head.load(Ordering::Acquire) >= next || misses.is_multiple_of(50);
                    if suspect && let Some(found) = self.first_after(next).await {
                        tracing::warn!(
                            from = next,
                            to = found,
                            "the change log moved past this replica: re-reading the bucket"
                        );
                        next = found;
                        if let Err(e) = self.refresh().await {
                            tracing::warn!("index refresh failed (will retry): {e}");
                        }
                        continue;
                    }
                }
                Err(e) => {
                    tracing::warn!(seq = next, "cannot read the change log (will retry): {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            tokio::select! {
                _ = self.log.appended.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// The first record after `seq` when `seq` itself is missing (pruned);
    /// `None` when there is none, or when `seq` is there after all (it
    /// was written since the read that missed it — records are written
    /// in order, so one after it may already be there too, and must not
    /// be mistaken for a gap).
    async fn first_after(&self, seq: u64) -> Option<u64> {
        let from = seq.checked_sub(1).map(key);
        let page = self.store.list(PREFIX, from, 1).await.ok()?;
        page.entries
            .first()
            .and_then(|e| seq_of(&e.key))
            .filter(|first| *first > seq)
    }

    fn apply_record(&self, seq: u64, record: Record, published: &mut HashMap<RequestId, u64>) {
        if published.len() >= PUBLISHED_KEPT {
            published.clear();
        }
        for (place, item) in (0u64..).zip(record.changes) {
            let number = seq * PER_RECORD + place.min(PER_RECORD - 1);
            match item {
                Item::Row(stored) => {
                    let Some(row) = stored.into_entry() else {
                        continue;
                    };
                    let (id, version) = (row.id, row.version);
                    let held = {
                        let mut state = self.write();
                        state.insert(row.clone());
                        state.rows.contains_key(&id)
                    };
                    // News to this feed (every replica publishes the same
                    // records under the same numbers, whatever its own
                    // writes put in its index meanwhile), unless dropped.
                    let news = held && published.get(&id).is_none_or(|p| version > *p);
                    if news {
                        published.insert(id, version);
                        self.changes.publish_at(
                            number,
                            Change::Request {
                                row: Box::new(row.row()),
                            },
                        );
                    }
                }
                Item::Removed {
                    id,
                    project,
                    version,
                } => {
                    self.write().remove_at(&id, version);
                    if published.insert(id, u64::MAX) != Some(u64::MAX) {
                        self.changes.publish_at(
                            number,
                            Change::Removed {
                                id: id.to_string(),
                                project,
                            },
                        );
                    }
                }
            }
        }
    }

    async fn prune_forever(self: Arc<Self>) {
        let mut tick = tokio::time::interval(PRUNE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let cut = self.log.head.load(Ordering::Acquire).saturating_sub(KEEP);
            let Ok(page) = self.store.list(PREFIX, None, 1000).await else {
                continue;
            };
            for entry in page.entries {
                if seq_of(&entry.key).is_some_and(|s| s < cut)
                    && let Err(e) = self.store.delete(&entry.key).await
                {
                    tracing::debug!(key = %entry.key, "cannot prune the change log: {e}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_as_their_numbers() {
        let keys: Vec<String> = [9, 10, 255, 1_000_000].into_iter().map(key).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(seq_of(&key(1_000_000)), Some(1_000_000));
        assert_eq!(seq_of("changes/x.json"), None);
    }
}
