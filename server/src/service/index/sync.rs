//! Keeping the index in line with the bucket: cold start from a snapshot, LIST-diff refreshes, snapshots.

use super::{Index, IndexEntry, project};
use crate::store::repo::{Versioned, decode, live_key};
use crate::store::{Entry, Precondition, StoreError, list_all};
use app::domain::ids::RequestId;
use app::domain::status::{Status, Step};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Where the snapshot lives in the requests bucket.
pub const SNAPSHOT_KEY: &str = "index/snapshot.json";
const SNAPSHOT_FORMAT: u32 = 1;
/// Parallel GETs during a refresh.
const FETCH_PARALLELISM: usize = 16;

/// What a load or refresh did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RefreshStats {
    /// Keys listed.
    pub listed: usize,
    /// Documents fetched (new or changed).
    pub fetched: usize,
    /// Rows dropped (deleted or archived).
    pub dropped: usize,
}

/// The snapshot as written: every row as the REST list shows it, plus the
/// step of a failed one and the document's version.
#[derive(Serialize)]
struct Snapshot {
    format: u32,
    entries: Vec<StoredEntry>,
}

/// The snapshot as read (older ones have no `failed_step`).
#[derive(Deserialize)]
struct Stored {
    format: u32,
    entries: Vec<StoredEntry>,
}

/// A row as the snapshot and the change log hold it (older snapshots
/// have no `failed_step` and no `version`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct StoredEntry {
    id: RequestId,
    project: String,
    environment: String,
    module: String,
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failed_step: Option<Step>,
    title: String,
    requester: String,
    updated_at: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    note: String,
    etag: String,
    #[serde(default)]
    drifted: bool,
    #[serde(default)]
    version: u64,
}

/// Every status but `failed`, whose step a row names apart.
const NOT_FAILED: [Status; 9] = [
    Status::Created,
    Status::Planning,
    Status::PlanReady,
    Status::Approved,
    Status::Merged,
    Status::Applying,
    Status::Applied,
    Status::Destroying,
    Status::Destroyed,
];

impl StoredEntry {
    /// A row as it is stored.
    pub(super) fn of(e: &IndexEntry) -> Self {
        Self {
            id: e.id,
            project: e.project.to_string(),
            environment: e.environment.to_string(),
            module: e.module.to_string(),
            status: e.status.as_str().to_owned(),
            failed_step: e.status.failed_step(),
            title: e.title.clone(),
            requester: e.requester.to_string(),
            updated_at: e.updated_at.clone(),
            note: e.note.clone(),
            etag: e.etag.clone(),
            drifted: e.drifted,
            version: e.version,
        }
    }

    /// The row; `None` when its status cannot be told (a failed one in an
    /// older snapshot, which has no step): the refresh reads it again.
    pub(super) fn into_entry(self) -> Option<IndexEntry> {
        let status = match (self.status.as_str(), self.failed_step) {
            ("failed", Some(step)) => Status::Failed(step),
            (name, _) => NOT_FAILED.into_iter().find(|s| s.as_str() == name)?,
        };
        Some(IndexEntry {
            id: self.id,
            project: self.project.into(),
            environment: self.environment.into(),
            module: self.module.into(),
            status,
            title: self.title,
            requester: self.requester.into(),
            updated_at: self.updated_at,
            note: self.note,
            etag: self.etag,
            drifted: self.drifted,
            version: self.version,
        })
    }
}

fn id_of_key(key: &str) -> Option<RequestId> {
    let name = key.strip_prefix("requests/")?.strip_suffix(".json")?;
    RequestId::parse(name).ok()
}

