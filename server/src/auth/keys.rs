//! Server secrets kept in the store: a random 32-byte key under a fixed
//! name (`keys/<name>.json`), made once by whichever replica needs it
//! first (a create-only write; the loser reads the winner's), then cached
//! for the life of the process. Every replica signs and checks with the
//! same key, and a restart keeps it.

use crate::ids::Ids;
use crate::store::{ObjectStore, Precondition, StoreError};
use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// One stored key.
#[derive(Clone)]
pub struct StoredKey {
    store: Arc<dyn ObjectStore>,
    name: &'static str,
    ids: Arc<dyn Ids>,
    key: Arc<OnceCell<[u8; 32]>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    key: String,
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl StoredKey {
    /// The key stored under `name` (`keys/request-ids.json`, …), made
    /// from `ids` if there is none yet.
    pub fn new(store: Arc<dyn ObjectStore>, name: &'static str, ids: Arc<dyn Ids>) -> Self {
        Self {
            store,
            name,
            ids,
            key: Arc::new(OnceCell::new()),
        }
    }

    /// The key, read or made on first use.
    pub async fn get(&self) -> Result<&[u8; 32], StoreError> {
        let name = self.name;
        self.key
            .get_or_try_init(|| async {
                loop {
                    match self.store.get(name).await {
                        Ok(obj) => {
                            let stored: Stored = serde_json::from_slice(&obj.bytes)
                                .map_err(|e| StoreError::Invalid(format!("{name}: {e}")))?;
                            return unhex(&stored.key).ok_or_else(|| {
                                StoreError::Invalid(format!("{name}: not a 32-byte hex key"))
                            });
                        }
                        Err(StoreError::NotFound(_)) => {
                            let key = self.ids.bytes::<32>();
                            let body = serde_json::to_vec(&Stored {
                                key: super::hex(&key),
                            })
                            .unwrap_or_default();
                            match self
                                .store
                                .put(name, Bytes::from(body), Precondition::IfAbsent)
                                .await
                            {
                                Ok(_) => return Ok(key),
                                // Another replica made it first: read theirs.
                                Err(StoreError::Conflict(_)) => continue,
                                Err(e) => return Err(e),
                            }
                        }
                        Err(e) => return Err(e),
                    }
                }
            })
            .await
    }

    /// HMAC-SHA256 of `parts` joined by newlines under the key, first 16
    /// bytes in hex. Parts must not contain a newline.
    pub async fn mac(&self, parts: &[&str]) -> Result<String, StoreError> {
        let key = self.get().await?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                mac.update(b"\n");
            }
            mac.update(part.as_bytes());
        }
        Ok(super::hex(&mac.finalize().into_bytes()[..16]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn two_replicas_share_one_key_and_a_restart_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn ObjectStore> =
            Arc::new(crate::store::fs::FsStore::open(dir.path()).unwrap());
        let a = StoredKey::new(store.clone(), "keys/test.json", Arc::new(crate::ids::OsIds));
        let b = StoredKey::new(store.clone(), "keys/test.json", Arc::new(crate::ids::OsIds));
        let (ka, kb) = tokio::join!(a.mac(&["x"]), b.mac(&["x"]));
        assert_eq!(ka.unwrap(), kb.unwrap());
        let again = StoredKey::new(store.clone(), "keys/test.json", Arc::new(crate::ids::OsIds));
        assert_eq!(
            again.mac(&["x"]).await.unwrap(),
            a.mac(&["x"]).await.unwrap()
        );
        assert_ne!(a.mac(&["y"]).await.unwrap(), a.mac(&["x"]).await.unwrap());
        let other = StoredKey::new(store, "keys/other.json", Arc::new(crate::ids::OsIds));
        assert_ne!(
            other.mac(&["x"]).await.unwrap(),
            a.mac(&["x"]).await.unwrap()
        );
    }
}
