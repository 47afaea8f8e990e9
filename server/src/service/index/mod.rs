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

pub mod log;
mod postings;
pub mod recent;
mod sync;

pub use sync::{RefreshStats, SNAPSHOT_KEY};

use super::feed::{Change, Feed};
use crate::projects::Seen;
use crate::store::ObjectStore;
use app::api::{Filters, Row, RowFields};
use app::domain::ids::RequestId;
use app::domain::registry::Registry;
use app::domain::request::Request;
use app::domain::status::{Status, derive_status};
use postings::State;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// One row of the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexEntry {
    /// Request id (sorts by creation time).
    pub id: RequestId,
    /// Project key.
    pub project: Arc<str>,
    /// Environment.
    pub environment: Arc<str>,
    /// Module type.
    pub module: Arc<str>,
    /// Derived status, written as its name (`failed` whatever the step).
    #[serde(serialize_with = "status_name")]
    pub status: Status,
    /// Module title and the request's name.
    pub title: String,
    /// Requester login.
    pub requester: Arc<str>,
    /// Last write.
    pub updated_at: String,
    /// What qualifies the status (`main moved: planning again`, `blocked: …`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Etag of the indexed version.
    pub etag: String,
    /// Whether the newest drift run found it drifted.
    #[serde(default)]
    pub drifted: bool,
    /// The document's version: a row never gives way to an older one (not
    /// shown; the snapshot and the change log keep it).
    #[serde(skip)]
    pub version: u64,
}

fn status_name<S: Serializer>(status: &Status, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(status.as_str())
}

impl IndexEntry {
    /// What the dashboard filters look at.
    pub fn fields(&self) -> RowFields<'_> {
        RowFields {
            id: self.id.as_str(),
            status: self.status.as_str(),
            environment: &self.environment,
            module: &self.module,
            project: &self.project,
            title: &self.title,
            requester: &self.requester,
            drifted: self.drifted,
        }
    }

    /// The row as the dashboard and the event stream send it.
    pub fn row(&self) -> Row {
        Row {
            id: self.id.to_string(),
            title: self.title.clone(),
            project: self.project.to_string(),
            environment: self.environment.to_string(),
            module: self.module.to_string(),
            status: self.status.as_str().to_owned(),
            requester: self.requester.to_string(),
            updated_at: self.updated_at.clone(),
            note: self.note.clone(),
            etag: self.etag.clone(),
            drifted: self.drifted,
        }
    }
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
    /// Text in id, title or requester, ignoring case (see
    /// `app::api::Matcher::matches`).
    pub text: Option<String>,
    /// Drifted (`Some(true)`) or not (`Some(false)`).
    pub drift: Option<bool>,
    /// Page size.
    pub limit: usize,
    /// Continue after this id (newest first).
    pub cursor: Option<RequestId>,
    /// The projects the caller sees (rows of the others never match).
    pub seen: Seen,
}

impl Query {
    /// The dashboard filters this query asks for, for the one predicate.
    fn filters(&self) -> Filters {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Filters {
            status: text(&self.status),
            environment: text(&self.environment),
            module: text(&self.module),
            project: text(&self.project),
            q: text(&self.text),
            drift: match self.drift {
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
                None => String::new(),
            },
            cursor: String::new(),
        }
    }
}

/// A page of results, newest first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueryPage {
    /// Matching rows.
    pub items: Vec<IndexEntry>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// The index of live requests.
pub struct Index {
    store: Arc<dyn ObjectStore>,
    registry: Arc<Registry>,
    state: RwLock<State>,
    snapshot_etag: tokio::sync::Mutex<Option<String>>,
    changes: Feed,
    log: log::ChangeLog,
    /// Documents read or written last.
    recent: recent::Recent,
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
        status: derive_status(doc),
        title,
        requester: doc.created_by.as_str().into(),
        updated_at: doc.updated_at.clone(),
        note: app::domain::status::note(doc).unwrap_or_default(),
        etag: etag.to_owned(),
        drifted: doc.drift.is_some(),
        version: doc.version,
    }
}