impl Index {
    /// Cold start: the snapshot (if any), then a refresh that fetches only
    /// what the snapshot does not already have at the same etag. What it
    /// reads is not a change (nobody follows yet, and every replica reads
    /// the bucket itself): nothing is published or appended to the log.
    pub async fn load(&self) -> Result<RefreshStats, StoreError> {
        match self.store.get(SNAPSHOT_KEY).await {
            Ok(obj) => match serde_json::from_slice::<Stored>(&obj.bytes) {
                Ok(snap) if snap.format == SNAPSHOT_FORMAT => {
                    self.restore(snap.entries);
                    *self.snapshot_etag.lock().await = Some(obj.etag);
                }
                Ok(_) => tracing::warn!("ignoring an index snapshot of another format"),
                Err(e) => tracing::warn!("ignoring an unreadable index snapshot: {e}"),
            },
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        self.diff(false).await
    }

    fn restore(&self, entries: Vec<StoredEntry>) {
        let mut state = self.write();
        for e in entries.into_iter().filter_map(StoredEntry::into_entry) {
            state.insert(e);
        }
        state.dirty = false;
    }

    /// Brings the index in line with the bucket: one LIST, GETs of new or
    /// changed keys only, rows of vanished keys dropped.
    pub async fn refresh(&self) -> Result<RefreshStats, StoreError> {
        self.diff(true).await
    }

    /// [`Index::refresh`], publishing what changed when `publish`.
    async fn diff(&self, publish: bool) -> Result<RefreshStats, StoreError> {
        // Only a row held before the LIST began can have vanished from it:
        // one written here meanwhile (a request filed while the bucket was
        // being listed) is not in the listing, and is not gone.
        let before: std::collections::HashSet<RequestId> =
            self.read().rows.keys().copied().collect();
        let listed = list_all(self.store.as_ref(), "requests/").await?;
        let mut stats = RefreshStats {
            listed: listed.len(),
            ..Default::default()
        };
        let listed_keys: BTreeSet<String> = listed.iter().map(|e| e.key.clone()).collect();
        let (to_fetch, vanished) = {
            let state = self.read();
            let present: BTreeSet<RequestId> =
                listed.iter().filter_map(|e| id_of_key(&e.key)).collect();
            let vanished: Vec<RequestId> = state
                .rows
                .keys()
                .filter(|id| before.contains(id) && !present.contains(id))
                .cloned()
                .collect();
            let to_fetch: Vec<Entry> = listed
                .into_iter()
                .filter(|e| {
                    let known = id_of_key(&e.key)
                        .and_then(|id| state.rows.get(&id))
                        .map(|r| &r.etag);
                    let bad = state.problems.get(&e.key).map(|(etag, _)| etag);
                    known != Some(&e.etag) && bad != Some(&e.etag)
                })
                .collect();
            (to_fetch, vanished)
        };
        {
            let mut state = self.write();
            for id in &vanished {
                let removed = state.remove(id);
                if publish {
                    self.publish_removed(*id, removed);
                }
            }
            state.problems.retain(|k, _| listed_keys.contains(k));
        }
        stats.dropped = vanished.len();
        let mut fetches = futures::stream::iter(to_fetch)
            .map(|entry| async move { (entry.key.clone(), self.store.get(&entry.key).await) })
            .buffer_unordered(FETCH_PARALLELISM);
        while let Some((key, result)) = fetches.next().await {
            match result {
                Ok(obj) => {
                    stats.fetched += 1;
                    self.apply(&key, &obj.bytes, &obj.etag, publish);
                }
                Err(StoreError::NotFound(_)) => {
                    if let Some(id) = id_of_key(&key) {
                        let removed = self.write().remove(&id);
                        if publish {
                            self.publish_removed(id, removed);
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(stats)
    }

    fn apply(&self, key: &str, bytes: &[u8], etag: &str, publish: bool) {
        let parsed = decode(key, bytes).and_then(|doc| {
            if live_key(doc.id.as_str()) == key {
                Ok(doc)
            } else {
                Err(crate::store::repo::RepoError::Corrupt {
                    key: key.to_owned(),
                    message: format!("it holds request {}, not the one its key names", doc.id),
                })
            }
        });
        match parsed {
            Ok(doc) => {
                let row = project(&doc, etag, &self.registry);
                let changed = {
                    let mut state = self.write();
                    state.problems.remove(key);
                    state.insert(row.clone())
                };
                if publish {
                    self.publish_row(&row, changed);
                }
                self.recent.put(&Versioned {
                    doc,
                    etag: etag.to_owned(),
                });
            }
            Err(e) => {
                tracing::error!(key, "skipping a document that is not a request: {e}");
                let mut state = self.write();
                if let Some(id) = id_of_key(key) {
                    let removed = state.remove(&id);
                    if publish {
                        self.publish_removed(id, removed);
                    }
                }
                state
                    .problems
                    .insert(key.to_owned(), (etag.to_owned(), e.to_string()));
            }
        }
    }

    /// Writes the snapshot if anything changed since the last one. The
    /// snapshot is itself written with compare-and-swap; losing the race to
    /// another replica is fine (theirs is as good).
    pub async fn save_snapshot(&self) -> Result<bool, StoreError> {
        let mut etag = self.snapshot_etag.lock().await;
        let entries: Vec<StoredEntry> = {
            let mut state = self.write();
            if !state.dirty && etag.is_some() {
                return Ok(false);
            }
            state.dirty = false;
            state.rows.values().map(StoredEntry::of).collect()
        };
        // Written out off the async workers and outside the lock: with
        // 10,000 rows it takes tens of milliseconds.
        let snap = Snapshot {
            format: SNAPSHOT_FORMAT,
            entries,
        };
        let bytes = match tokio::task::spawn_blocking(move || serde_json::to_vec(&snap)).await {
            Ok(Ok(bytes)) => bytes,
            failed => {
                self.write().dirty = true;
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    Err(e) => e.to_string(),
                    Ok(Ok(_)) => String::new(),
                };
                return Err(StoreError::Unavailable(format!(
                    "cannot write out the index snapshot: {why}"
                )));
            }
        };
        let cond = match etag.clone() {
            Some(e) => Precondition::IfMatch(e),
            None => Precondition::IfAbsent,
        };
        match self.store.put(SNAPSHOT_KEY, bytes.into(), cond).await {
            Ok(new) => {
                *etag = Some(new);
                Ok(true)
            }
            Err(StoreError::Conflict(_) | StoreError::NotFound(_)) => {
                // Another replica wrote one; adopt its etag for next time.
                *etag = self.store.get(SNAPSHOT_KEY).await.ok().map(|o| o.etag);
                self.write().dirty = true;
                Ok(false)
            }
            Err(e) => {
                self.write().dirty = true;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests;
