//! The domain's transitions with the flow's clock and the server's run
//! kinds, for the step driver's small edits inside a compare-and-swap update.

use super::{Flow, FlowError};
use crate::exec::RunKind;
use app::domain::request::{Event, Request, RunHistory};
use app::domain::transitions;

impl Flow {
    /// The clock's now, as stored timestamps are written.
    pub(super) fn now(&self) -> String {
        self.clock.rfc3339_millis()
    }

    /// A timeline entry, now.
    pub(super) fn event(&self, actor: &str, kind: &str, detail: impl Into<String>) -> Event {
        transitions::event(&self.now(), actor, kind, detail)
    }

    /// [`transitions::queue_attempt`] now.
    pub(super) fn queue_attempt(
        &self,
        doc: &mut Request,
        kind: RunKind,
        actor: &str,
        reason: Option<String>,
    ) -> Result<u32, FlowError> {
        Ok(transitions::queue_attempt(
            doc,
            domain_kind(kind),
            actor,
            reason,
            &self.now(),
        )?)
    }

    /// [`transitions::void_approval`] now.
    pub(super) fn void_approval(&self, doc: &mut Request, actor: &str, why: &str) {
        transitions::void_approval(doc, actor, why, &self.now());
    }
}

/// The domain's name for a kind of run.
pub(super) fn domain_kind(kind: RunKind) -> transitions::RunKind {
    match kind {
        RunKind::Plan => transitions::RunKind::Plan,
        RunKind::Apply => transitions::RunKind::Apply,
        RunKind::Destroy => transitions::RunKind::Destroy,
    }
}

/// The attempts of one kind.
pub(super) fn history(doc: &Request, kind: RunKind) -> &RunHistory {
    transitions::history(doc, domain_kind(kind))
}

/// The attempts of one kind, to edit.
pub(super) fn history_mut(doc: &mut Request, kind: RunKind) -> &mut RunHistory {
    transitions::history_mut(doc, domain_kind(kind))
}
