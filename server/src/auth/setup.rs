//! The first admin: with no admin account, each start issues a one-time
//! setup token (valid one hour, single use, only its SHA-256 kept at
//! `setup/token.json`) and prints the link that lets a person choose the
//! admin's login and password. There is never a default password.

use super::{UserError, Users, valid_login};
use crate::store::{ObjectStore, Precondition, StoreError, list_all};
use app::domain::policy::Role;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "setup/token.json";
/// How long a setup link works.
pub const VALID_FOR: Duration = Duration::from_secs(3600);

#[derive(Serialize, Deserialize)]
struct Pending {
    sha256: String,
    expires_at: u64,
}

/// What can go wrong finishing the setup.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Wrong, used or expired token.
    #[error("this setup link is not valid any more; restart tfpilot for a new one")]
    BadToken,
    /// The new admin's login or password was refused.
    #[error(transparent)]
    User(#[from] UserError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first-admin setup.
#[derive(Clone)]
pub struct Setup {
    store: Arc<dyn ObjectStore>,
    users: Users,
}

impl Setup {
    /// Over the users' bucket, with their clock and random source.
    pub fn new(users: Users) -> Self {
        Self {
            store: users.store().clone(),
            users,
        }
    }

    /// Whether some user is an admin (by role or by `admins`).
    pub async fn has_admin(
        &self,
        admins: &std::collections::BTreeSet<String>,
    ) -> Result<bool, StoreError> {
        let users = &self.users;
        for entry in list_all(self.store.as_ref(), "users/").await? {
            let Some(login) = entry
                .key
                .strip_prefix("users/")
                .and_then(|k| k.strip_suffix(".json"))
            else {
                continue;
            };
            if admins.contains(login) {
                return Ok(true);
            }
            if users.get(login).await.is_ok_and(|u| u.role == Role::Admin) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A fresh one-time token (replacing any earlier one), if no admin exists.
    pub async fn issue_if_needed(
        &self,
        admins: &std::collections::BTreeSet<String>,
    ) -> Result<Option<String>, StoreError> {
        if self.has_admin(admins).await? {
            let _ = self.store.delete(KEY).await;
            return Ok(None);
        }
        let token = self.users.ids().random_hex(24);
        let pending = Pending {
            sha256: hash(&token),
            expires_at: self.users.clock().unix_secs() + VALID_FOR.as_secs(),
        };
        let bytes = serde_json::to_vec(&pending).expect("serializes");
        self.store
            .put(KEY, bytes.into(), Precondition::None)
            .await?;
        Ok(Some(token))
    }

    /// Whether `token` is the pending, unexpired setup token.
    pub async fn check(&self, token: &str) -> Result<bool, StoreError> {
        let obj = match self.store.get(KEY).await {
            Ok(obj) => obj,
            Err(StoreError::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e),
        };
        let Ok(pending) = serde_json::from_slice::<Pending>(&obj.bytes) else {
            return Ok(false);
        };
        let same = hash(token)
            .as_bytes()
            .iter()
            .zip(pending.sha256.as_bytes())
            .fold(pending.sha256.len() ^ 64, |acc, (a, b)| {
                acc | usize::from(a ^ b)
            })
            == 0;
        Ok(same && pending.expires_at > self.users.clock().unix_secs())
    }

    /// Uses the token: creates the admin, then retires the token (a
    /// second use finds no token).
    pub async fn complete(
        &self,
        token: &str,
        login: &str,
        password: &str,
    ) -> Result<super::User, SetupError> {
        let obj = match self.store.get(KEY).await {
            Ok(obj) => obj,
            Err(StoreError::NotFound(_)) => return Err(SetupError::BadToken),
            Err(e) => return Err(e.into()),
        };
        if !self.check(token).await? {
            return Err(SetupError::BadToken);
        }
        // Refuse a bad login or password before the token is spent.
        if !valid_login(login) {
            return Err(UserError::InvalidLogin(login.chars().take(64).collect()).into());
        }
        super::users::check_password(password)?;
        // Claim the token first: of two simultaneous uses, one wins.
        match self
            .store
            .put(
                KEY,
                bytes::Bytes::from_static(b"{}"),
                Precondition::IfMatch(obj.etag),
            )
            .await
        {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Err(SetupError::BadToken),
            Err(e) => return Err(e.into()),
        }
        let user = self.users.add(login, Role::Admin, Some(password)).await;
        let _ = self.store.delete(KEY).await;
        Ok(user?)
    }
}
