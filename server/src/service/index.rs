//! The request index: an in-memory projection of every live request, kept
//! fresh without re-reading the bucket.
//!
//! - cold start loads a compacted snapshot object, LISTs `requests/`, and
//!   GETs only keys whose etag differs from the snapshot or that are new;
//! - every local write updates it directly;
//! - a periodic LIST diff picks up other replicas' writes (GETs only what
//!   changed, drops what was deleted);
//! - documents that are not requests are skipped, logged once per version,
//!   and reported by `/readyz`.

use crate::store::repo::{decode, live_key};
use crate::store::{Entry, ObjectStore, Precondition, StoreError, list_all};
use app::domain::ids::RequestId;
use app::domain::registry::Registry;
use app::domain::request::Request;
use app::domain::status::derive_status;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

/// Where the snapshot lives in the requests bucket.
pub const SNAPSHOT_KEY: &str = "index/snapshot.json";
const SNAPSHOT_FORMAT: u32 = 1;
/// Parallel GETs during a refresh.
const FETCH_PARALLELISM: usize = 16;

/// One row of the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// Request id (sorts by creation time).
    pub id: RequestId,
    /// Project key.
    pub project: Arc<str>,
    /// Environment.
    pub environment: Arc<str>,
    /// Module type.
    pub module: Arc<str>,
    /// Derived status name.
    pub status: Arc<str>,
    /// Module title and the request's name.
    pub title: String,
    /// Requester login.
    pub requester: Arc<str>,
    /// Last write.
    pub updated_at: String,
    /// What qualifies the status (`main moved: planning again`, `blocked: …`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Etag of the indexed version.
    pub etag: String,
}

/// A query of the index.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Status name.
    pub status: Option<String>,
    /// Environment.
    pub environment: Option<String>,
    /// Module type.
    pub module: Option<String>,
    /// Project.
    pub project: Option<String>,
    /// Case-insensitive text in id, title or requester.
    pub text: Option<String>,
    /// Page size.
    pub limit: usize,
    /// Continue after this id (newest first).
    pub cursor: Option<RequestId>,
}

/// A page of results, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct QueryPage {
    /// Matching rows.
    pub items: Vec<IndexEntry>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// A change of the index, as the events stream sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// A request was filed or changed (its new row).
    Request {
        /// The row.
        row: IndexEntry,
    },
    /// A request left the live set (archived after destroy).
    Removed {
        /// Its id.
        id: RequestId,
    },
}

/// Value → ids having it, for one field.
type Postings = HashMap<Arc<str>, BTreeSet<RequestId>>;

#[derive(Default)]
struct State {
    rows: BTreeMap<RequestId, IndexEntry>,
    by_status: Postings,
    by_environment: Postings,
    by_module: Postings,
    by_project: Postings,
    interned: BTreeSet<Arc<str>>,
    /// Keys that are not requests: key → (etag, message).
    problems: BTreeMap<String, (String, String)>,
    dirty: bool,
}

impl State {
    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(found) = self.interned.get(s) {
            return found.clone();
        }
        let arc: Arc<str> = Arc::from(s);
        self.interned.insert(arc.clone());
        arc
    }

    fn sets(&mut self, e: &IndexEntry) -> [(&mut Postings, Arc<str>); 4] {
        [
            (&mut self.by_status, e.status.clone()),
            (&mut self.by_environment, e.environment.clone()),
            (&mut self.by_module, e.module.clone()),
            (&mut self.by_project, e.project.clone()),
        ]
    }

    fn remove(&mut self, id: &RequestId) -> bool {
        let Some(old) = self.rows.remove(id) else {
            return false;
        };
        {
            for (map, value) in self.sets(&old) {
                if let Some(set) = map.get_mut(&value) {
                    set.remove(id);
                    if set.is_empty() {
                        map.remove(&value);
                    }
                }
            }
            self.dirty = true;
        }
        true
    }

    /// Inserts or replaces a row; whether anything a reader sees changed.
    fn insert(&mut self, mut e: IndexEntry) -> bool {
        let changed = self.rows.get(&e.id).is_none_or(|old| {
            (&old.status, &old.title, &old.updated_at) != (&e.status, &e.title, &e.updated_at)
        });
        self.remove(&e.id);
        e.project = self.intern(&e.project);
        e.environment = self.intern(&e.environment);
        e.module = self.intern(&e.module);
        e.status = self.intern(&e.status);
        e.requester = self.intern(&e.requester);
        for (map, value) in self.sets(&e) {
            map.entry(value).or_default().insert(e.id);
        }
        self.rows.insert(e.id, e);
        self.dirty = true;
        changed
    }
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    entries: Vec<IndexEntry>,
}

