//! People: the signed-in user, the admin pages' users and tokens, and
//! what the server tells a page it renders after a form post.

use serde::{Deserialize, Serialize};

/// The signed-in user, as the top bar shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// Login.
    pub login: String,
    /// Effective role.
    pub role: String,
    /// Whether they are an admin of some project (they manage its members).
    #[serde(default)]
    pub project_admin: bool,
}

/// A user as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    /// Login.
    pub login: String,
    /// viewer, requester, approver or admin.
    pub role: String,
    /// Disabled users cannot sign in or use tokens.
    pub disabled: bool,
    /// Whether the user has a password (else: GitHub sign-in only).
    pub password: bool,
    /// The Slack member id that acts as this user in Slack.
    #[serde(default)]
    pub slack_user_id: Option<String>,
    /// Where e-mail notices go.
    #[serde(default)]
    pub email: Option<String>,
}

/// A token as the pages list it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    /// Public id.
    pub id: String,
    /// Owner.
    pub user: String,
    /// Label.
    pub name: String,
    /// The most it may do.
    pub scope: Option<String>,
    /// Created at.
    pub created_at: String,
    /// Revoked at.
    pub revoked_at: Option<String>,
}

/// A token just created, shown once on the page its post returns (the
/// server provides it as context for that one render).
#[derive(Debug, Clone)]
pub struct FreshToken(pub String);

/// A sentence the server shows above the sign-in form when it refused an
/// attempt for another reason than a wrong password (too many failures:
/// when to try again); provided as context for that one render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInNotice(pub String);
