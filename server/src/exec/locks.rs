//! Named in-process locks (one per environment, one per request's plans)
//! that exist only while someone holds or waits for them: a lock no one
//! holds is dropped from the table, so it never grows with the number of
//! requests a process has seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::RwLock;

/// The table of named locks.
#[derive(Default)]
pub struct KeyedLocks {
    map: Mutex<HashMap<String, Arc<RwLock<()>>>>,
}

impl KeyedLocks {
    /// The lock named `key` (the same one for everyone who asks while it
    /// is held or awaited). Locks no one holds any more are dropped first.
    pub fn get(&self, key: String) -> Arc<RwLock<()>> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        Self::drop_unused(&mut map);
        map.entry(key).or_default().clone()
    }

    /// Drops the locks no one holds or waits for.
    pub fn prune(&self) {
        Self::drop_unused(&mut self.map.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// How many locks the table holds.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether the table is empty.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // A handle is only ever cloned from the table, under its mutex: a lock
    // whose one handle is the table's is held, awaited or wanted by no one.
    fn drop_unused(map: &mut HashMap<String, Arc<RwLock<()>>>) {
        map.retain(|_, lock| Arc::strong_count(lock) > 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn locks_no_one_holds_are_dropped() {
        let locks = KeyedLocks::default();
        let env = locks.get("state/sandbox/dev".into());
        let held = env.clone().write_owned().await;
        drop(env);
        let plan = locks.get("plan/r1".into());
        assert_eq!(locks.len(), 2);
        drop(plan);
        locks.prune();
        assert_eq!(locks.len(), 1, "only the held lock stays");
        // Asked for again while held: the same lock, so it still excludes.
        let again = locks.get("state/sandbox/dev".into());
        assert!(again.try_write().is_err(), "the held lock is the same lock");
        drop(held);
        drop(again);
        locks.prune();
        assert!(locks.is_empty(), "nothing held, nothing kept");
    }

    #[tokio::test]
    async fn a_thousand_runs_leave_an_empty_table() {
        let locks = KeyedLocks::default();
        for n in 0..1000 {
            let lock = locks.get(format!("plan/r{n}"));
            let _guard = lock.write_owned().await;
        }
        assert!(locks.len() <= 1, "stale locks are dropped as new ones come");
        locks.prune();
        assert!(locks.is_empty());
    }
}
