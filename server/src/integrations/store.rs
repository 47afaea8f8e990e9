//! Integration records in the requests store, `integrations/<kind>/<name>.json`
//! (`store::records`): kind, name and clear fields, the sealed secret
//! (one ciphertext over a JSON object of the secret fields), the names of
//! the secret fields it holds, who set it and when, and a version that
//! grows by compare-and-swap.

use super::crypto::Sealed;
use super::kinds::Kind;
use crate::store::records::{Records, Stored};
use crate::store::{ObjectStore, StoreError, list_all};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where the records live.
pub const PREFIX: &str = "integrations/";

/// A stored integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationRecord {
    /// Its kind (`slack`).
    pub kind: String,
    /// Its name (`default`).
    pub name: String,
    /// The clear fields.
    pub metadata: BTreeMap<String, String>,
    /// The names of the secret fields the ciphertext holds.
    pub secret_fields: Vec<String>,
    /// The secret fields as one JSON object, sealed.
    pub secret: Sealed,
    /// When it was last set (RFC 3339).
    pub set_at: String,
    /// By whom.
    pub set_by: String,
    /// 1 when created, one more on every write.
    pub version: u64,
}

/// The key of `kind/name`.
pub fn key(kind: Kind, name: &str) -> String {
    format!("{PREFIX}{}/{name}.json", kind.as_str())
}

/// The integration records.
#[derive(Clone)]
pub struct IntegrationStore {
    store: Arc<dyn ObjectStore>,
    records: Records,
}

impl IntegrationStore {
    /// Over the requests store.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            records: Records::new(store.clone()),
            store,
        }
    }

    /// The record of `kind/name` with its etag.
    pub async fn get(
        &self,
        kind: Kind,
        name: &str,
    ) -> Result<Option<Stored<IntegrationRecord>>, StoreError> {
        self.records.get(&key(kind, name)).await
    }

    /// The record at a listed key.
    pub async fn get_key(
        &self,
        key: &str,
    ) -> Result<Option<Stored<IntegrationRecord>>, StoreError> {
        self.records.get(key).await
    }

    /// Every record's key, in key order (kind, then name).
    pub async fn keys(&self) -> Result<Vec<String>, StoreError> {
        Ok(list_all(self.store.as_ref(), PREFIX)
            .await?
            .into_iter()
            .map(|e| e.key)
            .filter(|k| k.ends_with(".json"))
            .collect())
    }

    /// Writes `record`: created when `etag` is `None`, else replacing
    /// exactly that version (a conflict otherwise).
    pub async fn put(
        &self,
        record: &IntegrationRecord,
        etag: Option<&str>,
    ) -> Result<String, StoreError> {
        let kind = Kind::parse(&record.kind)
            .ok_or_else(|| StoreError::Invalid(format!("no integration kind {}", record.kind)))?;
        self.records
            .put(&key(kind, &record.name), record, etag)
            .await
    }

    /// Removes the record of `kind/name`.
    pub async fn delete(&self, kind: Kind, name: &str) -> Result<(), StoreError> {
        self.records.delete(&key(kind, name)).await
    }
}
