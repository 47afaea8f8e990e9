//! The request documents read or written last, kept by etag: a read of a
//! request the index says has not changed since is answered from memory
//! instead of the store.
//!
//! The index holds the etag of every live request's newest version (its
//! own writes at once, other replicas' through the change log within a
//! moment), so a kept document is served only while it is still that
//! version. A request the index does not hold (archived, or written by
//! something outside tfpilot and not yet refreshed) is always read from
//! the store. The documents come from the index's own reads of the bucket
//! (its cold start, its refreshes), from this replica's writes, and from
//! reads that missed.

use crate::store::repo::Versioned;
use app::domain::ids::RequestId;
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// Documents kept, least recently read dropped first.
pub const CAPACITY: usize = 16_384;

/// The last documents read.
pub struct Recent {
    docs: Mutex<lru::LruCache<RequestId, Versioned>>,
}

impl Default for Recent {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl Recent {
    /// Keeping at most `capacity` documents (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            docs: Mutex::new(lru::LruCache::new(capacity)),
        }
    }

    fn docs(&self) -> std::sync::MutexGuard<'_, lru::LruCache<RequestId, Versioned>> {
        self.docs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The kept document of `id`, if it is the version at `etag`.
    pub fn get(&self, id: &RequestId, etag: &str) -> Option<Versioned> {
        let mut docs = self.docs();
        match docs.get(id) {
            Some(kept) if kept.etag == etag => Some(kept.clone()),
            Some(_) => {
                docs.pop(id);
                None
            }
            None => None,
        }
    }

    /// Keeps a document just read.
    pub fn put(&self, read: &Versioned) {
        self.docs().put(read.doc.id, read.clone());
    }

    /// `id` as the index holds it at `current` (its etag; `None` when the
    /// index does not hold it): the kept document when it is that
    /// version, else what `read` gets from the store, kept when it is.
    pub async fn read<E>(
        &self,
        id: &RequestId,
        current: Option<String>,
        read: impl Future<Output = Result<Versioned, E>>,
    ) -> Result<Versioned, E> {
        if let Some(kept) = current.as_deref().and_then(|etag| self.get(id, etag)) {
            return Ok(kept);
        }
        let fresh = read.await?;
        if current.is_some_and(|etag| etag == fresh.etag) {
            self.put(&fresh);
        }
        Ok(fresh)
    }

    /// Forgets every document.
    pub fn clear(&self) {
        self.docs().clear();
    }

    /// Documents kept.
    pub fn len(&self) -> usize {
        self.docs().len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