impl Index {
    /// An empty index over the requests bucket.
    pub fn new(store: Arc<dyn ObjectStore>, registry: Arc<Registry>) -> Self {
        Self {
            store,
            registry,
            state: RwLock::new(State::default()),
            snapshot_etag: tokio::sync::Mutex::new(None),
            changes: Feed::default(),
            log: log::ChangeLog::default(),
            recent: recent::Recent::default(),
        }
    }

    /// The documents kept in memory ([`recent`]).
    pub fn recent(&self) -> &recent::Recent {
        &self.recent
    }

    /// Request `id`'s document: the one kept in memory while the index
    /// says it is current, else what `read` gets from the store.
    pub async fn document<E>(
        &self,
        id: &RequestId,
        read: impl Future<Output = Result<crate::store::repo::Versioned, E>>,
    ) -> Result<crate::store::repo::Versioned, E> {
        self.recent.read(id, self.etag_of(id), read).await
    }

    /// The numbered changes (every replica's, read from the change log),
    /// to follow from a number.
    pub fn changes(&self) -> &Feed {
        &self.changes
    }

    /// A row written here: into the change log (the feed publishes it
    /// when the log is read back), or, with no log, into the feed.
    fn publish_row(&self, row: &IndexEntry, changed: bool) {
        if !changed {
        } else if self.log.attached() {
            self.log.append(log::Item::Row(sync::StoredEntry::of(row)));
        } else {
            self.changes.publish(Change::Request {
                row: Box::new(row.row()),
            });
        }
    }

    fn publish_removed(&self, id: RequestId, removed: Option<(String, u64)>) {
        let Some((project, version)) = removed else {
            return;
        };
        if self.log.attached() {
            self.log.append(log::Item::Removed {
                id,
                project,
                version,
            });
        } else {
            self.changes.publish(Change::Removed {
                id: id.to_string(),
                project,
            });
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a local write.
    pub fn upsert(&self, doc: &Request, etag: &str) {
        let row = project(doc, etag, &self.registry);
        let changed = self.write().insert(row.clone());
        self.publish_row(&row, changed);
        self.recent.put(&crate::store::repo::Versioned {
            doc: doc.clone(),
            etag: etag.to_owned(),
        });
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
        self.read().counts()
    }

    /// Rows per status in the projects `seen` (every status named, zero
    /// or not, when only some projects are seen).
    pub fn counts_in(&self, seen: &Seen) -> BTreeMap<String, usize> {
        match seen {
            Seen::All => self.counts(),
            Seen::Only(projects) => self.read().counts_in(projects),
        }
    }

    /// A page of rows matching `q`, newest first: the posting lists narrow
    /// the candidates, the dashboard's one predicate
    /// (`app::api::Matcher`) decides each row.
    pub fn query(&self, q: &Query) -> QueryPage {
        let state = self.read();
        let limit = q.limit.clamp(1, 500);
        let filters = q.filters();
        let matcher = filters.matcher();
        let Some(ids) = state.candidates(q) else {
            return QueryPage::default();
        };
        let mut items = Vec::with_capacity(limit);
        let mut more = false;
        for id in ids {
            let Some(row) = state.rows.get(id) else {
                continue;
            };
            if !q.seen.has(&row.project) || !matcher.matches(&row.fields()) {
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

    /// The etag of the newest version of `id` the index holds.
    pub fn etag_of(&self, id: &RequestId) -> Option<String> {
        self.read().rows.get(id).map(|row| row.etag.clone())
    }

    /// The rows whose id starts with `prefix` (lowercase), oldest first,
    /// at most `limit`: a range of the rows by id, not a scan.
    pub fn with_prefix(&self, prefix: &str, limit: usize) -> Vec<IndexEntry> {
        // `0` is the smallest character of the ids' alphabet.
        let Ok(start) = RequestId::parse(&format!("{prefix:0<16}")) else {
            return Vec::new();
        };
        self.read()
            .rows
            .range(start..)
            .take_while(|(id, _)| id.as_str().starts_with(prefix))
            .take(limit)
            .map(|(_, row)| row.clone())
            .collect()
    }
}
