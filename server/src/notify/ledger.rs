//! What each request's notices last covered (`notified/<id>.json`: a version and its status), so notices a crash cut off after a write are found and stored at the next start.

use crate::store::{ObjectStore, Precondition, StoreError};
use app::domain::ids::RequestId;
use app::domain::status::Status;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The last status change whose notices are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Told {
    /// The request's version after that change.
    pub version: u64,
    /// Its status then.
    pub status: Status,
}

/// The records in the requests store.
#[derive(Clone)]
pub struct Ledger {
    store: Arc<dyn ObjectStore>,
}

fn key(id: &RequestId) -> String {
    format!("notified/{id}.json")
}

impl Ledger {
    /// Over `store`.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    /// What request `id`'s notices last covered, if anything.
    pub async fn get(&self, id: &RequestId) -> Result<Option<Told>, StoreError> {
        match self.store.get(&key(id)).await {
            Ok(obj) => serde_json::from_slice(&obj.bytes)
                .map(Some)
                .map_err(|e| StoreError::Invalid(format!("{}: {e}", key(id)))),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Records `told`, unless a later version is recorded already.
    pub async fn advance(&self, id: &RequestId, told: Told) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(&told)
            .map_err(|e| StoreError::Invalid(format!("{}: {e}", key(id))))?;
        loop {
            let cond = match self.store.get(&key(id)).await {
                Ok(obj) => {
                    let stored: Option<Told> = serde_json::from_slice(&obj.bytes).ok();
                    if stored.is_some_and(|s| s.version >= told.version) {
                        return Ok(());
                    }
                    Precondition::IfMatch(obj.etag)
                }
                Err(StoreError::NotFound(_)) => Precondition::IfAbsent,
                Err(e) => return Err(e),
            };
            match self.store.put(&key(id), bytes.clone().into(), cond).await {
                Ok(_) => return Ok(()),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
    }
}
