//! The connection test's side in the service: the caller allowed, the
//! record opened for the test, and the outcome audited
//! (`integration.test`, ok or failed, never a value).

use super::{Integrations, IntegrationsError, Resolved, kind_of, not_found};
use crate::integrations::kinds::{self, Kind};
use crate::integrations::open_secrets;
use app::domain::config::FieldError;
use app::domain::policy::Actor;

impl Integrations {
    /// The decrypted fields of `kind/name` for its connection test
    /// (admins); a kind without a test is a 422 naming `kind`.
    pub async fn for_test(
        &self,
        actor: &Actor,
        kind: &str,
        name: &str,
        testable: &[Kind],
    ) -> Result<(Kind, Resolved), IntegrationsError> {
        let keyring = self.admitted(actor)?;
        let kind = kind_of(kind)?;
        if !testable.contains(&kind) {
            let names: Vec<&str> = testable.iter().map(|k| k.as_str()).collect();
            return Err(IntegrationsError::Invalid(vec![FieldError {
                field: "kind".into(),
                message: format!(
                    "{} has no connection test; {} do",
                    kind.as_str(),
                    names.join(", ")
                ),
            }]));
        }
        if !kinds::valid_name(name) {
            return Err(not_found(kind, name));
        }
        let stored = self.store.get(kind, name).await?;
        let r = stored.ok_or_else(|| not_found(kind, name))?.value;
        let secrets = open_secrets(keyring, &r.kind, &r.name, &r.secret).map_err(|reason| {
            IntegrationsError::Unreadable {
                kind: r.kind.clone(),
                name: r.name.clone(),
                reason,
            }
        })?;
        Ok((
            kind,
            Resolved {
                metadata: r.metadata,
                secrets,
            },
        ))
    }

    /// Audits a connection test's outcome.
    pub async fn tested(&self, actor: &Actor, kind: Kind, name: &str, ok: bool) {
        let outcome = if ok {
            "accepted"
        } else {
            "refused or unreachable"
        };
        let detail = format!("{}/{name}: {outcome}", kind.as_str());
        self.audit(actor, "integration.test", detail).await;
    }
}
