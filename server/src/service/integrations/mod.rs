//! Integration credentials, for admins: list, read (never a secret), set
//! and delete, each change audited without a value (`integration.put`,
//! `integration.delete`: kind, name, the fields changed, the key id); and
//! [`Integrations::resolve`], the decrypted fields for the adapters. A
//! change of a `default` record is read again at once by the adapters'
//! [`Credentials`]; a kind whose environment variable is set says so.
//! Without a master key (production without `TFPILOT_MASTER_KEY`) every
//! call is refused as unavailable.

mod connection;
mod view;

use crate::clock::Clock;
use crate::ids::Ids;
use crate::integrations::credentials::{Credentials, DEFAULT_NAME};
use crate::integrations::crypto::{Keyring, OpenError};
use crate::integrations::kinds::{self, KINDS, Kind, read_change};
use crate::integrations::store::{IntegrationRecord, IntegrationStore};
use crate::integrations::{Secrets, open_secrets, seal_secrets};
use crate::store::journal::AuditLog;
use crate::store::{ObjectStore, StoreError};
use app::api::{IntegrationView, IntegrationsPage};
use app::domain::config::FieldError;
use app::domain::policy::{Actor, Decision, Operation, decide_operation};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The sentence of a refusal when there is no master key.
pub const UNAVAILABLE: &str = "integration credentials are unavailable: TFPILOT_MASTER_KEY (or TFPILOT_MASTER_KEY_FILE) is not set; set it to 32 random bytes in base64 (`openssl rand -base64 32`) and restart";

