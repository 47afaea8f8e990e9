//! A drift run's result on a request: recorded through the flow's one
//! compare-and-swap write, audited, and told once (`drift.detected`).

use super::Flow;
use super::advance::SYSTEM;
use crate::notify::NoticeKind;
use crate::store::journal::AuditRecord;
use crate::store::repo::RepoError;
use app::domain::drift::{Drift, DriftChange};
use app::domain::ids::RequestId;
use app::domain::transitions::event;

/// What recording a drift run's result did to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftMark {
    /// The request is newly drifted, or drifted differently: told.
    Drifted,
    /// It was drifted and is clean now.
    Cleared,
    /// The same drift found again: nothing changed, nobody told.
    StillDrifted,
    /// Clean, and it was clean.
    Clean,
}

struct Same;

impl Flow {
    /// Records what drift run `run` found on request `id`: `changes` (the
    /// request drifted) or none (clean). The same drift found again changes
    /// nothing and tells nobody; a new drift is told to the requester.
    pub async fn mark_drift(
        &self,
        id: &RequestId,
        run: &str,
        changes: Vec<DriftChange>,
    ) -> Result<DriftMark, RepoError> {
        let now = self.now();
        let mut mark = DriftMark::Clean;
        let result = self
            .write(id, |doc| {
                let mut next = doc.clone();
                if changes.is_empty() {
                    if next.drift.take().is_none() {
                        mark = DriftMark::Clean;
                        return Err(Same);
                    }
                    mark = DriftMark::Cleared;
                    next.events.push(event(
                        &now,
                        SYSTEM,
                        "drift_cleared",
                        format!("drift run {run} found it as its config says"),
                    ));
                    return Ok(next);
                }
                if doc.drift.as_ref().is_some_and(|d| d.changes == changes) {
                    mark = DriftMark::StillDrifted;
                    return Err(Same);
                }
                mark = DriftMark::Drifted;
                let drift = Drift {
                    detected_at: now.clone(),
                    run: run.to_owned(),
                    changes: changes.clone(),
                };
                next.events.push(event(
                    &now,
                    SYSTEM,
                    "drift_detected",
                    format!("drift run {run}: {}", crate::notify::words::drift(&drift)),
                ));
                next.drift = Some(drift);
                Ok(next)
            })
            .await?;
        let Ok(stored) = result else {
            return Ok(mark);
        };
        self.index.upsert(&stored.doc, &stored.etag);
        let record = AuditRecord {
            at: now,
            actor: SYSTEM.into(),
            action: match mark {
                DriftMark::Cleared => "request.drift_cleared".into(),
                _ => "request.drift_detected".into(),
            },
            request: Some(id.to_string()),
            before_version: Some(stored.doc.version - 1),
            after_version: Some(stored.doc.version),
            detail: format!("drift run {run}"),
            count: 1,
            until: None,
            via: None,
        };
        if let Err(e) = self.audit.append(&record).await {
            tracing::error!(request = %id, "could not append the audit record: {e}");
        }
        if mark == DriftMark::Drifted {
            self.notices
                .tell(NoticeKind::DriftDetected, &stored.doc)
                .await;
        }
        Ok(mark)
    }
}
