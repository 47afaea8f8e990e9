//! A small bounded cache of what never changes once read (a finished
//! plan, a completed run): the oldest entry goes when it is full.

use std::collections::VecDeque;
use std::sync::Mutex;

/// How many entries each cache keeps.
const ENTRIES: usize = 256;

/// Values by key, at most [`ENTRIES`].
pub struct Bounded<T>(Mutex<VecDeque<(String, T)>>);

impl<T> Default for Bounded<T> {
    fn default() -> Self {
        Self(Mutex::new(VecDeque::new()))
    }
}

impl<T: Clone> Bounded<T> {
    /// The value of `key`, if kept.
    pub fn get(&self, key: &str) -> Option<T> {
        let entries = self.0.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// Keeps `value` under `key`.
    pub fn put(&self, key: String, value: T) {
        let mut entries = self.0.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|(k, _)| *k != key);
        if entries.len() >= ENTRIES {
            entries.pop_front();
        }
        entries.push_back((key, value));
    }
}
