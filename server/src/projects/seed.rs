//! The projects of `tfpilot.toml` seeded into the store at start, and the
//! store loaded into the served snapshot — at start, every
//! `index_refresh`, and at once after a change made here — so every
//! replica serves the same projects.
//!
//! A configured project is written create-only when absent and marked
//! "managed by config"; when present, the file's settings win (the record
//! is rewritten when they differ) while its members, visibility and
//! allow-lists — data — are kept. A project that left the file keeps its
//! record, no longer managed by config.

use super::Projects;
use super::store::{ProjectStore, StoredProject};
use crate::clock::Clock;
use crate::config::Project;
use crate::store::StoreError;
use app::domain::ids::ProjectKey;
use app::domain::policy::ProjectAccess;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Who a seeded write is stamped with.
pub const CONFIG_AUTHOR: &str = "tfpilot.toml";

/// What seeding did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    /// Records created.
    pub created: usize,
    /// Records whose settings the file changed.
    pub updated: usize,
    /// Records no longer in the file, released to the admins.
    pub released: usize,
}

/// The store's projects and the snapshot served from them.
#[derive(Clone)]
pub struct Served {
    store: ProjectStore,
    projects: Arc<Projects>,
    clock: Arc<dyn Clock>,
}

impl Served {
    /// `store`'s projects served through `projects`.
    pub fn new(store: ProjectStore, projects: Arc<Projects>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            projects,
            clock,
        }
    }

    /// The records.
    pub fn store(&self) -> &ProjectStore {
        &self.store
    }

    /// The snapshot served.
    pub fn projects(&self) -> &Arc<Projects> {
        &self.projects
    }

    /// Writes the configured projects into the store (see the module).
    pub async fn seed(
        &self,
        configured: &BTreeMap<ProjectKey, Project>,
    ) -> Result<Seeded, StoreError> {
        let mut seeded = Seeded::default();
        for project in configured.values() {
            self.seed_one(project, &mut seeded).await?;
        }
        for mut stored in self.store.list().await? {
            if !stored.managed_by_config || configured.contains_key(&stored.key) {
                continue;
            }
            // One try: a replica that raced us released it already or
            // changed it; the next start tries again.
            let Some((_, etag)) = self.store.get(&stored.key).await? else {
                continue;
            };
            stored.managed_by_config = false;
            self.stamp(&mut stored);
            match self.store.put(&stored, Some(&etag)).await {
                Ok(()) => {
                    tracing::info!(project = %stored.key, "no longer in tfpilot.toml: its settings are data now");
                    seeded.released += 1;
                }
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(seeded)
    }

    async fn seed_one(&self, project: &Project, seeded: &mut Seeded) -> Result<(), StoreError> {
        loop {
            let written = match self.store.get(&project.key).await? {
                None => {
                    let at = self.clock.rfc3339_millis();
                    let mut fresh =
                        StoredProject::new(project, ProjectAccess::default(), CONFIG_AUTHOR, &at);
                    fresh.managed_by_config = true;
                    self.store.put(&fresh, None).await.map(|()| {
                        seeded.created += 1;
                    })
                }
                Some((stored, _)) if stored.managed_by_config && stored.project() == *project => {
                    return Ok(());
                }
                Some((mut stored, etag)) => {
                    stored.set_settings(project);
                    stored.managed_by_config = true;
                    self.stamp(&mut stored);
                    self.store.put(&stored, Some(&etag)).await.map(|()| {
                        seeded.updated += 1;
                    })
                }
            };
            match written {
                Ok(()) => return Ok(()),
                // Another replica wrote it meanwhile: read it again.
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn stamp(&self, stored: &mut StoredProject) {
        stored.version += 1;
        stored.updated_at = self.clock.rfc3339_millis();
        stored.updated_by = CONFIG_AUTHOR.to_owned();
    }

    /// Serves every stored project; returns how many.
    pub async fn load(&self) -> Result<usize, StoreError> {
        let stored = self.store.list().await?;
        let n = stored.len();
        let entries: Vec<_> = stored.iter().map(StoredProject::entry).collect();
        if entries != self.current() {
            self.projects.replace(entries);
        }
        Ok(n)
    }

    /// The entries served now.
    fn current(&self) -> Vec<super::Entry> {
        let snap = self.projects.snapshot();
        snap.projects
            .values()
            .map(|p| super::Entry {
                project: (**p).clone(),
                access: snap.policy.access(p.key.as_str()).clone(),
            })
            .collect()
    }

    /// Loads the store every `every`, so projects created or changed on
    /// another replica are served here too.
    pub async fn keep_fresh(self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.load().await {
                tracing::warn!("cannot reload the projects (will retry): {e}");
            }
        }
    }
}
