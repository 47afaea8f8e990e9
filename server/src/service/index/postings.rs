//! The index's in-memory state: rows by id, posting lists per filter field, interned names.

use super::{IndexEntry, Query};
use app::domain::ids::RequestId;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Dropped rows remembered before the memory is cleared (a late write of
/// one older than that is corrected by the next refresh).
const GONE_KEPT: usize = 100_000;

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
    /// Rows dropped (archived), by the version they were dropped at: an
    /// older write of one read late (from the change log) never brings it
    /// back.
    gone: HashMap<RequestId, u64>,
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

    /// Drops a row for good (archived, or gone from the bucket): its
    /// project and version when there was one. A write of it up to that
    /// version is ignored from now on.
    pub(super) fn remove(&mut self, id: &RequestId) -> Option<(String, u64)> {
        self.remove_at(id, 0)
    }

    /// [`State::remove`], at least at `version` (the document's final one,
    /// as the change log says).
    pub(super) fn remove_at(&mut self, id: &RequestId, version: u64) -> Option<(String, u64)> {
        let old = self.take(id);
        let at = old.as_ref().map_or(version, |o| o.version.max(version));
        if at > 0 || old.is_some() {
            if self.gone.len() >= GONE_KEPT {
                self.gone.clear();
            }
            let kept = self.gone.entry(*id).or_default();
            *kept = (*kept).max(at);
        }
        old.map(|o| (o.project.to_string(), at))
    }

    /// Takes a row out with its postings.
    fn take(&mut self, id: &RequestId) -> Option<IndexEntry> {
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
        Some(old)
    }

    /// Inserts or replaces a row; whether anything a reader sees changed.
    /// A row older than the one held (by version), or than the one
    /// dropped, changes nothing.
    pub(super) fn insert(&mut self, mut e: IndexEntry) -> bool {
        if self
            .rows
            .get(&e.id)
            .is_some_and(|old| e.version < old.version)
            || self.gone.get(&e.id).is_some_and(|v| e.version <= *v)
        {
            return false;
        }
        let changed = self.rows.get(&e.id).is_none_or(|old| {
            (
                old.status.as_str(),
                &old.title,
                &old.updated_at,
                old.drifted,
            ) != (e.status.as_str(), &e.title, &e.updated_at, e.drifted)
        });
        self.take(&e.id);
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

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::status::Status;

    fn row(version: u64, status: Status) -> IndexEntry {
        IndexEntry {
            id: RequestId::generate(1_700_000_000_000, 7),
            project: "sandbox".into(),
            environment: "dev".into(),
            module: "sqs-queue".into(),
            status,
            title: "SQS queue orders".into(),
            requester: "ana".into(),
            updated_at: format!("2026-12-05T10:00:0{version}Z"),
            note: String::new(),
            etag: format!("\"e{version}\""),
            drifted: false,
            version,
        }
    }

    #[test]
    fn a_row_never_gives_way_to_an_older_version() {
        let mut state = State::default();
        assert!(state.insert(row(3, Status::Planning)));
        assert!(!state.insert(row(2, Status::Created)), "older: ignored");
        let id = row(3, Status::Planning).id;
        assert_eq!(state.rows[&id].version, 3);
        assert_eq!(state.counts().get("planning"), Some(&1));
        assert_eq!(state.counts().get("created"), None);
        assert!(state.insert(row(4, Status::PlanReady)), "newer: taken");
        assert!(
            !state.insert(row(4, Status::PlanReady)),
            "the same: no change"
        );
    }

    #[test]
    fn a_dropped_row_never_comes_back_from_an_older_write() {
        let mut state = State::default();
        state.insert(row(5, Status::Applied));
        let id = row(5, Status::Applied).id;
        assert_eq!(state.remove(&id), Some(("sandbox".to_owned(), 5)));
        for late in [2, 5] {
            assert!(!state.insert(row(late, Status::Applied)), "version {late}");
        }
        assert!(state.rows.is_empty());
        // A drop the log reports at a later version than the row held.
        state.insert(row(6, Status::Destroying));
        assert_eq!(state.remove_at(&id, 9), Some(("sandbox".to_owned(), 9)));
        assert!(!state.insert(row(8, Status::Destroying)));
        assert_eq!(state.remove_at(&id, 9), None, "already gone");
    }
}
