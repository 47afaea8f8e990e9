//! Server-issued request ids. The new-request page is given an id before
//! the request exists (so its preview shows the exact block), together
//! with a ticket: an HMAC-SHA256 over the id and the login it was issued
//! to, under a key kept in the store (`keys/request-ids.json`, made once
//! by whichever replica starts first). Filing under that id needs the
//! ticket, an id time near the server clock, and an id never used before,
//! live or archived.

use crate::auth::keys::StoredKey;
use crate::clock::Clock;
use crate::ids::Ids;
use crate::store::{ObjectStore, StoreError};
use app::domain::ids::RequestId;
use std::sync::Arc;

const KEY: &str = "keys/request-ids.json";
/// How long a page may sit before its id is refused.
pub const MAX_AGE_MS: u64 = 24 * 60 * 60 * 1000;
/// How far ahead of the server clock an id may be (clock skew between replicas).
pub const MAX_AHEAD_MS: u64 = 5 * 60 * 1000;

/// Issues ids with tickets and checks them.
#[derive(Clone)]
pub struct IdIssuer {
    key: StoredKey,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
}

/// Why an id cannot be filed under.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IdRefused(pub String);

impl IdIssuer {
    /// An issuer over the store holding its key; ids are made from
    /// `clock` and `ids` (as is the key, if there is none yet).
    pub fn new(store: Arc<dyn ObjectStore>, clock: Arc<dyn Clock>, ids: Arc<dyn Ids>) -> Self {
        Self {
            key: StoredKey::new(store, KEY, ids.clone()),
            clock,
            ids,
        }
    }

    /// A fresh id for `login`, and its ticket.
    pub async fn issue(&self, login: &str) -> Result<(RequestId, String), StoreError> {
        let id = self.fresh();
        let ticket = self.key.mac(&[id.as_str(), login]).await?;
        Ok((id, ticket))
    }

    /// A fresh id, without a ticket: its time now, its entropy random.
    pub fn fresh(&self) -> RequestId {
        let entropy = u32::from_le_bytes(self.ids.bytes::<4>());
        RequestId::generate(self.clock.unix_millis(), entropy)
    }

    /// Whether `ticket` is the one issued with `id` to `login`, and the
    /// id's time is within bounds of the clock.
    pub async fn check(
        &self,
        login: &str,
        id: &RequestId,
        ticket: &str,
    ) -> Result<Result<(), IdRefused>, StoreError> {
        let now_ms = self.clock.unix_millis();
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
