//! Local users: login, role, optional argon2id password hash.

use super::trust::{TRUST, Trusted};
use super::valid_login;
use crate::clock::{Clock, SystemClock};
use crate::ids::{Ids, OsIds};
use crate::store::{ObjectStore, Precondition, StoreError, list_all};
use app::domain::policy::Role;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Login (unique).
    pub login: String,
    /// Role.
    pub role: Role,
    /// argon2id PHC string, when the user can sign in with a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// A disabled user cannot sign in or use tokens.
    #[serde(default)]
    pub disabled: bool,
    /// How the user signs in.
    #[serde(default)]
    pub identity: Identity,
    /// Raised by a password change: sessions signed in at an older epoch
    /// end.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sessions_epoch: u32,
    /// The Slack member id (`U…`) that acts as this user in Slack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_user_id: Option<String>,
    /// Where e-mail notices go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The links of a new user; either may be absent (rules and lookups:
/// [`super::contact`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Links {
    /// The Slack member id (`U…` or `W…`).
    pub slack_user_id: Option<String>,
    /// The e-mail address.
    pub email: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// How a user proves who they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Identity {
    /// A local account: a password (or none yet), tokens.
    #[default]
    Local,
    /// A GitHub account, matched by its numeric user id (a login can be
    /// renamed and reused on GitHub; the id cannot).
    Github {
        /// GitHub's user id.
        id: u64,
    },
}

impl Identity {
    /// `local` or `github`.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Github { .. } => "github",
        }
    }
}

/// Why a user operation failed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The login is not acceptable.
    #[error("login `{0}` is invalid: use 1-64 letters, digits, `-`, `_` or `.`")]
    InvalidLogin(String),
    /// The login is taken.
    #[error("user `{0}` already exists")]
    Exists(String),
    /// No such user.
    #[error("user `{0}` does not exist")]
    NotFound(String),
    /// The password is too short or too long.
    #[error("the password must be 12 to 1024 characters")]
    WeakPassword,
    /// Not a Slack member id (see [`super::contact::parse_slack_id`]).
    #[error(
        "slack_user_id `{0}` is invalid: a Slack member id is `U` or `W` then 2 to 20 capital letters or digits (like U0123ABCD)"
    )]
    InvalidSlackId(String),
    /// Not an e-mail address (see [`super::contact::parse_email`]).
    #[error(
        "email is invalid: {0}; write local@domain with exactly one `@`, no spaces or control characters, at most 254 characters"
    )]
    InvalidEmail(&'static str),
    /// Another user holds this Slack id.
    #[error("Slack user {slack} is already linked to `{login}`; unlink it there first")]
    SlackIdTaken {
        /// The Slack member id.
        slack: String,
        /// Who holds it.
        login: String,
    },
    /// A lookup matched more than one user: the sentence says who.
    #[error("{0}")]
    Ambiguous(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The user directory.
#[derive(Clone)]
pub struct Users {
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
    /// Accounts read for callers ([`Users::get_trusted`]).
    trusted: Trusted<User>,
}

fn key(login: &str) -> String {
    format!("users/{login}.json")
}

/// Whether a password may be set: 12 to 1024 characters.
pub fn check_password(password: &str) -> Result<(), UserError> {
    if (12..=1024).contains(&password.chars().count()) {
        Ok(())
    } else {
        Err(UserError::WeakPassword)
    }
}

/// Hashes a password with argon2id and `salt` (16 random bytes). It keeps
/// a CPU busy for tens of milliseconds: async code calls
/// [`hash_password_blocking`].
pub fn hash_password(password: &str, salt: &[u8; 16]) -> Result<String, UserError> {
    check_password(password)?;
    let salt = SaltString::encode_b64(salt).expect("16 bytes is a valid salt");
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters succeeds")
        .to_string())
}

/// [`hash_password`] with a salt from `ids`, on the blocking pool, off the
/// async workers.
pub async fn hash_password_blocking(ids: &dyn Ids, password: String) -> Result<String, UserError> {
    check_password(&password)?;
    let salt = ids.bytes::<16>();
    tokio::task::spawn_blocking(move || hash_password(&password, &salt))
        .await
        .unwrap_or_else(|e| {
            Err(UserError::Store(StoreError::Unavailable(format!(
                "password hashing stopped: {e}"
            ))))
        })
}

/// An argon2id hash of a random password, checked when a login has none,
/// so an unknown login costs what a wrong password does. Made on first use:
/// call it on the blocking pool. The first call's `ids` make it.
pub fn dummy_hash(ids: &dyn Ids) -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&ids.random_hex(16), &ids.bytes::<16>()).unwrap_or_default())
}

/// Checks a password against a stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

