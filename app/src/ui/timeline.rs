//! A request's timeline: its records in the append-only audit log (every
//! change, every refusal, who and when).

use serde::{Deserialize, Serialize};

/// One audit record as the timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What (`request.approve`, `auth.denied`…).
    pub action: String,
    /// Details.
    pub detail: String,
}
