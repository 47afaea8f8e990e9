//! The domain's transitions with the flow's clock, for the step driver's
//! small edits inside a compare-and-swap update.

use super::{Flow, FlowError};
use crate::exec::RunKind;
use app::domain::request::{Event, Request};
use app::domain::transitions;

impl Flow {
    /// The clock's now, as stored timestamps are written.
    pub(super) fn now(&self) -> String {
        self.clock.rfc3339_millis()
    }

    /// Seconds from a stored timestamp to now (`None` when it does not
    /// read as one).
    pub(super) fn seconds_since(&self, at: &str) -> Option<f64> {
        let then = humantime::parse_rfc3339_weak(at).ok()?;
        Some(
            self.clock
                .now()
                .duration_since(then)
                .map_or(0.0, |d| d.as_secs_f64()),
        )
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
            kind,
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