impl Users {
    /// Over the requests bucket, on the system clock and the OS random
    /// source (the server gives its own with [`Users::with_clock`] and
    /// [`Users::with_ids`]).
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            trusted: Trusted::new(TRUST, &store),
            store,
            clock: Arc::new(SystemClock),
            ids: Arc::new(OsIds),
        }
    }

    /// Trusts an account read for a caller for `ttl` instead of
    /// [`TRUST`] (zero: reads it every time).
    pub fn with_trust(mut self, ttl: Duration) -> Self {
        self.trusted = Trusted::new(ttl, &self.store);
        self
    }

    /// Stamps records with `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Salts passwords from `ids`.
    pub fn with_ids(mut self, ids: Arc<dyn Ids>) -> Self {
        self.ids = ids;
        self
    }

    /// The bucket users are kept in.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The clock records are stamped with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The random source passwords are salted from.
    pub fn ids(&self) -> &Arc<dyn Ids> {
        &self.ids
    }

    /// Creates a local user; refuses an existing login.
    pub async fn add(
        &self,
        login: &str,
        role: Role,
        password: Option<&str>,
    ) -> Result<User, UserError> {
        self.add_as(login, role, password, Identity::Local).await
    }

    /// Creates a user who signs in as `identity`; refuses an existing login.
    pub async fn add_as(
        &self,
        login: &str,
        role: Role,
        password: Option<&str>,
        identity: Identity,
    ) -> Result<User, UserError> {
        self.create(login, role, password, identity, Links::default())
            .await
    }

    /// Creates a user with its links, which the caller has parsed and
    /// checked ([`Users::add_linked`]).
    pub(super) async fn create(
        &self,
        login: &str,
        role: Role,
        password: Option<&str>,
        identity: Identity,
        links: Links,
    ) -> Result<User, UserError> {
        if !valid_login(login) {
            return Err(UserError::InvalidLogin(login.chars().take(64).collect()));
        }
        let password_hash = match password {
            Some(p) => Some(hash_password_blocking(self.ids.as_ref(), p.to_owned()).await?),
            None => None,
        };
        let user = User {
            login: login.to_owned(),
            role,
            password_hash,
            created_at: self.clock.rfc3339_millis(),
            disabled: false,
            identity,
            sessions_epoch: 0,
            slack_user_id: links.slack_user_id,
            email: links.email,
        };
        let bytes = serde_json::to_vec_pretty(&user).expect("serializes");
        super::trust::changed(&self.store);
        match self
            .store
            .put(&key(login), bytes.into(), Precondition::IfAbsent)
            .await
        {
            Ok(_) => Ok(user),
            Err(StoreError::Conflict(_)) => Err(UserError::Exists(login.to_owned())),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads a user.
    pub async fn get(&self, login: &str) -> Result<User, UserError> {
        if !valid_login(login) {
            return Err(UserError::NotFound(login.to_owned()));
        }
        let obj = self.store.get(&key(login)).await.map_err(|e| match e {
            StoreError::NotFound(_) => UserError::NotFound(login.to_owned()),
            e => e.into(),
        })?;
        serde_json::from_slice(&obj.bytes).map_err(|e| {
            StoreError::Invalid(format!("{}: not a user record: {e}", key(login))).into()
        })
    }

    /// The account a caller (a token, a session) acts as: read from the
    /// store, then trusted for a few seconds ([`super::trust`]).
    pub async fn get_trusted(&self, login: &str) -> Result<User, UserError> {
        let (users, owned) = (self.clone(), login.to_owned());
        self.trusted
            .read_through(login, move || async move { users.get(&owned).await })
            .await
    }

    /// Every user, by login.
    pub async fn list(&self) -> Result<Vec<User>, UserError> {
        let mut out = Vec::new();
        for entry in list_all(self.store.as_ref(), "users/").await? {
            let Some(login) = entry
                .key
                .strip_prefix("users/")
                .and_then(|k| k.strip_suffix(".json"))
            else {
                continue;
            };
            match self.get(login).await {
                Ok(user) => out.push(user),
                Err(UserError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.login.cmp(&b.login));
        Ok(out)
    }

    /// Changes a user with compare-and-swap (role, disabled, password).
    pub async fn update(
        &self,
        login: &str,
        f: impl Fn(&mut User) -> Result<(), UserError>,
    ) -> Result<User, UserError> {
        loop {
            if !valid_login(login) {
                return Err(UserError::NotFound(login.to_owned()));
            }
            let obj = self.store.get(&key(login)).await.map_err(|e| match e {
                StoreError::NotFound(_) => UserError::NotFound(login.to_owned()),
                e => e.into(),
            })?;
            let mut user: User = serde_json::from_slice(&obj.bytes).map_err(|e| {
                UserError::Store(StoreError::Invalid(format!("{}: {e}", key(login))))
            })?;
            f(&mut user)?;
            let bytes = serde_json::to_vec_pretty(&user).expect("serializes");
            // Before the write: a caller checked while it lands is read again.
            super::trust::changed(&self.store);
            match self
                .store
                .put(&key(login), bytes.into(), Precondition::IfMatch(obj.etag))
                .await
            {
                Ok(_) => return Ok(user),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}