/// The index of live requests.
pub struct Index {
    store: Arc<dyn ObjectStore>,
    registry: Arc<Registry>,
    state: RwLock<State>,
    snapshot_etag: tokio::sync::Mutex<Option<String>>,
    changes: super::feed::Feed,
}

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

/// A request as people name it: the module's title and the request's
/// `name` input (`S3 bucket logs-archive`).
pub fn title(doc: &Request, registry: &Registry) -> String {
    let module_title = registry
        .module(&doc.module)
        .map_or(doc.module.as_str(), |m| m.title.as_str());
    match doc.config.get("name").and_then(|v| v.as_str()) {
        Some(name) => format!("{module_title} {name}"),
        None => module_title.to_owned(),
    }
}

/// The row of a request.
pub fn project(doc: &Request, etag: &str, registry: &Registry) -> IndexEntry {
    let title = title(doc, registry);
    IndexEntry {
        id: doc.id,
        project: doc.project.as_str().into(),
        environment: doc.environment.as_str().into(),
        module: doc.module.as_str().into(),
        status: derive_status(doc).as_str().into(),
        title,
        requester: doc.created_by.as_str().into(),
        updated_at: doc.updated_at.clone(),
        note: app::domain::status::note(doc).unwrap_or_default(),
        etag: etag.to_owned(),
    }
}

fn id_of_key(key: &str) -> Option<RequestId> {
    let name = key.strip_prefix("requests/")?.strip_suffix(".json")?;
    RequestId::parse(name).ok()
}

impl Index {
    /// An empty index over the requests bucket.
    pub fn new(store: Arc<dyn ObjectStore>, registry: Arc<Registry>) -> Self {
        Self {
            store,
            registry,
            state: RwLock::new(State::default()),
            snapshot_etag: tokio::sync::Mutex::new(None),
            changes: super::feed::Feed::default(),
        }
    }

    /// The numbered changes (local writes and what refreshes pick up from
    /// other replicas), to follow from a number.
    pub fn changes(&self) -> &super::feed::Feed {
        &self.changes
    }

    fn publish_row(&self, row: &IndexEntry, changed: bool) {
        if changed {
            self.changes.publish(Change::Request { row: row.clone() });
        }
    }

