//! The projects the server serves right now, as one shared snapshot: each
//! project's settings (repo, environments, executor, Slack channel) and
//! the policy that decides with each project's members and allow-lists.
//!
//! Services, pages and adapters read it on every use, so a project created
//! or changed while the server runs counts at once; whoever changes the
//! projects calls [`Projects::replace`], and [`Projects::changes`] tells
//! anyone who keeps something per project.
//!
//! The projects themselves live in the store (`store.rs`, one record per
//! project); `seed.rs` writes the configured ones into it at start and
//! loads the store into the snapshot, then keeps it fresh.

pub mod per_project;
pub mod seed;
pub mod store;

use crate::config::{Config, Project};
use app::domain::ids::ProjectKey;
use app::domain::policy::{Actor, Policy, ProjectAccess};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

/// One project as the server serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its settings.
    pub project: Project,
    /// Who sees it and with which role.
    pub access: ProjectAccess,
}

/// The projects and the policy at one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Every project by key, in key order.
    pub projects: BTreeMap<ProjectKey, Arc<Project>>,
    /// The deployment's guardrails with each project's access rules.
    pub policy: Arc<Policy>,
}

/// The projects served, replaced as a whole when one changes.
pub struct Projects {
    base: Policy,
    current: RwLock<Arc<Snapshot>>,
    changed: watch::Sender<u64>,
}

impl Projects {
    /// `entries` under the deployment's guardrails `base` (whose own
    /// `projects` are ignored).
    pub fn new(base: Policy, entries: impl IntoIterator<Item = Entry>) -> Self {
        let (changed, _) = watch::channel(0);
        let me = Self {
            base,
            current: RwLock::new(Arc::default()),
            changed,
        };
        me.replace(entries);
        me
    }

    /// The configured projects, open to everyone at their global role.
    pub fn from_config(config: &Config) -> Self {
        Self::new(
            config.policy.clone(),
            config.projects.values().map(|p| Entry {
                project: p.clone(),
                access: ProjectAccess::default(),
            }),
        )
    }

    /// The projects and policy now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// One project's settings.
    pub fn get(&self, key: &ProjectKey) -> Option<Arc<Project>> {
        self.snapshot().projects.get(key).cloned()
    }

    /// Every project, in key order.
    pub fn all(&self) -> Vec<Arc<Project>> {
        self.snapshot().projects.values().cloned().collect()
    }

    /// The policy with every project's access rules.
    pub fn policy(&self) -> Arc<Policy> {
        self.snapshot().policy.clone()
    }

    /// The projects `actor` sees, in key order.
    pub fn visible_to(&self, actor: &Actor) -> Vec<Arc<Project>> {
        let snap = self.snapshot();
        snap.projects
            .values()
            .filter(|p| snap.policy.sees(p.key.as_str(), actor))
            .cloned()
            .collect()
    }

    /// Replaces every project at once and tells whoever watches.
    pub fn replace(&self, entries: impl IntoIterator<Item = Entry>) {
        let mut policy = self.base.clone();
        policy.projects.clear();
        let mut projects = BTreeMap::new();
        for Entry { project, access } in entries {
            policy.projects.insert(project.key.to_string(), access);
            projects.insert(project.key.clone(), Arc::new(project));
        }
        let next = Arc::new(Snapshot {
            projects,
            policy: Arc::new(policy),
        });
        match self.current.write() {
            Ok(mut s) => *s = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
        self.changed.send_modify(|n| *n += 1);
    }

    /// A receiver that sees a new number each time the projects change.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

impl std::fmt::Debug for Projects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projects")
            .field("projects", &self.snapshot().projects.keys())
            .finish()
    }
}

/// The projects one caller sees: all of them (the common case, no set to
/// check), or a set of keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Seen {
    /// Every project.
    #[default]
    All,
    /// Only these project keys.
    Only(Arc<std::collections::BTreeSet<String>>),
}

impl Seen {
    /// Whether `project` is among them.
    pub fn has(&self, project: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(keys) => keys.contains(project),
        }
    }
}

impl Projects {
    /// The projects `actor` sees, as a set to filter rows by.
    pub fn seen_by(&self, actor: &Actor) -> Seen {
        let snap = self.snapshot();
        let keys: std::collections::BTreeSet<String> = snap
            .projects
            .keys()
            .filter(|k| snap.policy.sees(k.as_str(), actor))
            .map(|k| k.to_string())
            .collect();
        if keys.len() == snap.projects.len() {
            Seen::All
        } else {
            Seen::Only(Arc::new(keys))
        }
    }
}

impl Projects {
    /// The projects `actor` may file requests in (seen, and a role there
    /// that files), in key order.
    pub fn fileable_by(&self, actor: &Actor) -> Vec<Arc<Project>> {
        use app::domain::policy::{Operation, decide_operation};
        let snap = self.snapshot();
        snap.projects
            .values()
            .filter(|p| {
                snap.policy
                    .in_project(p.key.as_str(), actor)
                    .is_some_and(|a| decide_operation(Operation::File, &a).is_allowed())
            })
            .cloned()
            .collect()
    }
}
