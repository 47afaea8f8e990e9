//! Remediation policies in the store (`policies/<name>.json`): created,
//! replaced and deleted by admins with compare-and-swap and an audit
//! record each; read by approvers; tried against an alert without doing
//! anything ([`Policies::dry_run`]); and read by the alert receiver
//! ([`Policies::all`], cached for a second so a storm of alerts reads the
//! store once a second, not once an alert).

use crate::clock::Clock;
use crate::store::journal::AuditLog;
use crate::store::records::Records;
use crate::store::{ObjectStore, StoreError, list_all};
use app::domain::config::FieldError;
use app::domain::policy::{Actor, Decision, Operation, Policy, decide_operation};
use app::domain::registry::Registry;
use app::domain::remediation::{self, Alert, Context, Planned, Remediation, check};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

const PREFIX: &str = "policies/";
const CACHE_FOR: Duration = Duration::from_secs(1);

/// The policies last read, and when.
type Cached = Option<(Instant, Arc<Vec<Remediation>>)>;

/// Why a policy operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum PoliciesError {
    /// Not allowed; `rule` names the rule.
    #[error("{message}")]
    Forbidden {
        /// Stable rule id.
        rule: String,
        /// Why.
        message: String,
    },
    /// No policy of that name.
    #[error("no remediation policy is called {0}")]
    NotFound(String),
    /// A policy of that name exists already.
    #[error("a remediation policy called {0} exists already; PUT /api/v1/policies/{0} replaces it")]
    Exists(String),
    /// The policy breaks its rules (every field error).
    #[error("the policy is invalid")]
    Invalid(Vec<FieldError>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A policy as stored: the policy and who last changed it, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPolicy {
    /// The policy.
    #[serde(flatten)]
    pub policy: Remediation,
    /// Who created or last replaced it.
    pub updated_by: String,
    /// When (RFC 3339).
    pub updated_at: String,
    /// 1 when created, one more on every replace.
    pub version: u64,
}

/// What one alert would lead to.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    /// The alert (its labels and status).
    pub alert: Alert,
    /// The winning policy's name, if any matched.
    pub policy: Option<String>,
    /// The action with the alert's values filled in.
    pub planned: Option<Planned>,
    /// Why the action could not be filled in or its values fail.
    pub error: Option<FieldError>,
    /// In a sentence.
    pub outcome: String,
}

/// The remediation policies.
#[derive(Clone)]
pub struct Policies {
    records: Records,
    store: Arc<dyn ObjectStore>,
    audit: AuditLog,
    registry: Arc<Registry>,
    guardrails: Policy,
    clock: Arc<dyn Clock>,
    cache: Arc<Mutex<Cached>>,
}

fn decide(op: Operation<'_>, actor: &Actor) -> Result<(), PoliciesError> {
    match decide_operation(op, actor) {
        Decision::Allowed => Ok(()),
        Decision::Forbidden { rule, reason }
        | Decision::Conflict {
            rule: Some(rule),
            reason,
        } => Err(PoliciesError::Forbidden {
            rule,
            message: reason,
        }),
        Decision::Conflict { rule: None, reason } => Err(PoliciesError::Forbidden {
            rule: "policies".into(),
            message: reason,
        }),
    }
}

fn key(name: &str) -> String {
    format!("{PREFIX}{name}.json")
}

