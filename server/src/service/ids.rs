//! Server-issued request ids. The new-request page is given an id before
//! the request exists (so its preview shows the exact block), together
//! with a ticket: an HMAC-SHA256 over the id and the login it was issued
//! to, under a key kept in the store (`keys/request-ids.json`, made once
//! by whichever replica starts first). Filing under that id needs the
//! ticket, an id time near the server clock, and an id never used before,
//! live or archived.

use crate::auth::keys::StoredKey;
use crate::store::{ObjectStore, StoreError};
use app::domain::ids::RequestId;
use std::sync::Arc;

const KEY: &str = "keys/request-ids.json";
/// How long a page may sit before its id is refused.
pub const MAX_AGE_MS: u64 = 24 * 60 * 60 * 1000;
/// How far ahead of the server clock an id may be (clock skew between replicas).
pub const MAX_AHEAD_MS: u64 = 5 * 60 * 1000;

/// A fresh request id from the clock and the OS random source.
pub fn new_request_id() -> RequestId {
    let entropy = u32::from_le_bytes(crate::auth::random_bytes::<4>());
    RequestId::generate(crate::auth::unix_millis(), entropy)
}

/// Issues ids with tickets and checks them.
#[derive(Clone)]
pub struct IdIssuer {
    key: StoredKey,
}

/// Why an id cannot be filed under.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IdRefused(pub String);

impl IdIssuer {
    /// An issuer over the store holding its key.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            key: StoredKey::new(store, KEY),
        }
    }

    /// A fresh id for `login`, and its ticket.
    pub async fn issue(&self, login: &str) -> Result<(RequestId, String), StoreError> {
        let id = new_request_id();
        let ticket = self.key.mac(&[id.as_str(), login]).await?;
        Ok((id, ticket))
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
        let want = self.key.mac(&[id.as_str(), login]).await?;
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