    fn publish_removed(&self, id: RequestId, changed: bool) {
        if changed {
            self.changes.publish(Change::Removed { id });
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Cold start: the snapshot (if any), then a refresh that fetches only
    /// what the snapshot does not already have at the same etag.
    pub async fn load(&self) -> Result<RefreshStats, StoreError> {
        match self.store.get(SNAPSHOT_KEY).await {
            Ok(obj) => match serde_json::from_slice::<Snapshot>(&obj.bytes) {
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
        self.refresh().await
    }

    fn restore(&self, entries: Vec<IndexEntry>) {
        let mut state = self.write();
        for e in entries {
            state.insert(e);
        }
        state.dirty = false;
    }

    /// Brings the index in line with the bucket: one LIST, GETs of new or
    /// changed keys only, rows of vanished keys dropped.
    pub async fn refresh(&self) -> Result<RefreshStats, StoreError> {
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
                .filter(|id| !present.contains(id))
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
                self.publish_removed(*id, removed);
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
                    self.apply(&key, &obj.bytes, &obj.etag);
                }
                Err(StoreError::NotFound(_)) => {
                    if let Some(id) = id_of_key(&key) {
                        let removed = self.write().remove(&id);
                        self.publish_removed(id, removed);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(stats)
    }

    fn apply(&self, key: &str, bytes: &[u8], etag: &str) {
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
                self.publish_row(&row, changed);
            }
            Err(e) => {
                tracing::error!(key, "skipping a document that is not a request: {e}");
                let mut state = self.write();
                if let Some(id) = id_of_key(key) {
                    let removed = state.remove(&id);
                    self.publish_removed(id, removed);
                }
                state
                    .problems
                    .insert(key.to_owned(), (etag.to_owned(), e.to_string()));
            }
        }
    }

    /// Records a local write.
    pub fn upsert(&self, doc: &Request, etag: &str) {
        let row = project(doc, etag, &self.registry);
        let changed = self.write().insert(row.clone());
        self.publish_row(&row, changed);
    }

    /// Drops a request (archived).
    pub fn remove(&self, id: &RequestId) {
        let removed = self.write().remove(id);
        self.publish_removed(*id, removed);
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.read().rows.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys skipped because they are not requests, with the reason.
    pub fn problems(&self) -> Vec<(String, String)> {
        self.read()
            .problems
            .iter()
            .map(|(k, (_, m))| (k.clone(), m.clone()))
            .collect()
    }

    /// Rows per status.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.read()
            .by_status
            .iter()
            .map(|(k, v)| (k.to_string(), v.len()))
            .collect()
    }

    /// A page of rows matching `q`, newest first.
    pub fn query(&self, q: &Query) -> QueryPage {
        let state = self.read();
        let limit = q.limit.clamp(1, 500);
        let text = q
            .text
            .as_ref()
            .map(|t| t.to_lowercase())
            .filter(|t| !t.is_empty());
        let filters: [(&Postings, &Option<String>); 4] = [
            (&state.by_status, &q.status),
            (&state.by_environment, &q.environment),
            (&state.by_module, &q.module),
            (&state.by_project, &q.project),
        ];
        let mut candidate_sets = Vec::new();
        for (map, wanted) in filters {
            if let Some(value) = wanted {
                match map.get(value.as_str()) {
                    Some(set) => candidate_sets.push(set),
                    None => {
                        return QueryPage {
                            items: vec![],
                            next_cursor: None,
                        };
                    }
                }
            }
        }
        candidate_sets.sort_by_key(|s| s.len());
        let matches = |row: &IndexEntry| {
            candidate_sets
                .iter()
                .skip(1)
                .all(|set| set.contains(&row.id))
                && text.as_ref().is_none_or(|t| {
                    row.id.as_str().contains(t.as_str())
                        || row.title.to_lowercase().contains(t.as_str())
                        || row.requester.to_lowercase().contains(t.as_str())
                })
        };
        let upper = q.cursor.as_ref();
        let ids: Box<dyn Iterator<Item = &RequestId>> = match (candidate_sets.first(), upper) {
            (Some(set), Some(c)) => Box::new(set.range(..c).rev()),
            (Some(set), None) => Box::new(set.iter().rev()),
            (None, Some(c)) => Box::new(state.rows.range(..c).rev().map(|(id, _)| id)),
            (None, None) => Box::new(state.rows.keys().rev()),
        };
        let mut items = Vec::with_capacity(limit);
        let mut more = false;
        for id in ids {
            let Some(row) = state.rows.get(id) else {
                continue;
            };
            if !matches(row) {
                continue;
            }
            if items.len() == limit {
                more = true;
                break;
            }
            items.push(row.clone());
        }
        let next_cursor = more
            .then(|| items.last().map(|r| r.id.to_string()))
            .flatten();
        QueryPage { items, next_cursor }
    }

    /// Writes the snapshot if anything changed since the last one. The
    /// snapshot is itself written with compare-and-swap; losing the race to
    /// another replica is fine (theirs is as good).
    pub async fn save_snapshot(&self) -> Result<bool, StoreError> {
        let mut etag = self.snapshot_etag.lock().await;
        let bytes = {
            let mut state = self.write();
            if !state.dirty && etag.is_some() {
                return Ok(false);
            }
            state.dirty = false;
            let snap = Snapshot {
                format: SNAPSHOT_FORMAT,
                entries: state.rows.values().cloned().collect(),
            };
            serde_json::to_vec(&snap).expect("serializes")
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
