//! What is shown of a record — never its secret — and what an audit
//! record says of a change: field names, never values.

use crate::integrations::crypto::Keyring;
use crate::integrations::kinds::Kind;
use crate::integrations::open_secrets;
use crate::integrations::store::IntegrationRecord;
use app::api::integrations::{STATE_OK, STATE_UNREADABLE};
use app::api::{IntegrationView, KindField, KindForm};

/// The record as shown: its secret opened only to tell whether it opens.
pub(super) fn view(r: &IntegrationRecord, keyring: &Keyring) -> IntegrationView {
    let problem = open_secrets(keyring, &r.kind, &r.name, &r.secret)
        .err()
        .map(|e| e.to_string());
    IntegrationView {
        kind: r.kind.clone(),
        name: r.name.clone(),
        metadata: r.metadata.clone(),
        secret_fields: r.secret_fields.clone(),
        set_at: r.set_at.clone(),
        set_by: r.set_by.clone(),
        key_id: r.secret.key_id.clone(),
        version: r.version,
        state: if problem.is_none() {
            STATE_OK
        } else {
            STATE_UNREADABLE
        }
        .to_owned(),
        problem,
        env_wins: None,
    }
}

/// A kind's form.
pub(super) fn form(kind: Kind) -> KindForm {
    KindForm {
        kind: kind.as_str().to_owned(),
        title: kind.title().to_owned(),
        fields: kind
            .fields()
            .iter()
            .map(|f| KindField {
                name: f.name.to_owned(),
                secret: f.secret,
                required: f.required,
            })
            .collect(),
    }
}

/// `slack/default (version 2, key k3fa9c1d2): set bot_token; changed
/// channel` — the names of the secret fields given and of the clear
/// fields whose value changed, never a value.
pub(super) fn changed(
    before: Option<&IntegrationRecord>,
    after: &IntegrationRecord,
    secrets_set: &[String],
) -> String {
    let mut clear: Vec<&str> = after
        .metadata
        .iter()
        .filter(|(k, v)| before.and_then(|b| b.metadata.get(*k)) != Some(*v))
        .map(|(k, _)| k.as_str())
        .collect();
    if let Some(b) = before {
        clear.extend(
            b.metadata
                .keys()
                .filter(|k| !after.metadata.contains_key(*k))
                .map(String::as_str),
        );
    }
    clear.sort_unstable();
    let mut parts = Vec::new();
    if !secrets_set.is_empty() {
        parts.push(format!("set {}", secrets_set.join(", ")));
    }
    if !clear.is_empty() {
        parts.push(format!("changed {}", clear.join(", ")));
    }
    if parts.is_empty() {
        parts.push("nothing changed".into());
    }
    format!(
        "{}/{} (version {}, key {}): {}",
        after.kind,
        after.name,
        after.version,
        after.secret.key_id,
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OsIds;
    use crate::integrations::crypto::MasterKey;
    use crate::integrations::seal_secrets;
    use std::collections::BTreeMap;

    fn record(keyring: &Keyring, channel: Option<&str>, token: &str) -> IntegrationRecord {
        let secrets = BTreeMap::from([("bot_token".to_owned(), token.to_owned())]);
        IntegrationRecord {
            kind: "slack".into(),
            name: "default".into(),
            metadata: channel
                .map(|c| BTreeMap::from([("channel".to_owned(), c.to_owned())]))
                .unwrap_or_default(),
            secret_fields: vec!["bot_token".into()],
            secret: seal_secrets(keyring, &OsIds, "slack", "default", &secrets),
            set_at: "2026-12-02T10:00:00.000Z".into(),
            set_by: "ada".into(),
            version: 2,
        }
    }

    #[test]
    fn the_audit_detail_names_fields_and_never_values() {
        let keyring = Keyring::single(MasterKey::new([3; 32]));
        let key = keyring.current.id().to_owned();
        let before = record(&keyring, Some("#old-channel"), "xoxb-before");
        let after = record(&keyring, None, "xoxb-after");
        let text = changed(Some(&before), &after, &["bot_token".into()]);
        assert_eq!(
            text,
            format!("slack/default (version 2, key {key}): set bot_token; changed channel")
        );
        assert!(!text.contains("xoxb") && !text.contains("#old"), "{text}");
        let same = changed(Some(&before), &before, &[]);
        assert!(same.ends_with(": nothing changed"), "{same}");
    }

    #[test]
    fn a_record_of_another_key_is_shown_unreadable() {
        let keyring = Keyring::single(MasterKey::new([3; 32]));
        let other = Keyring::single(MasterKey::new([4; 32]));
        let ok = view(&record(&keyring, None, "xoxb-1"), &keyring);
        assert_eq!(ok.state, STATE_OK);
        assert_eq!(ok.problem, None);
        let bad = view(&record(&other, None, "xoxb-1"), &keyring);
        assert_eq!(bad.state, STATE_UNREADABLE);
        assert!(bad.problem.unwrap().contains("neither TFPILOT_MASTER_KEY"));
        assert!(!serde_json::to_string(&ok).unwrap().contains("xoxb"));
    }
}
