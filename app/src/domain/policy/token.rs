//! What a bearer token may do: at most a role, or a machine scope —
//! `automation`, which only files remediations (the Alertmanager
//! receiver), or `metrics`, which only reads `GET /metrics`.

use super::Role;
use serde::{Deserialize, Serialize};

/// A token's scope. Stored as its name, so records written when scopes
/// were only roles read back the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// At most a viewer.
    Viewer,
    /// At most a requester.
    Requester,
    /// At most an approver.
    Approver,
    /// At most an admin (the owner's role).
    Admin,
    /// Files remediations (alerts) and nothing else: no read, no action,
    /// whatever the owner's role. Given only by an admin.
    Automation,
    /// Reads `GET /metrics` and nothing else, whatever the owner's role.
    /// Given only by an admin.
    Metrics,
}

impl TokenScope {
    /// Every scope, in the order forms list them.
    pub const ALL: [TokenScope; 6] = [
        Self::Viewer,
        Self::Requester,
        Self::Approver,
        Self::Admin,
        Self::Automation,
        Self::Metrics,
    ];

    /// The role it caps the owner at (`None`: a machine scope, which is no
    /// role).
    pub fn role(self) -> Option<Role> {
        match self {
            Self::Viewer => Some(Role::Viewer),
            Self::Requester => Some(Role::Requester),
            Self::Approver => Some(Role::Approver),
            Self::Admin => Some(Role::Admin),
            Self::Automation | Self::Metrics => None,
        }
    }

    /// Whether it is a machine scope (`automation`, `metrics`): one
    /// purpose, no role, given only by an admin.
    pub fn is_machine(self) -> bool {
        self.role().is_none()
    }

    /// Parses `viewer`, `requester`, `approver`, `admin`, `automation` or
    /// `metrics`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Requester => "requester",
            Self::Approver => "approver",
            Self::Admin => "admin",
            Self::Automation => "automation",
            Self::Metrics => "metrics",
        }
    }

    /// The effective role of a token of this scope whose owner has `owner`:
    /// the lower of the two; a machine token acts as the lowest role
    /// (a viewer), so no check written for people ever lets it through —
    /// and `policy` refuses it everything but its one purpose.
    pub fn cap(self, owner: Role) -> Role {
        self.role().map_or(Role::Viewer, |r| r.min(owner))
    }
}

impl From<Role> for TokenScope {
    fn from(role: Role) -> Self {
        match role {
            Role::Viewer => Self::Viewer,
            Role::Requester => Self::Requester,
            Role::Approver => Self::Approver,
            Role::Admin => Self::Admin,
        }
    }
}
