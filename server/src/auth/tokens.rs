//! Machine tokens: `tfp_<id>_<secret>`, shown once, stored as a SHA-256 hash
//! of the secret under `tokens/<id>.json`.

use super::trust::{TRUST, Trusted};
use super::{User, Users};
use crate::store::list_all;
use crate::store::{ObjectStore, Precondition, StoreError};
use app::domain::policy::TokenScope;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

const PREFIX: &str = "tfp_";
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A stored token (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Public id (the middle part of the token).
    pub id: String,
    /// Owner's login; the token acts with the owner's current role.
    pub user: String,
    /// Hex SHA-256 of the secret part.
    pub secret_sha256: String,
    /// Label.
    #[serde(default)]
    pub name: String,
    /// Creation time.
    pub created_at: String,
    /// Revocation time; a revoked token never authenticates.
    #[serde(default)]
    pub revoked_at: Option<String>,
    /// The most the token may do, whatever its owner's role (a CI token of
    /// an admin can be a requester token); `automation` files remediations
    /// and nothing else, `metrics` reads `GET /metrics` and nothing else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<TokenScope>,
}

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token is malformed, unknown, revoked or its owner disabled.
    #[error("the bearer token is invalid or revoked")]
    Invalid,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The owner is not a user.
    #[error(transparent)]
    User(#[from] super::UserError),
    /// No such token.
    #[error("no token `{0}`")]
    NotFound(String),
}

fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| ALPHABET[(*b & 31) as usize] as char)
        .collect()
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Constant-time equality of two hex digests.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Issues and checks tokens.
#[derive(Clone)]
pub struct Tokens {
    store: Arc<dyn ObjectStore>,
    users: Users,
    /// Token records read by checks, trusted for a few seconds.
    trusted: Trusted<TokenRecord>,
}

