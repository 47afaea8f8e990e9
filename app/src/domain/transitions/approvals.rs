//! A request's approvals read back from its timeline: who approved which
//! revision's plan attempt, and whether that approval still holds.

use crate::domain::policy::approval_holds;
use crate::domain::request::Request;

/// One approval on a request's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    /// The approver's login.
    pub by: String,
    /// When.
    pub at: String,
    /// The revision whose plan was approved.
    pub revision: u32,
    /// The plan attempt approved (`None` when the event does not say).
    pub plan_attempt: Option<u32>,
    /// Whether it is the request's approval now and still covers its PR.
    pub holds: bool,
}

/// Every approval of `doc`, oldest first, from its `approved` events (as
/// [`super::approve`] writes them) and the `updated` events that start a
/// new revision.
pub fn approvals(doc: &Request) -> Vec<Approved> {
    let mut revision = 1;
    let mut out: Vec<Approved> = Vec::new();
    for e in &doc.events {
        match e.kind.as_str() {
            "updated" => {
                revision = e
                    .detail
                    .strip_prefix("revision ")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(revision + 1);
            }
            "approved" => out.push(Approved {
                by: e.actor.clone(),
                at: e.at.clone(),
                revision,
                plan_attempt: e
                    .detail
                    .strip_prefix("plan attempt ")
                    .and_then(|rest| rest.split(' ').next())
                    .and_then(|n| n.parse().ok()),
                holds: false,
            }),
            _ => {}
        }
    }
    let current = doc.approval.as_ref().filter(|_| approval_holds(doc));
    if let Some(a) = current
        && let Some(last) = out
            .iter_mut()
            .rev()
            .find(|o| o.by == a.by && o.plan_attempt.is_none_or(|p| p == a.plan_attempt))
    {
        last.holds = true;
    }
    out
}