impl Policies {
    /// Over the requests store; `guardrails` says which environments are
    /// production (never auto-approved).
    pub fn new(
        store: Arc<dyn ObjectStore>,
        audit: AuditLog,
        registry: Arc<Registry>,
        guardrails: Policy,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            records: Records::new(store.clone()),
            store,
            audit,
            registry,
            guardrails,
            clock,
            cache: Arc::new(Mutex::new(None)),
        }
    }

    /// Reads and checks a policy from JSON against the registry.
    pub fn check(&self, raw: &Value) -> Result<Remediation, PoliciesError> {
        let prod = |env: &str| self.guardrails.is_prod(env);
        check(
            raw,
            &Context {
                registry: &self.registry,
                is_prod: &prod,
            },
        )
        .map_err(PoliciesError::Invalid)
    }

    async fn stored(&self) -> Result<Vec<StoredPolicy>, PoliciesError> {
        let mut out = Vec::new();
        for entry in list_all(self.store.as_ref(), PREFIX).await? {
            match self.records.get::<StoredPolicy>(&entry.key).await {
                Ok(Some(s)) => out.push(s.value),
                Ok(None) => {}
                Err(StoreError::Invalid(e)) => {
                    tracing::warn!("skipping an unreadable remediation policy: {e}")
                }
                Err(e) => return Err(e.into()),
            }
        }
        out.sort_by(|a, b| {
            (a.policy.priority, &a.policy.name).cmp(&(b.policy.priority, &b.policy.name))
        });
        Ok(out)
    }

    /// Every policy, in the order they are tried (priority, then name),
    /// read from the store at most once a second.
    pub async fn all(&self) -> Result<Arc<Vec<Remediation>>, PoliciesError> {
        let mut cache = self.cache.lock().await;
        if let Some((at, policies)) = cache.as_ref()
            && at.elapsed() < CACHE_FOR
        {
            return Ok(policies.clone());
        }
        let policies = Arc::new(self.stored().await?.into_iter().map(|s| s.policy).collect());
        *cache = Some((Instant::now(), Arc::clone(&policies)));
        Ok(policies)
    }

    async fn forget(&self) {
        *self.cache.lock().await = None;
    }

    /// Every policy with who changed it last (approvers and admins).
    pub async fn list(&self, actor: &Actor) -> Result<Vec<StoredPolicy>, PoliciesError> {
        decide(Operation::ReadPolicies, actor)?;
        self.stored().await
    }

    /// One policy (approvers and admins).
    pub async fn get(&self, actor: &Actor, name: &str) -> Result<StoredPolicy, PoliciesError> {
        decide(Operation::ReadPolicies, actor)?;
        self.read(name)
            .await?
            .map(|(s, _)| s)
            .ok_or_else(|| PoliciesError::NotFound(name.to_owned()))
    }

    async fn read(&self, name: &str) -> Result<Option<(StoredPolicy, String)>, PoliciesError> {
        if !remediation::valid_name(name) {
            return Ok(None);
        }
        Ok(self
            .records
            .get::<StoredPolicy>(&key(name))
            .await?
            .map(|s| (s.value, s.etag)))
    }

    /// Creates a policy (admins): 409 when the name is taken.
    pub async fn create(&self, actor: &Actor, raw: &Value) -> Result<StoredPolicy, PoliciesError> {
        decide(Operation::ManagePolicies, actor)?;
        let policy = self.check(raw)?;
        let stored = self.stamp(policy, actor, 1);
        match self
            .records
            .put(&key(&stored.policy.name), &stored, None)
            .await
        {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Err(PoliciesError::Exists(stored.policy.name)),
            Err(e) => return Err(e.into()),
        }
        self.changed(actor, "policy.create", &stored).await;
        Ok(stored)
    }

    /// Creates or replaces the policy `name` (admins); `true` when it was
    /// created. The body's `name`, when given, must be `name`.
    pub async fn replace(
        &self,
        actor: &Actor,
        name: &str,
        raw: &Value,
    ) -> Result<(StoredPolicy, bool), PoliciesError> {
        decide(Operation::ManagePolicies, actor)?;
        let mut raw = raw.clone();
        if let Some(obj) = raw.as_object_mut() {
            match obj.get("name") {
                None => {
                    obj.insert("name".into(), Value::String(name.to_owned()));
                }
                Some(given) if given.as_str() != Some(name) => {
                    return Err(PoliciesError::Invalid(vec![FieldError {
                        field: "name".into(),
                        message: format!(
                            "must be {name}, the name in the path (a policy is renamed by creating the new one and deleting the old)"
                        ),
                    }]));
                }
                Some(_) => {}
            }
        }
        let policy = self.check(&raw)?;
        loop {
            let current = self.read(name).await?;
            let version = current.as_ref().map_or(1, |(s, _)| s.version + 1);
            let stored = self.stamp(policy.clone(), actor, version);
            let etag = current.as_ref().map(|(_, e)| e.as_str());
            match self.records.put(&key(name), &stored, etag).await {
                Ok(_) => {
                    let created = current.is_none();
                    let action = if created {
                        "policy.create"
                    } else {
                        "policy.update"
                    };
                    self.changed(actor, action, &stored).await;
                    return Ok((stored, created));
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Deletes the policy `name` (admins).
    pub async fn delete(&self, actor: &Actor, name: &str) -> Result<(), PoliciesError> {
        decide(Operation::ManagePolicies, actor)?;
        let Some((stored, _)) = self.read(name).await? else {
            return Err(PoliciesError::NotFound(name.to_owned()));
        };
        self.records.delete(&key(name)).await?;
        self.forget().await;
        self.audit(
            actor,
            "policy.delete",
            format!("{} (version {})", name, stored.version),
        )
        .await;
        Ok(())
    }

    /// What each alert would lead to, doing nothing (approvers and admins).
    pub async fn dry_run(
        &self,
        actor: &Actor,
        alerts: &[Alert],
    ) -> Result<Vec<DryRun>, PoliciesError> {
        decide(Operation::ReadPolicies, actor)?;
        let policies = self.stored().await?;
        let policies: Vec<Remediation> = policies.into_iter().map(|s| s.policy).collect();
        Ok(alerts.iter().map(|a| dry_run(&policies, a)).collect())
    }

    fn stamp(&self, policy: Remediation, actor: &Actor, version: u64) -> StoredPolicy {
        StoredPolicy {
            policy,
            updated_by: actor.login.clone(),
            updated_at: self.clock.rfc3339_millis(),
            version,
        }
    }

    async fn changed(&self, actor: &Actor, action: &str, stored: &StoredPolicy) {
        self.forget().await;
        let p = &stored.policy;
        let detail = format!(
            "{} (version {}): priority {}, {}, {} {}",
            p.name,
            stored.version,
            p.priority,
            if p.enabled { "enabled" } else { "disabled" },
            p.action.kind.as_str(),
            p.action.request.as_ref().map_or("", |t| t.as_str()),
        );
        self.audit(actor, action, detail).await;
    }

    async fn audit(&self, actor: &Actor, action: &str, detail: String) {
        self.audit.note(actor, action, detail).await;
    }
}

/// One alert tried against the policies.
pub fn dry_run(policies: &[Remediation], alert: &Alert) -> DryRun {
    let Some(policy) = remediation::choose(policies, alert) else {
        return DryRun {
            alert: alert.clone(),
            policy: None,
            planned: None,
            error: None,
            outcome: "no policy matched".into(),
        };
    };
    match remediation::plan(policy, alert) {
        Ok(planned) => DryRun {
            outcome: describe(policy, &planned),
            alert: alert.clone(),
            policy: Some(policy.name.clone()),
            planned: Some(planned),
            error: None,
        },
        Err(e) => DryRun {
            outcome: format!(
                "policy {} matched, but its job would fail: {e}",
                policy.name
            ),
            alert: alert.clone(),
            policy: Some(policy.name.clone()),
            planned: None,
            error: Some(FieldError {
                field: e.field,
                message: e.message,
            }),
        },
    }
}

fn describe(policy: &Remediation, planned: &Planned) -> String {
    use app::domain::remediation::ActionKind;
    let request = planned.request.as_deref().unwrap_or("-");
    let what = match planned.kind {
        ActionKind::UpdateInputs => {
            let set: Vec<String> = planned
                .inputs
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            format!(
                "a new revision of request {request} with {}",
                set.join(", ")
            )
        }
        ActionKind::Replan => format!("a new plan of request {request}"),
        ActionKind::Reapply => format!("a re-apply of request {request}"),
        ActionKind::Notify => format!("a notice: {}", planned.message.as_deref().unwrap_or("")),
    };
    let approval = if planned.kind == ActionKind::Notify {
        String::new()
    } else if policy.auto_approve_environments.is_empty() {
        ", then waiting for a person to approve".into()
    } else {
        let envs: Vec<&str> = policy
            .auto_approve_environments
            .iter()
            .map(String::as_str)
            .collect();
        format!(
            ", approved and applied without a person in {} (elsewhere it waits for approval)",
            envs.join(", ")
        )
    };
    format!("policy {} would file {what}{approval}", policy.name)
}
