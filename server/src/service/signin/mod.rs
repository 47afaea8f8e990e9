//! Signing in: the password check with its limits, the first admin from
//! the one-time setup link, and (in [`oauth`]) GitHub sign-in. The HTTP
//! handlers keep the forms, cookies, sessions and redirects.
//!
//! Password failures say the same thing for an unknown login and a wrong
//! password, and are limited (`auth::limits`): per browser for one that
//! signed in before (its device cookie), else per login and client
//! address, login and address.

mod oauth;

pub use oauth::{GitHubPerson, enc};

use crate::auth::device::DeviceCookies;
use crate::auth::identities::GithubIdentities;
use crate::auth::limits::{AttemptKeys, LimitError, LoginLimits};
use crate::auth::setup::{Setup, SetupError};
use crate::auth::{User, UserError, Users};
use crate::service::admin::Admin;
use crate::store::StoreError;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The longest password checked (argon2 reads all of it).
const MAX_PASSWORD: usize = 1024;

/// Why a sign-in was refused or could not be done.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// A field breaks its rule (400).
    #[error("{message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// The rule.
        message: String,
    },
    /// Too many failed sign-ins (429): try again after `wait`.
    #[error("{message}")]
    Limited {
        /// When to try again, as a sentence.
        message: String,
        /// How long to wait.
        wait: Duration,
    },
    /// The login or the password is wrong (401).
    #[error("the login or the password is wrong")]
    Wrong,
    /// Refused by a named rule (403).
    #[error("{message}")]
    Refused {
        /// Rule id.
        rule: &'static str,
        /// Why.
        message: String,
    },
    /// The identity provider did not vouch for the person (401).
    #[error("{0}")]
    Unauthorized(String),
    /// A dependency is unavailable (503).
    #[error("{0}")]
    Unavailable(String),
    /// The check stopped (500).
    #[error("{0}")]
    Internal(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A person whose password was right.
pub struct Verified {
    /// The user.
    pub user: User,
    /// Where from, for the audit (`from 10.0.0.1 …`).
    pub from: String,
}

/// Sign-in over the user, limit, device and identity stores.
#[derive(Clone)]
pub struct SignIn {
    users: Users,
    limits: Arc<LoginLimits>,
    devices: DeviceCookies,
    identities: GithubIdentities,
    setup: Setup,
    admin: Admin,
}

impl SignIn {
    /// Wires the service.
    pub fn new(
        users: Users,
        limits: Arc<LoginLimits>,
        devices: DeviceCookies,
        identities: GithubIdentities,
        setup: Setup,
        admin: Admin,
    ) -> Self {
        Self {
            users,
            limits,
            devices,
            identities,
            setup,
            admin,
        }
    }

    /// Checks `password` for `login` (trimmed) from `address`, within the
    /// limits of the browser's `device` cookie or of the address; failures
    /// and blocks are audited.
    pub async fn password(
        &self,
        login: &str,
        password: String,
        address: IpAddr,
        device: Option<&str>,
    ) -> Result<Verified, SignInError> {
        let login = login.trim().to_owned();
        // Checked before the login reaches a store, a log or a limiter.
        if !crate::auth::valid_login(&login) {
            return Err(SignInError::Invalid {
                field: "login",
                message:
                    "login must be 1-64 letters, digits, `-`, `_` or `.`, not starting with `.`"
                        .into(),
            });
        }
        if password.chars().count() > MAX_PASSWORD {
            return Err(SignInError::Invalid {
                field: "password",
                message: format!("password must be at most {MAX_PASSWORD} characters"),
            });
        }
        let device = match device {
            Some(value) => self.devices.check(&login, value).await?,
            None => None,
        };
        let keys = match &device {
            Some(device) => AttemptKeys::device(&login, device),
            None => AttemptKeys::anonymous(&login, address),
        };
        let from = format!(
            "from {address}{}",
            if device.is_some() {
                " in a browser that signed in before"
            } else {
                ""
            }
        );
        match self
            .limits
            .reserve(&keys, self.users.clock().unix_millis())
            .await
        {
            Ok(()) => {}
            Err(LimitError::Wait { wait, whose }) => {
                self.admin.audit(&login, "auth.login_blocked", from).await;
                return Err(SignInError::Limited {
                    message: wait_sentence(self.users.clock().now(), wait, whose),
                    wait,
                });
            }
            Err(LimitError::Store(e)) => return Err(e.into()),
        }
        // Judged and settled in a task of its own, so a client that hangs
        // up mid-check still has its attempt counted and its slot settled.
        let judged = tokio::spawn({
            let (this, keys, login) = (self.clone(), keys.clone(), login.clone());
            async move {
                let user = this.users.get(&login).await.ok().filter(|u| !u.disabled);
                // An unknown login costs the same check as a wrong password.
                let hash = user.as_ref().and_then(|u| u.password_hash.clone());
                let ok = this.limits.verify(password, hash).await;
                this.limits
                    .settle(&keys, ok, this.users.clock().unix_millis())
                    .await;
                user.filter(|_| ok)
            }
        })
        .await
        .map_err(|e| SignInError::Internal(format!("the password check stopped: {e}")))?;
        let Some(user) = judged else {
            self.admin.audit(&login, "auth.login_failed", from).await;
            return Err(SignInError::Wrong);
        };
        Ok(Verified { user, from })
    }

    /// A new device cookie value for a browser `login` signed in with, if
    /// one could be stored.
    pub async fn device_cookie(&self, login: &str) -> Option<String> {
        match self.devices.issue(login).await {
            Ok(value) => Some(value),
            Err(e) => {
                tracing::warn!("cannot issue a device cookie: {e}");
                None
            }
        }
    }

    /// The first admin, from the one-time setup `token`.
    pub async fn complete_setup(
        &self,
        token: &str,
        login: &str,
        password: &str,
    ) -> Result<User, SignInError> {
        self.setup
            .complete(token, login.trim(), password)
            .await
            .map_err(|e| match e {
                SetupError::BadToken => SignInError::Refused {
                    rule: "setup.token",
                    message: e.to_string(),
                },
                SetupError::User(u) => SignInError::Invalid {
                    field: match u {
                        UserError::WeakPassword => "password",
                        _ => "login",
                    },
                    message: u.to_string(),
                },
                SetupError::Store(s) => s.into(),
            })
    }
}

/// "… try again in 120 seconds, after 2025-06-01T12:02:00Z" (`now` + `wait`).
fn wait_sentence(now: SystemTime, wait: Duration, whose: &str) -> String {
    let at = humantime::format_rfc3339_seconds(now + wait);
    format!(
        "too many failed sign-ins {whose}; try again in {} seconds, after {at}",
        wait.as_secs()
    )
}