impl Tokens {
    /// Over the requests bucket, on the system clock and the OS random
    /// source.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self::over(Users::new(store.clone()), store)
    }

    /// Over the requests bucket and `users`, whose clock stamps records and
    /// whose random source makes ids and secrets.
    pub fn over(users: Users, store: Arc<dyn ObjectStore>) -> Self {
        Self {
            trusted: Trusted::new(TRUST, &store),
            users,
            store,
        }
    }

    /// Trusts what a check read (the token's record and its owner) for
    /// `ttl` instead of [`TRUST`] (zero: every check reads both).
    pub fn with_trust(mut self, ttl: Duration) -> Self {
        self.trusted = Trusted::new(ttl, &self.store);
        self.users = self.users.with_trust(ttl);
        self
    }

    /// Creates a token for an existing user; returns the record and the
    /// token text, which is never stored and cannot be shown again.
    pub async fn create(
        &self,
        login: &str,
        name: &str,
    ) -> Result<(TokenRecord, String), TokenError> {
        self.create_scoped(login, name, None).await
    }

    /// Like [`Tokens::create`], capped at `scope`.
    pub async fn create_scoped(
        &self,
        login: &str,
        name: &str,
        scope: Option<TokenScope>,
    ) -> Result<(TokenRecord, String), TokenError> {
        self.users.get(login).await?;
        loop {
            let ids = self.users.ids();
            let id = encode(&ids.bytes::<12>());
            let secret = encode(&ids.bytes::<32>());
            let record = TokenRecord {
                id: id.clone(),
                user: login.to_owned(),
                secret_sha256: sha256_hex(&secret),
                name: name.to_owned(),
                created_at: self.users.clock().rfc3339_millis(),
                revoked_at: None,
                scope,
            };
            let bytes = serde_json::to_vec_pretty(&record).expect("serializes");
            match self
                .store
                .put(
                    &format!("tokens/{id}.json"),
                    bytes.into(),
                    Precondition::IfAbsent,
                )
                .await
            {
                Ok(_) => return Ok((record, format!("{PREFIX}{id}_{secret}"))),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Every token (of `user` only, if given), newest first.
    pub async fn list(&self, user: Option<&str>) -> Result<Vec<TokenRecord>, TokenError> {
        let mut out = Vec::new();
        for entry in list_all(self.store.as_ref(), "tokens/").await? {
            let obj = self.store.get(&entry.key).await?;
            if let Ok(record) = serde_json::from_slice::<TokenRecord>(&obj.bytes)
                && user.is_none_or(|u| u == record.user)
            {
                out.push(record);
            }
        }
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        Ok(out)
    }

    /// One token's record.
    pub async fn get(&self, id: &str) -> Result<TokenRecord, TokenError> {
        if id.len() != 12 || !id.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(TokenError::NotFound(id.to_owned()));
        }
        let obj = match self.store.get(&format!("tokens/{id}.json")).await {
            Ok(obj) => obj,
            Err(StoreError::NotFound(_)) => return Err(TokenError::NotFound(id.to_owned())),
            Err(e) => return Err(e.into()),
        };
        serde_json::from_slice(&obj.bytes)
            .map_err(|e| StoreError::Invalid(format!("tokens/{id}.json: {e}")).into())
    }

    /// Revokes a token: it stops working at once in this process and
    /// within [`TRUST`] on other replicas (a check trusts what it read
    /// for that long). Revoking twice is a no-op.
    pub async fn revoke(&self, id: &str) -> Result<TokenRecord, TokenError> {
        let key = format!("tokens/{id}.json");
        loop {
            self.get(id).await?;
            let obj = self.store.get(&key).await?;
            let mut record: TokenRecord = serde_json::from_slice(&obj.bytes)
                .map_err(|e| StoreError::Invalid(format!("{key}: {e}")))?;
            if record.revoked_at.is_some() {
                return Ok(record);
            }
            record.revoked_at = Some(self.users.clock().rfc3339_millis());
            let bytes = serde_json::to_vec_pretty(&record).expect("serializes");
            super::trust::changed(&self.store);
            match self
                .store
                .put(&key, bytes.into(), Precondition::IfMatch(obj.etag))
                .await
            {
                Ok(_) => return Ok(record),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The user a bearer token acts for, and the token's scope (the most
    /// it may do).
    pub async fn authenticate_scoped(
        &self,
        token: &str,
    ) -> Result<(User, Option<TokenScope>), TokenError> {
        self.check(token).await
    }

    /// The user a bearer token acts for.
    pub async fn authenticate(&self, token: &str) -> Result<User, TokenError> {
        Ok(self.check(token).await?.0)
    }

    async fn check(&self, token: &str) -> Result<(User, Option<TokenScope>), TokenError> {
        let (id, secret) = token
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .filter(|(id, secret)| {
                id.len() == 12
                    && secret.len() == 32
                    && id
                        .bytes()
                        .chain(secret.bytes())
                        .all(|b| ALPHABET.contains(&b))
            })
            .ok_or(TokenError::Invalid)?;
        let (store, key) = (self.store.clone(), format!("tokens/{id}.json"));
        let record = self
            .trusted
            .read_through(id, move || async move {
                let obj = match store.get(&key).await {
                    Ok(obj) => obj,
                    Err(StoreError::NotFound(_)) => return Err(TokenError::Invalid),
                    Err(e) => return Err(e.into()),
                };
                serde_json::from_slice::<TokenRecord>(&obj.bytes).map_err(|_| TokenError::Invalid)
            })
            .await?;
        if record.revoked_at.is_some() || !same(&record.secret_sha256, &sha256_hex(secret)) {
            return Err(TokenError::Invalid);
        }
        // A store that fails is not a bad token: the caller may be fine.
        let user = match self.users.get_trusted(&record.user).await {
            Ok(user) => user,
            Err(super::UserError::Store(e)) => return Err(e.into()),
            Err(_) => return Err(TokenError::Invalid),
        };
        if user.disabled {
            return Err(TokenError::Invalid);
        }
        Ok((user, record.scope))
    }
}
