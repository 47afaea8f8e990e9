//! Browser sessions (tower-sessions) kept in the object store, so restarts
//! and replicas share them: `sessions/<sha256 of the id>.json`. The id
//! itself is never stored, so whoever can read the bucket still cannot
//! take over a session.
//!
//! Expiry is kept on the server's [`Clock`]: tower-sessions dates a record
//! by the system time, and the store moves that date onto the clock when
//! it writes (and back when it reads), so a session ends when the clock —
//! a test's manual one included — passes its expiry.

use crate::clock::Clock;
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
    clock: Arc<dyn Clock>,
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
    /// Over `store`; records expire by `clock`.
    pub fn new(store: Arc<dyn ObjectStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// The clock's now as a date.
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from(self.clock.now())
    }

    /// A system-time date of tower-sessions, as far from the clock's now
    /// as it is from the system's.
    fn onto_clock(&self, system: OffsetDateTime) -> OffsetDateTime {
        self.now() + (system - OffsetDateTime::now_utc())
    }

    /// A date on the clock, as far from the system's now as it is from
    /// the clock's.
    fn onto_system(&self, on_clock: OffsetDateTime) -> OffsetDateTime {
        OffsetDateTime::now_utc() + (on_clock - self.now())
    }

    async fn put(&self, record: &Record, precondition: Precondition) -> Result<()> {
        let stored = Stored {
            data: record.data.clone(),
            expiry_date: self.onto_clock(record.expiry_date),
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
        if stored.expiry_date <= self.now() {
            let _ = self.store.delete(&key(id)).await;
            return Ok(None);
        }
        Ok(Some(Record {
            id: *id,
            data: stored.data,
            expiry_date: self.onto_system(stored.expiry_date),
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        match self.store.delete(&key(id)).await {
            Ok(_) | Err(StoreError::NotFound(_)) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }
}
