//! The remediation policies page (`/admin/policies`): the policies as
//! rows, and what an alert tried against them would do.

use serde::{Deserialize, Serialize};

/// A policy as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRow {
    /// Name.
    pub name: String,
    /// Lower wins.
    pub priority: i64,
    /// Disabled policies match nothing.
    pub enabled: bool,
    /// The condition in one line (`alertname=QueueBacklog, severity=~crit.*; firing`).
    pub condition: String,
    /// The action in one line.
    pub action: String,
    /// Where it approves and applies without a person.
    pub auto_approve: Vec<String>,
    /// Who changed it last.
    pub updated_by: String,
    /// When (RFC 3339).
    pub updated_at: String,
    /// 1, then one more per change.
    pub version: u64,
    /// The policy as JSON, pretty-printed, to edit and save again.
    pub json: String,
}

/// One alert of a tried payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriedAlert {
    /// Its labels in one line.
    pub alert: String,
    /// The policy that matched, if any.
    pub policy: Option<String>,
    /// What would happen, in a sentence.
    pub outcome: String,
}

/// Everything the page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyPage {
    /// The policies, in the order they are tried.
    pub rows: Vec<PolicyRow>,
    /// Whether the caller may save and delete (admins).
    pub can_manage: bool,
    /// The alert payload tried (`?alert=`), and its results or why it
    /// could not be read.
    pub tried: Option<Result<Vec<TriedAlert>, String>>,
}
