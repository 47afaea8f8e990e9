//! Browser sessions (tower-sessions) kept in the object store, so restarts
//! and replicas share them: `sessions/<sha256 of the id>.json`. The id
//! itself is never stored, so whoever can read the bucket still cannot
//! take over a session.

use crate::store::{ObjectStore, Precondition, StoreError};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

/// The session store over the requests bucket.
#[derive(Clone)]
pub struct StoreSessions {
    store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for StoreSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreSessions")
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    data: std::collections::HashMap<String, serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    expiry_date: OffsetDateTime,
}

fn key(id: &Id) -> String {
    let digest = Sha256::digest(id.to_string().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sessions/{hex}.json")
}

fn backend(e: StoreError) -> Error {
    Error::Backend(e.to_string())
}

impl StoreSessions {
    /// Over `store`.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    async fn put(&self, record: &Record, precondition: Precondition) -> Result<()> {
        let stored = Stored {
            data: record.data.clone(),
            expiry_date: record.expiry_date,
        };
        let bytes = serde_json::to_vec(&stored).map_err(|e| Error::Encode(e.to_string()))?;
        self.store
            .put(&key(&record.id), bytes.into(), precondition)
            .await
            .map(drop)
            .map_err(|e| match e {
                StoreError::Conflict(m) => Error::Backend(format!("conflict: {m}")),
                e => backend(e),
            })
    }
}

#[async_trait]
impl SessionStore for StoreSessions {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // A fresh random id; on the (astronomically unlikely) collision, another.
        for _ in 0..4 {
            match self.put(record, Precondition::IfAbsent).await {
                Err(Error::Backend(m)) if m.starts_with("conflict") => record.id = Id::default(),
                other => return other,
            }
        }
        Err(Error::Backend("could not allocate a session id".into()))
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.put(record, Precondition::None).await
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let obj = match self.store.get(&key(id)).await {
            Ok(obj) => obj,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(backend(e)),
        };
        let Ok(stored) = serde_json::from_slice::<Stored>(&obj.bytes) else {
            return Ok(None);
        };
        if stored.expiry_date <= OffsetDateTime::now_utc() {
            let _ = self.store.delete(&key(id)).await;
            return Ok(None);
        }
        Ok(Some(Record {
            id: *id,
            data: stored.data,
            expiry_date: stored.expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        match self.store.delete(&key(id)).await {
            Ok(_) | Err(StoreError::NotFound(_)) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }
}