/// Why an integration operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum IntegrationsError {
    /// Not an admin; `rule` names the rule.
    #[error("{message}")]
    Forbidden {
        /// Stable rule id.
        rule: String,
        /// Why.
        message: String,
    },
    /// No master key: nothing can be sealed or opened.
    #[error("{UNAVAILABLE}")]
    Unavailable,
    /// No such kind, or no record of that kind and name.
    #[error("{0}")]
    NotFound(String),
    /// Fields that break their rules, each named.
    #[error("the integration is invalid")]
    Invalid(Vec<FieldError>),
    /// A secret left out should be kept, but the stored one does not open.
    #[error("the stored secret of {kind}/{name} {reason}; send every secret field to set it again")]
    Unreadable {
        /// Kind.
        kind: String,
        /// Name.
        name: String,
        /// Why it does not open.
        reason: OpenError,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An integration's fields, decrypted, for the adapter that uses it.
#[derive(Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The clear fields.
    pub metadata: BTreeMap<String, String>,
    /// The secret fields.
    pub secrets: Secrets,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("metadata", &self.metadata)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Why [`Integrations::resolve`] has no answer.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No master key.
    #[error("{UNAVAILABLE}")]
    Unavailable,
    /// The record's secret does not open.
    #[error("the integration {kind}/{name} {reason}")]
    Unreadable {
        /// Kind.
        kind: &'static str,
        /// Name.
        name: String,
        /// Why.
        reason: OpenError,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Attempts at a write when the record keeps changing under it.
const ATTEMPTS: usize = 10;

/// The integration credentials.
#[derive(Clone)]
pub struct Integrations {
    store: IntegrationStore,
    keys: Option<Arc<Keyring>>,
    ids: Arc<dyn Ids>,
    clock: Arc<dyn Clock>,
    audit: AuditLog,
    credentials: Option<Arc<Credentials>>,
}

/// "TFPILOT_SLACK_BOT_TOKEN is set and wins".
fn wins(var: &str) -> String {
    format!("{var} is set and wins")
}

fn decide(actor: &Actor) -> Result<(), IntegrationsError> {
    match decide_operation(Operation::ManageIntegrations, actor) {
        Decision::Allowed => Ok(()),
        Decision::Forbidden { rule, reason }
        | Decision::Conflict {
            rule: Some(rule),
            reason,
        } => Err(IntegrationsError::Forbidden {
            rule,
            message: reason,
        }),
        Decision::Conflict { rule: None, reason } => Err(IntegrationsError::Forbidden {
            rule: "integrations.admin".into(),
            message: reason,
        }),
    }
}

fn kind_of(kind: &str) -> Result<Kind, IntegrationsError> {
    Kind::parse(kind).ok_or_else(|| {
        IntegrationsError::NotFound(format!(
            "there is no integration kind {kind}; the kinds are {}",
            kinds::kind_names()
        ))
    })
}

fn not_found(kind: Kind, name: &str) -> IntegrationsError {
    IntegrationsError::NotFound(format!("no {} integration is called {name}", kind.as_str()))
}

impl Integrations {
    /// Over the requests store; `keys` `None`: unavailable.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        keys: Option<Arc<Keyring>>,
        ids: Arc<dyn Ids>,
        clock: Arc<dyn Clock>,
        audit: AuditLog,
    ) -> Self {
        Self {
            store: IntegrationStore::new(store),
            keys,
            ids,
            clock,
            audit,
            credentials: None,
        }
    }

    /// Telling `credentials` of every change of a `default` record, and
    /// saying which kinds their environment sets.
    pub fn with_credentials(mut self, credentials: Arc<Credentials>) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The variable that wins over `kind/name`, if it is the record the
    /// adapters read and the variable is set.
    fn env_wins(&self, kind: &str, name: &str) -> Option<String> {
        let kind = Kind::parse(kind)?;
        let var = self.credentials.as_ref()?.env_var(kind)?;
        (name == DEFAULT_NAME).then(|| wins(var))
    }

    fn shown(&self, r: &IntegrationRecord, keyring: &Keyring) -> IntegrationView {
        let mut v = view::view(r, keyring);
        v.env_wins = self.env_wins(&r.kind, &r.name);
        v
    }

    /// The adapters read `kind` again after a change of its `default`.
    async fn changed(&self, kind: Kind, name: &str) {
        if let Some(c) = &self.credentials
            && name == DEFAULT_NAME
        {
            c.refresh_kind(kind).await;
        }
    }

    /// The keyring, after the caller was allowed.
    fn admitted(&self, actor: &Actor) -> Result<&Keyring, IntegrationsError> {
        decide(actor)?;
        self.keys.as_deref().ok_or(IntegrationsError::Unavailable)
    }

    /// Every integration, by kind then name; a record that does not open
    /// is listed as unreadable and the others as usual.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<IntegrationView>, IntegrationsError> {
        let keyring = self.admitted(actor)?;
        let mut out = Vec::new();
        for key in self.store.keys().await? {
            match self.store.get_key(&key).await {
                Ok(Some(s)) => out.push(self.shown(&s.value, keyring)),
                Ok(None) => {}
                Err(StoreError::Invalid(e)) => {
                    tracing::warn!("skipping an integration record that is not JSON: {e}")
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    /// The page `/admin/integrations`: unavailable (with why) rather than
    /// refused when there is no key.
    pub async fn page(&self, actor: &Actor) -> Result<IntegrationsPage, IntegrationsError> {
        decide(actor)?;
        let kinds = KINDS.into_iter().map(view::form).collect();
        let env_wins = KINDS
            .into_iter()
            .filter_map(|k| {
                let var = self.credentials.as_ref()?.env_var(k)?;
                Some(format!("{}: {}", k.as_str(), wins(var)))
            })
            .collect();
        let Some(keyring) = self.keys.as_deref() else {
            return Ok(IntegrationsPage {
                unavailable: Some(UNAVAILABLE.into()),
                key_id: None,
                rows: Vec::new(),
                kinds,
                env_wins,
            });
        };
        Ok(IntegrationsPage {
            unavailable: None,
            key_id: Some(keyring.current.id().to_owned()),
            rows: self.list(actor).await?,
            kinds,
            env_wins,
        })
    }

    /// One integration, without its secret.
    pub async fn get(
        &self,
        actor: &Actor,
        kind: &str,
        name: &str,
    ) -> Result<IntegrationView, IntegrationsError> {
        let keyring = self.admitted(actor)?;
        let kind = kind_of(kind)?;
        if !kinds::valid_name(name) {
            return Err(not_found(kind, name));
        }
        let stored = self.store.get(kind, name).await?;
        let stored = stored.ok_or_else(|| not_found(kind, name))?;
        Ok(self.shown(&stored.value, keyring))
    }

    /// Sets `kind/name` from a JSON object of the kind's fields: the clear
    /// fields as given, the secret fields given sealed with the current
    /// key and the others kept. `true` when it was created.
    pub async fn put(
        &self,
        actor: &Actor,
        kind: &str,
        name: &str,
        raw: &Value,
    ) -> Result<(IntegrationView, bool), IntegrationsError> {
        let keyring = self.admitted(actor)?;
        let kind = kind_of(kind)?;
        if !kinds::valid_name(name) {
            return Err(IntegrationsError::Invalid(vec![FieldError {
                field: "name".into(),
                message: format!(
                    "`{}` must match ^[a-z0-9][a-z0-9-]{{0,62}}$ (lowercase letters, digits and dashes)",
                    name.chars().take(80).collect::<String>()
                ),
            }]));
        }
        for _ in 0..ATTEMPTS {
            let current = self.store.get(kind, name).await?;
            let before = current.as_ref().map(|s| &s.value);
            let has = |f: &str| before.is_some_and(|r| r.secret_fields.iter().any(|s| s == f));
            let change = read_change(kind, raw, &has).map_err(IntegrationsError::Invalid)?;
            let mut secrets = Secrets::new();
            if let Some(old) = before {
                let kept: Vec<&String> = old
                    .secret_fields
                    .iter()
                    .filter(|f| !change.secrets.contains_key(*f))
                    .collect();
                if !kept.is_empty() {
                    let opened = open_secrets(keyring, &old.kind, &old.name, &old.secret).map_err(
                        |reason| IntegrationsError::Unreadable {
                            kind: old.kind.clone(),
                            name: old.name.clone(),
                            reason,
                        },
                    )?;
                    secrets.extend(opened.into_iter().filter(|(f, _)| kept.contains(&f)));
                }
            }
            let set: Vec<String> = change.secrets.keys().cloned().collect();
            secrets.extend(change.secrets);
            let record = IntegrationRecord {
                kind: kind.as_str().to_owned(),
                name: name.to_owned(),
                secret_fields: secrets.keys().cloned().collect(),
                secret: seal_secrets(keyring, self.ids.as_ref(), kind.as_str(), name, &secrets),
                set_at: self.clock.rfc3339_millis(),
                set_by: actor.login.clone(),
                version: before.map_or(1, |r| r.version + 1),
                metadata: change.metadata,
            };
            let etag = current.as_ref().map(|s| s.etag.as_str());
            match self.store.put(&record, etag).await {
                Ok(_) => {
                    let detail = view::changed(before, &record, &set);
                    self.audit(actor, "integration.put", detail).await;
                    self.changed(kind, name).await;
                    return Ok((self.shown(&record, keyring), before.is_none()));
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict(format!("integrations/{}/{name}", kind.as_str())).into())
    }

    /// Deletes `kind/name`.
    pub async fn delete(
        &self,
        actor: &Actor,
        kind: &str,
        name: &str,
    ) -> Result<(), IntegrationsError> {
        let keyring = self.admitted(actor)?;
        let kind = kind_of(kind)?;
        if !kinds::valid_name(name) {
            return Err(not_found(kind, name));
        }
        let Some(stored) = self.store.get(kind, name).await? else {
            return Err(not_found(kind, name));
        };
        self.store.delete(kind, name).await?;
        let r = &stored.value;
        let detail = format!(
            "{}/{} (version {}, key {}; the current key is {})",
            r.kind,
            r.name,
            r.version,
            r.secret.key_id,
            keyring.current.id()
        );
        self.audit(actor, "integration.delete", detail).await;
        self.changed(kind, name).await;
        Ok(())
    }

    /// The decrypted fields of `kind/name` for an adapter; `None` when
    /// there is no such record.
    pub async fn resolve(&self, kind: Kind, name: &str) -> Result<Option<Resolved>, ResolveError> {
        let keyring = self.keys.as_deref().ok_or(ResolveError::Unavailable)?;
        let Some(stored) = self.store.get(kind, name).await? else {
            return Ok(None);
        };
        let r = stored.value;
        let secrets = open_secrets(keyring, &r.kind, &r.name, &r.secret).map_err(|reason| {
            ResolveError::Unreadable {
                kind: kind.as_str(),
                name: name.to_owned(),
                reason,
            }
        })?;
        Ok(Some(Resolved {
            metadata: r.metadata,
            secrets,
        }))
    }

    async fn audit(&self, actor: &Actor, action: &str, detail: String) {
        self.audit.note(actor, action, detail).await;
    }
}
