//! Adopting a request's drift: a new revision whose inputs say what is
//! there (`domain::drift::adopt`), filed through the same path as
//! `PATCH /api/v1/requests/{id}` — new PR, plan, approval as usual — or
//! the sentence saying why not.

use super::{Flow, FlowError, refuse};
use crate::store::journal::AuditRecord;
use crate::store::repo::Versioned;
use app::domain::drift::adopt::{Adoption, new_inputs, sentence};
use app::domain::ids::{RequestId, Target};
use app::domain::policy::{Action, Actor, decide};
use app::domain::request::Request;
use app::domain::status::{Status, derive_status};
use std::sync::Arc;

/// The rule of the 409 for a request without drift.
pub const NO_DRIFT: &str = "drift.none";
/// The rule of the 409 for a request that is not applied.
pub const NOT_APPLIED: &str = "drift.not_applied";

impl Flow {
    /// What adopting `doc`'s drift would file: the new inputs, or the
    /// sentence saying why it cannot; `None` when it has no drift.
    pub fn drift_adoption(&self, doc: &Request) -> Option<Result<Adoption, String>> {
        let drift = doc.drift.as_ref()?;
        let Some(module) = self.registry.module(&doc.module) else {
            return Some(Err(format!(
                "The drift cannot be adopted: module {} is no longer in the registry.",
                doc.module
            )));
        };
        let target = Target {
            request_id: &doc.id,
            project: &doc.project,
            environment: &doc.environment,
        };
        Some(new_inputs(module, target, &doc.config, drift).map_err(|o| sentence(&o)))
    }

    /// Adopts request `id`'s drift for `actor`: who may change the
    /// request's inputs may (403 otherwise); it must be applied and
    /// drifted (409, `drift.not_applied`, `drift.none`), and the drift
    /// expressible by its inputs (422 with the reasons). The answer is the
    /// new revision.
    pub async fn adopt_drift(
        self: &Arc<Self>,
        actor: &Actor,
        id: &RequestId,
    ) -> Result<Versioned, FlowError> {
        let doc = self.repo.get(id).await?.doc;
        let allowed = refuse(decide(Action::Update, &doc, actor, &self.projects.policy()));
        self.audit_refusal(&allowed, actor, id, Action::Update)
            .await;
        allowed?;
        let status = derive_status(&doc);
        if status != Status::Applied {
            return Err(FlowError::Refused {
                rule: NOT_APPLIED.into(),
                reason: format!(
                    "only the drift of an applied request can be adopted (status: {status}); a new revision is applied first"
                ),
            });
        }
        let adoption = match self.drift_adoption(&doc) {
            None => {
                return Err(FlowError::Refused {
                    rule: NO_DRIFT.into(),
                    reason: format!(
                        "request {id} has no drift to adopt: the newest drift run found it as its config says"
                    ),
                });
            }
            Some(Err(why)) => return Err(FlowError::NotAdoptable(why)),
            Some(Ok(adoption)) => adoption,
        };
        let stored = self.update(actor, id, &adoption.config).await?;
        let changed: Vec<String> = adoption
            .inputs
            .iter()
            .map(|i| format!("{} {} → {}", i.name, i.from, i.to))
            .collect();
        let record = AuditRecord {
            at: self.now(),
            actor: actor.login.clone(),
            action: "request.drift_adopted".into(),
            request: Some(id.to_string()),
            before_version: None,
            after_version: Some(stored.doc.version),
            detail: format!(
                "revision {} adopts drift run {}: {}",
                stored.doc.revision,
                doc.drift.as_ref().map_or("", |d| d.run.as_str()),
                changed.join(", ")
            ),
            count: 1,
            until: None,
            via: None,
        };
        if let Err(e) = self.audit.append(&record).await {
            tracing::error!(request = %id, "could not append the audit record: {e}");
        }
        Ok(stored)
    }
}

impl Flow {
    /// [`Flow::drift_adoption`] of the stored request `id` (its inputs
    /// unredacted; only non-sensitive inputs are ever adopted).
    pub async fn drift_adoption_of(
        &self,
        id: &RequestId,
    ) -> Result<Option<Result<Adoption, String>>, FlowError> {
        let doc = self.repo.get(id).await?.doc;
        Ok(self.drift_adoption(&doc))
    }
}
