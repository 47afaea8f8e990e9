//! Identities: local users, machine tokens, and who is calling.
//!
//! Users and tokens live in the requests bucket (`users/<login>.json`,
//! `tokens/<id>.json`) through the same object store as requests, so every
//! replica sees the same accounts. Passwords are argon2id hashes; tokens
//! are random and stored only as SHA-256 hashes.

pub mod limits;
pub mod sessions;
pub mod setup;
pub mod tokens;
pub mod users;

pub use tokens::{TokenError, Tokens};
pub use users::{User, UserError, Users};

/// Random bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system has a random source");
    buf
}

/// The current time as RFC 3339 UTC with milliseconds.
pub fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// Whether a login is acceptable: 1–64 of `a-z A-Z 0-9 - _ .`.
pub fn valid_login(login: &str) -> bool {
    (1..=64).contains(&login.len())
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !login.starts_with('.')
}
