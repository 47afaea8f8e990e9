//! The index's in-memory state: rows by id, posting lists per filter field, interned names.

use super::{IndexEntry, Query};
use app::domain::ids::RequestId;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Value → ids having it, for one field.
type Postings = HashMap<Arc<str>, BTreeSet<RequestId>>;

/// Ids newest first.
pub(super) type Ids<'a> = Box<dyn Iterator<Item = &'a RequestId> + 'a>;

/// Every row and the posting lists over them.
#[derive(Default)]
pub(super) struct State {
    pub(super) rows: BTreeMap<RequestId, IndexEntry>,
    by_status: Postings,
    by_environment: Postings,
    by_module: Postings,
    by_project: Postings,
    by_drift: Postings,
    interned: BTreeSet<Arc<str>>,
    /// Keys that are not requests: key → (etag, message).
    pub(super) problems: BTreeMap<String, (String, String)>,
    /// Changed since the last snapshot.
    pub(super) dirty: bool,
}

/// The values of a row the posting lists are keyed by, in the order of
/// [`State::postings`].
fn keys(e: &IndexEntry) -> [&str; 5] {
    [
        e.status.as_str(),
        &e.environment,
        &e.module,
        &e.project,
        drift_key(e.drifted),
    ]
}

/// The drift posting list a row is in.
fn drift_key(drifted: bool) -> &'static str {
    if drifted { "yes" } else { "no" }
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

    fn postings(&mut self) -> [&mut Postings; 5] {
        [
            &mut self.by_status,
            &mut self.by_environment,
            &mut self.by_module,
            &mut self.by_project,
            &mut self.by_drift,
        ]
    }

    /// Drops a row; whether there was one.
    /// Drops a row; its project when there was one.
    pub(super) fn remove(&mut self, id: &RequestId) -> Option<String> {
        let old = self.rows.remove(id)?;
        for (map, value) in self.postings().into_iter().zip(keys(&old)) {
            if let Some(set) = map.get_mut(value) {
                set.remove(id);
                if set.is_empty() {
                    map.remove(value);
                }
            }
        }
        self.dirty = true;
        Some(old.project.to_string())
    }

    /// Inserts or replaces a row; whether anything a reader sees changed.
    pub(super) fn insert(&mut self, mut e: IndexEntry) -> bool {
        let changed = self.rows.get(&e.id).is_none_or(|old| {
            (
                old.status.as_str(),
                &old.title,
                &old.updated_at,
                old.drifted,
            ) != (e.status.as_str(), &e.title, &e.updated_at, e.drifted)
        });
        self.remove(&e.id);
        e.project = self.intern(&e.project);
        e.environment = self.intern(&e.environment);
        e.module = self.intern(&e.module);
        e.requester = self.intern(&e.requester);
        let status = self.intern(e.status.as_str());
        let drift = self.intern(drift_key(e.drifted));
        let values = [
            status,
            e.environment.clone(),
            e.module.clone(),
            e.project.clone(),
            drift,
        ];
        for (map, value) in self.postings().into_iter().zip(values) {
            map.entry(value).or_default().insert(e.id);
        }
        self.rows.insert(e.id, e);
        self.dirty = true;
        changed
    }

    /// Rows per status name.
    pub(super) fn counts(&self) -> BTreeMap<String, usize> {
        self.by_status
            .iter()
            .map(|(k, v)| (k.to_string(), v.len()))
            .collect()
    }

    /// Rows per status in `projects` only: each status the index knows,
    /// counted over the projects' posting lists.
    pub(super) fn counts_in(&self, projects: &BTreeSet<String>) -> BTreeMap<String, usize> {
        let mut out: BTreeMap<String, usize> =
            self.by_status.keys().map(|k| (k.to_string(), 0)).collect();
        for project in projects {
            for id in self.by_project.get(project.as_str()).into_iter().flatten() {
                if let Some(row) = self.rows.get(id) {
                    *out.entry(row.status.as_str().to_owned()).or_default() += 1;
                }
            }
        }
        out
    }

    /// The ids worth testing for `q`, newest first and below its cursor:
    /// those of the shortest posting list among the fields `q` sets (every
    /// id when it sets none), or `None` when a value it asks for has no
    /// row at all.
    pub(super) fn candidates(&self, q: &Query) -> Option<Ids<'_>> {
        let drift = q.drift.map(|d| drift_key(d).to_owned());
        let wanted = [&q.status, &q.environment, &q.module, &q.project, &drift];
        let maps = [
            &self.by_status,
            &self.by_environment,
            &self.by_module,
            &self.by_project,
            &self.by_drift,
        ];
        let mut shortest: Option<&BTreeSet<RequestId>> = None;
        for (map, value) in maps.into_iter().zip(wanted) {
            if let Some(value) = value {
                let set = map.get(value.as_str())?;
                if shortest.is_none_or(|s| set.len() < s.len()) {
                    shortest = Some(set);
                }
            }
        }
        Some(match (shortest, q.cursor.as_ref()) {
            (Some(set), Some(c)) => Box::new(set.range(..c).rev()),
            (Some(set), None) => Box::new(set.iter().rev()),
            (None, Some(c)) => Box::new(self.rows.range(..c).rev().map(|(id, _)| id)),
            (None, None) => Box::new(self.rows.keys().rev()),
        })
    }
}
