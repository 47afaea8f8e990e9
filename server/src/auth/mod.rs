//! Identities: local users, machine tokens, and who is calling.
//!
//! Users and tokens live in the requests bucket (`users/<login>.json`,
//! `tokens/<id>.json`) through the same object store as requests, so every
//! replica sees the same accounts. Passwords are argon2id hashes; tokens
//! are random and stored only as SHA-256 hashes.

pub mod contact;
pub mod device;
pub mod identities;
pub mod keys;
pub mod limits;
pub mod sessions;
pub mod setup;
pub mod tokens;
pub mod trust;
pub mod users;

pub use tokens::{TokenError, Tokens};

use crate::config::Config;
use app::domain::policy::{Actor, Role};

/// A user's role: its stored role, raised by `TFPILOT_APPROVERS` and
/// `TFPILOT_ADMINS`. An entry names an identity kind — `github:octocat`,
/// `local:root` — or is a bare login, which means a GitHub identity when
/// GitHub sign-in is configured and a local one otherwise. A local account
/// is never raised by a GitHub login of the same name, nor the reverse.
pub fn effective_role(config: &Config, user: &User) -> Role {
    let kind = user.identity.kind();
    let default_kind = if config.github_oauth.is_some() {
        "github"
    } else {
        "local"
    };
    let names = |list: &std::collections::BTreeSet<String>| {
        list.contains(&format!("{kind}:{}", user.login))
            || (kind == default_kind && list.contains(&user.login))
    };
    if names(&config.admins) {
        Role::Admin
    } else if names(&config.approvers) {
        user.role.max(Role::Approver)
    } else {
        user.role
    }
}

/// Session keys.
pub mod session_keys {
    /// The signed-in login.
    pub const LOGIN: &str = "login";
    /// The CSRF token of the session.
    pub const CSRF: &str = "csrf";
    /// When the session signed in (unix seconds), for the absolute expiry.
    pub const SINCE: &str = "since";
    /// The user's sessions epoch at sign-in: a password change raises the
    /// user's, which ends every session signed in before it.
    pub const EPOCH: &str = "epoch";
}

/// Why a session does not name an actor.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Not signed in, expired, or the account is gone or disabled.
    #[error("{0}")]
    Unauthorized(String),
    /// The session store failed.
    #[error("cannot read the session: {0}")]
    Unavailable(String),
}

/// The signed-in actor of a browser session. Reads the account (trusted
/// for a few seconds, [`trust`]), so a disabled user or a changed role
/// counts at once on this replica and within seconds on the others; ends
/// a session past its absolute lifetime.
pub async fn session_actor(
    session: &tower_sessions::Session,
    users: &Users,
    config: &Config,
) -> Result<Actor, SessionError> {
    use session_keys::{EPOCH, LOGIN, SINCE};
    let unavailable = |e: tower_sessions::session::Error| SessionError::Unavailable(e.to_string());
    let Some(login) = session.get::<String>(LOGIN).await.map_err(unavailable)? else {
        return Err(SessionError::Unauthorized(
            "sign in at /login, or send `Authorization: Bearer <token>` (create one with `tfpilot tokens create --user NAME`)".into(),
        ));
    };
    let since: u64 = session.get(SINCE).await.map_err(unavailable)?.unwrap_or(0);
    let now = users.clock().unix_secs();
    if now.saturating_sub(since) > config.sessions.absolute.as_secs() {
        let _ = session.flush().await;
        return Err(SessionError::Unauthorized(
            "the session has expired; sign in again".into(),
        ));
    }
    let user = users
        .get_trusted(&login)
        .await
        .ok()
        .filter(|u| !u.disabled)
        .ok_or_else(|| {
            SessionError::Unauthorized("this account no longer exists or is disabled".into())
        })?;
    let epoch: u32 = session.get(EPOCH).await.map_err(unavailable)?.unwrap_or(0);
    if epoch != user.sessions_epoch {
        let _ = session.flush().await;
        return Err(SessionError::Unauthorized(
            "the password of this account was changed; sign in again".into(),
        ));
    }
    Ok(Actor::person(
        user.login.clone(),
        effective_role(config, &user),
    ))
}
pub use users::{User, UserError, Users};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `a == b`, in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a login is acceptable: 1–64 of `a-z A-Z 0-9 - _ .`.
pub fn valid_login(login: &str) -> bool {
    (1..=64).contains(&login.len())
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !login.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use users::Identity;

    fn config(oauth: bool) -> Config {
        let vars = [
            ("TFPILOT_ADMINS", "ann,github:gus,local:lou"),
            ("TFPILOT_APPROVERS", "pat,local:ann,github:lou"),
            ("TFPILOT_GITHUB_OAUTH_CLIENT_ID", "id"),
            ("TFPILOT_GITHUB_OAUTH_CLIENT_SECRET", "secret"),
        ];
        let n = if oauth { vars.len() } else { 2 };
        Config::load(|k| {
            vars[..n]
                .iter()
                .find(|(v, _)| *v == k)
                .map(|(_, x)| x.to_string())
        })
        .unwrap()
    }

    fn user(login: &str, identity: Identity) -> User {
        User {
            login: login.into(),
            role: Role::Requester,
            password_hash: None,
            created_at: String::new(),
            disabled: false,
            identity,
            sessions_epoch: 0,
            slack_user_id: None,
            email: None,
        }
    }

    #[test]
    fn role_lists_raise_only_the_identity_kind_they_name() {
        let local = Identity::Local;
        let github = Identity::Github { id: 1 };
        let table = [
            // (GitHub sign-in on, login, kind, role)
            (false, "ann", local, Role::Admin),
            (false, "ann", github, Role::Requester),
            (true, "ann", local, Role::Approver),
            (true, "ann", github, Role::Admin),
            (false, "gus", local, Role::Requester),
            (true, "gus", local, Role::Requester),
            (false, "gus", github, Role::Admin),
            (true, "lou", local, Role::Admin),
            (true, "lou", github, Role::Approver),
            (false, "pat", local, Role::Approver),
            (false, "pat", github, Role::Requester),
            (true, "pat", local, Role::Requester),
            (true, "pat", github, Role::Approver),
            (true, "nobody", github, Role::Requester),
        ];
        for (oauth, login, identity, want) in table {
            assert_eq!(
                effective_role(&config(oauth), &user(login, identity)),
                want,
                "{oauth} {login} {identity:?}"
            );
        }
    }
}
