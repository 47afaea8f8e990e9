//! Rejecting a plan: whoever may approve it may reject it, with a reason that goes on the timeline and to the requester.

use super::{Flow, FlowError, refuse};
use crate::notify::NoticeKind;
use crate::store::repo::Versioned;
use app::domain::ids::RequestId;
use app::domain::policy::{Action, Actor, decide};
use app::domain::transitions;
use std::sync::Arc;

impl Flow {
    /// Rejects request `id`'s current plan for `reason` (1-500
    /// characters). Refused, and audited, exactly when approving would be.
    pub async fn reject(
        self: &Arc<Self>,
        actor: &Actor,
        id: &RequestId,
        reason: &str,
    ) -> Result<Versioned, FlowError> {
        let result = self
            .act_as(actor, id, None, "reject", |doc| {
                refuse(decide(Action::Approve, doc, actor, &self.projects.policy()))?;
                Ok(transitions::reject(doc, &actor.login, reason, &self.now())?)
            })
            .await;
        self.audit_refusal(&result, actor, id, Action::Approve)
            .await;
        let stored = result?;
        self.notices.tell(NoticeKind::Rejected, &stored.doc).await;
        Ok(stored)
    }
}
