//! Server-issued request ids. The new-request page is given an id before
//! the request exists (so its preview shows the exact block), together
//! with a ticket: an HMAC-SHA256 over the id and the login it was issued
//! to, under a key kept in the store (`keys/request-ids.json`, made once
//! by whichever replica starts first). Filing under that id needs the
//! ticket, an id time near the server clock, and an id never used before,
//! live or archived.

use crate::store::{ObjectStore, Precondition, StoreError};
use app::domain::ids::RequestId;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use tokio::sync::OnceCell;

const KEY: &str = "keys/request-ids.json";
/// How long a page may sit before its id is refused.
pub const MAX_AGE_MS: u64 = 24 * 60 * 60 * 1000;
/// How far ahead of the server clock an id may be (clock skew between replicas).
pub const MAX_AHEAD_MS: u64 = 5 * 60 * 1000;

/// Issues ids with tickets and checks them.
#[derive(Clone)]
pub struct IdIssuer {
    store: Arc<dyn ObjectStore>,
    key: Arc<OnceCell<[u8; 32]>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredKey {
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

/// Why an id cannot be filed under.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IdRefused(pub String);

impl IdIssuer {
    /// An issuer over the store holding its key.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            key: Arc::new(OnceCell::new()),
        }
    }

    async fn key(&self) -> Result<&[u8; 32], StoreError> {
        self.key
            .get_or_try_init(|| async {
                loop {
                    match self.store.get(KEY).await {
                        Ok(obj) => {
                            let stored: StoredKey = serde_json::from_slice(&obj.bytes)
                                .map_err(|e| StoreError::Invalid(format!("{KEY}: {e}")))?;
                            return unhex(&stored.key).ok_or_else(|| {
                                StoreError::Invalid(format!("{KEY}: not a 32-byte hex key"))
                            });
                        }
                        Err(StoreError::NotFound(_)) => {
                            let key = crate::auth::random_bytes::<32>();
                            let body = serde_json::to_vec(&StoredKey {
                                key: crate::auth::hex(&key),
                            })
                            .unwrap_or_default();
                            match self
                                .store
                                .put(KEY, Bytes::from(body), Precondition::IfAbsent)
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

    fn mac(key: &[u8; 32], id: &RequestId, login: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
        mac.update(id.as_str().as_bytes());
        mac.update(b"\n");
        mac.update(login.as_bytes());
        crate::auth::hex(&mac.finalize().into_bytes()[..16])
    }

    /// A fresh id for `login`, and its ticket.
    pub async fn issue(&self, login: &str) -> Result<(RequestId, String), StoreError> {
        let key = self.key().await?;
        let id = crate::service::requests::new_request_id();
        Ok((id, Self::mac(key, &id, login)))
    }

    /// Whether `ticket` is the one issued with `id` to `login`, and the
    /// id's time is within bounds of `now_ms`.
    pub async fn check(
        &self,
        login: &str,
        id: &RequestId,
        ticket: &str,
        now_ms: u64,
    ) -> Result<Result<(), IdRefused>, StoreError> {
        let key = self.key().await?;
        let want = Self::mac(key, id, login);
        if !crate::auth::constant_time_eq(want.as_bytes(), ticket.as_bytes()) {
            return Ok(Err(IdRefused(format!(
                "request id `{id}` was not issued by this tfpilot to you; reload the page to get one"
            ))));
        }
        let at = id.unix_millis();
        if at > now_ms + MAX_AHEAD_MS {
            return Ok(Err(IdRefused(format!(
                "request id `{id}` is from the future (more than {} minutes ahead of the server clock)",
                MAX_AHEAD_MS / 60_000
            ))));
        }
        if at + MAX_AGE_MS < now_ms {
            return Ok(Err(IdRefused(format!(
                "request id `{id}` was issued more than {} hours ago; reload the page to get a new one",
                MAX_AGE_MS / 3_600_000
            ))));
        }
        Ok(Ok(()))
    }
}
