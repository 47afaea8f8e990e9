//! Small JSON records in a store, written with compare-and-swap: create-only
//! claims, versioned replaces and deletes. The Slack app keeps its seen
//! events, drafts and approval messages here; remediation policies too.

use crate::store::{ObjectStore, Precondition, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// JSON records, written with compare-and-swap.
#[derive(Clone)]
pub struct Records {
    store: Arc<dyn ObjectStore>,
}

/// A record read with its version.
pub struct Stored<T> {
    /// The record.
    pub value: T,
    /// Its entity tag, for the next write.
    pub etag: String,
}

impl Records {
    /// Records in `store`.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    /// The record at `key`, if any.
    pub async fn get<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<Stored<T>>, StoreError> {
        match self.store.get(key).await {
            Ok(obj) => {
                let value = serde_json::from_slice(&obj.bytes)
                    .map_err(|e| StoreError::Invalid(format!("{key}: {e}")))?;
                Ok(Some(Stored {
                    value,
                    etag: obj.etag,
                }))
            }
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes `value` at `key`: created when `etag` is `None` (refused with
    /// a conflict when it exists), else replacing exactly that version.
    pub async fn put<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        etag: Option<&str>,
    ) -> Result<String, StoreError> {
        let bytes =
            serde_json::to_vec(value).map_err(|e| StoreError::Invalid(format!("{key}: {e}")))?;
        let cond = match etag {
            None => Precondition::IfAbsent,
            Some(tag) => Precondition::IfMatch(tag.to_owned()),
        };
        let written = self.store.put(key, bytes.into(), cond).await;
        if etag.is_some() && matches!(written, Err(StoreError::Conflict(_))) {
            // The caller reads again and decides; counted as a conflict only.
            crate::meters::cas_conflict("record", false);
        }
        written
    }

    /// Writes `value` at `key`, whatever was there.
    pub async fn replace<T: Serialize>(&self, key: &str, value: &T) -> Result<String, StoreError> {
        let bytes =
            serde_json::to_vec(value).map_err(|e| StoreError::Invalid(format!("{key}: {e}")))?;
        self.store.put(key, bytes.into(), Precondition::None).await
    }

    /// Whether `key` was claimed now (`true`) or before (`false`): a
    /// create-only write that survives restarts and is shared by replicas.
    pub async fn claim(&self, key: &str, value: &serde_json::Value) -> Result<bool, StoreError> {
        match self.put(key, value, None).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Removes `key` (gone already is fine).
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.store.delete(key).await {
            Ok(()) | Err(StoreError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
