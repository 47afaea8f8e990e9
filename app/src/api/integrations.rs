//! Integration credentials as the API and the page `/admin/integrations`
//! show them: never a secret, only which secret fields are set, when, by
//! whom and under which key, and whether the secret still opens.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The state of a record whose secret opens.
pub const STATE_OK: &str = "ok";
/// The state of a record whose secret does not open.
pub const STATE_UNREADABLE: &str = "unreadable (wrong key?)";

/// One stored integration, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationView {
    /// Its kind (`slack`).
    pub kind: String,
    /// Its name (`default`).
    pub name: String,
    /// The clear fields.
    pub metadata: BTreeMap<String, String>,
    /// The names of the secret fields that are set (never their values).
    pub secret_fields: Vec<String>,
    /// When it was last set (RFC 3339).
    pub set_at: String,
    /// By whom.
    pub set_by: String,
    /// The id of the master key its secret is sealed with (`k3fa9c1d2`).
    pub key_id: String,
    /// 1 when created, one more on every write.
    pub version: u64,
    /// [`STATE_OK`] or [`STATE_UNREADABLE`].
    pub state: String,
    /// Why it is unreadable, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// For the record the adapters read (`default`) of a kind whose
    /// environment variable is set: "TFPILOT_SLACK_BOT_TOKEN is set and
    /// wins" — the record is not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_wins: Option<String>,
}

impl IntegrationView {
    /// "set on 2026-12-02 by ada, key k3fa9c1d2", or the unreadable state.
    pub fn summary(&self) -> String {
        if self.state == STATE_OK {
            let day = self.set_at.get(..10).unwrap_or(&self.set_at);
            format!("set on {day} by {}, key {}", self.set_by, self.key_id)
        } else {
            self.state.clone()
        }
    }
}

/// One field of a kind's form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindField {
    /// Its name.
    pub name: String,
    /// A secret: a password input, never filled in.
    pub secret: bool,
    /// Needed (a secret: needed in a new record).
    pub required: bool,
}

/// A kind and its fields, for the forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindForm {
    /// `slack`.
    pub kind: String,
    /// `Slack`.
    pub title: String,
    /// Clear fields first.
    pub fields: Vec<KindField>,
}

/// The page `/admin/integrations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationsPage {
    /// Why integrations are unavailable (no master key), if they are.
    pub unavailable: Option<String>,
    /// The current master key's id.
    pub key_id: Option<String>,
    /// The stored integrations, by kind then name.
    pub rows: Vec<IntegrationView>,
    /// Every kind with its fields.
    pub kinds: Vec<KindForm>,
    /// A sentence per kind whose environment variable is set, which wins
    /// over any stored record (`slack: TFPILOT_SLACK_BOT_TOKEN is set and
    /// wins`).
    #[serde(default)]
    pub env_wins: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_when_who_and_which_key_or_that_it_does_not_open() {
        let mut view = IntegrationView {
            kind: "slack".into(),
            name: "default".into(),
            metadata: BTreeMap::new(),
            secret_fields: vec!["bot_token".into()],
            set_at: "2026-12-02T10:00:00.000Z".into(),
            set_by: "ada".into(),
            key_id: "k3fa9c1d2".into(),
            version: 1,
            state: STATE_OK.into(),
            problem: None,
            env_wins: None,
        };
        assert_eq!(view.summary(), "set on 2026-12-02 by ada, key k3fa9c1d2");
        view.state = STATE_UNREADABLE.into();
        assert_eq!(view.summary(), "unreadable (wrong key?)");
    }
}
