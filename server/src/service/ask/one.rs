//! Questions about one request, named by its id or the start of it:
//! "status of 01j…" and "who approved 01j…?".

use super::{Ask, AskError, MAX_ITEMS, count, item, place};
use crate::projects::Seen;
use crate::service::index::IndexEntry;
use crate::store::journal::AuditRecord;
use crate::store::repo::RepoError;
use app::api::{AskAnswer, AskItem};
use app::domain::ids::RequestId;
use app::domain::policy::{Actor, Decision, Operation, decide_operation};
use app::domain::transitions::{Approved, approvals};

/// The most audit records read for one request (pages of 500).
const MAX_AUDIT_PAGES: usize = 20;

/// What an id (or the start of one) names.
enum Found {
    /// One request (live, or archived when named in full).
    One(Box<IndexEntry>),
    /// Several live requests start so.
    Many(Vec<IndexEntry>),
    /// Nothing, live or archived.
    Nothing,
}

impl Ask {
    /// The request `id` names: a live one whose id starts with it, else
    /// the archived one with exactly that id.
    async fn find(&self, seen: &Seen, id: &str) -> Result<Found, AskError> {
        let prefix = id.to_lowercase();
        let mut rows: Vec<IndexEntry> = self
            .index
            .with_prefix(&prefix, 1_000)
            .into_iter()
            .filter(|r| seen.has(&r.project))
            .take(MAX_ITEMS + 1)
            .collect();
        match rows.len() {
            0 => {}
            1 => return Ok(Found::One(Box::new(rows.remove(0)))),
            _ => return Ok(Found::Many(rows)),
        }
        let Ok(full) = RequestId::parse(&prefix) else {
            return Ok(Found::Nothing);
        };
        match self.repo.get_archived(&full).await {
            Ok(stored) if seen.has(stored.doc.project.as_str()) => {
                Ok(Found::One(Box::new(self.row(&stored))))
            }
            Ok(_) => Ok(Found::Nothing),
            Err(RepoError::NotFound(_)) => Ok(Found::Nothing),
            Err(e) => Err(e.into()),
        }
    }

    /// The answer when `id` does not name exactly one request.
    fn not_one(id: &str, found: Found) -> AskAnswer {
        let id = id.chars().take(32).collect::<String>();
        match found {
            Found::Many(rows) => AskAnswer {
                answer: format!(
                    "`{id}` starts the ids of {}{}; give more of the id.",
                    if rows.len() > MAX_ITEMS {
                        "more than ".to_owned()
                    } else {
                        String::new()
                    },
                    count(rows.len().min(MAX_ITEMS), "live request")
                ),
                items: rows
                    .iter()
                    .rev()
                    .take(MAX_ITEMS)
                    .map(|r| item(r, place(r), None))
                    .collect(),
            },
            _ => AskAnswer::sentence(format!("There is no live request `{id}`.")),
        }
    }

    /// "status of 01j…".
    pub(super) async fn status(&self, seen: &Seen, id: &str) -> Result<AskAnswer, AskError> {
        let row = match self.find(seen, id).await? {
            Found::One(row) => row,
            other => return Ok(Self::not_one(id, other)),
        };
        let note = if row.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", row.note)
        };
        Ok(AskAnswer {
            answer: format!(
                "{} {} ({}) is {}{note}.",
                row.id,
                row.title,
                place(&row),
                row.status.as_str()
            ),
            items: vec![item(&row, format!("{}{note}", place(&row)), None)],
        })
    }

    /// "who approved 01j…?": every approval, from the audit log, with the
    /// revision and plan attempt it was for from the request's timeline.
    pub(super) async fn who_approved(
        &self,
        seen: &Seen,
        actor: &Actor,
        id: &str,
    ) -> Result<AskAnswer, AskError> {
        if let Decision::Forbidden { reason, .. } =
            decide_operation(Operation::ReadAudit { request: true }, actor)
        {
            return Ok(AskAnswer::sentence(format!("I cannot tell you: {reason}.")));
        }
        let row = match self.find(seen, id).await? {
            Found::One(row) => row,
            other => return Ok(Self::not_one(id, other)),
        };
        let stored = match self.repo.get(&row.id).await {
            Err(RepoError::NotFound(_)) => self.repo.get_archived(&row.id).await?,
            other => other?,
        };
        let records = self.approve_records(&row.id).await?;
        let lines = pair(&records, approvals(&stored.doc));
        let name = format!("{} {}", row.id, row.title);
        if lines.is_empty() {
            return Ok(AskAnswer {
                answer: format!(
                    "{name} has not been approved yet (it is {}).",
                    row.status.as_str()
                ),
                items: vec![item(&row, "not approved yet".into(), None)],
            });
        }
        let holds = lines.iter().any(|l| l.holds);
        let answer = match lines.as_slice() {
            [one] => format!(
                "{name} was approved by {} at {}{}.",
                one.by,
                short(&one.at),
                if holds {
                    ""
                } else {
                    "; that approval no longer holds (a newer plan or revision came after it)"
                }
            ),
            many => format!(
                "{name} was approved {} times; {}.",
                many.len(),
                if holds {
                    "the newest approval holds"
                } else {
                    "none of those approvals holds now (a newer plan or revision came after them)"
                }
            ),
        };
        Ok(AskAnswer {
            answer,
            items: lines.iter().rev().map(|l| l.item(&row)).collect(),
        })
    }

    /// The `request.approve` records of request `id`, oldest first.
    async fn approve_records(&self, id: &RequestId) -> Result<Vec<AuditRecord>, AskError> {
        let id = id.to_string();
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_AUDIT_PAGES {
            let (records, next) = self
                .audit
                .read_page(Some(&id), 500, cursor.as_deref())
                .await?;
            out.extend(
                records
                    .into_iter()
                    .filter(|r| r.action == "request.approve"),
            );
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok(out)
    }
}

/// One approval as the answer tells it.
struct Line {
    by: String,
    at: String,
    via: Option<String>,
    revision: Option<u32>,
    plan_attempt: Option<u32>,
    holds: bool,
}

impl Line {
    fn item(&self, row: &IndexEntry) -> AskItem {
        let mut what = Vec::new();
        if let Some(r) = self.revision {
            what.push(format!("revision {r}"));
        }
        if let Some(a) = self.plan_attempt {
            what.push(format!("plan attempt {a}"));
        }
        let mut detail = format!("approved by {}", self.by);
        if !what.is_empty() {
            detail.push_str(&format!(": {}", what.join(", ")));
        }
        if self.via.as_deref() == Some("slack") {
            detail.push_str(" (from Slack)");
        }
        if self.holds {
            detail.push_str("; holds now");
        }
        item(row, detail, Some(self.at.clone()))
    }
}

/// The audit log's approvals, each with the timeline's approval by the
/// same person in the same order (its revision, plan attempt and whether
/// it holds); an approval the timeline has and the log lacks is kept too.
fn pair(records: &[AuditRecord], timeline: Vec<Approved>) -> Vec<Line> {
    let mut timeline: Vec<Option<Approved>> = timeline.into_iter().map(Some).collect();
    let mut lines: Vec<Line> = records
        .iter()
        .map(|r| {
            let seen = timeline
                .iter_mut()
                .find(|t| t.as_ref().is_some_and(|t| t.by == r.actor))
                .and_then(Option::take);
            Line {
                by: r.actor.clone(),
                at: r.at.clone(),
                via: r.via.clone(),
                revision: seen.as_ref().map(|t| t.revision),
                plan_attempt: seen.as_ref().and_then(|t| t.plan_attempt),
                holds: seen.is_some_and(|t| t.holds),
            }
        })
        .collect();
    lines.extend(timeline.into_iter().flatten().map(|t| Line {
        by: t.by,
        at: t.at,
        via: None,
        revision: Some(t.revision),
        plan_attempt: t.plan_attempt,
        holds: t.holds,
    }));
    lines.sort_by_key(|l| super::millis(&l.at).unwrap_or_default());
    lines
}

/// A timestamp to the minute (`2026-05-13 10:30 UTC`).
pub(super) fn short(at: &str) -> String {
    format!("{} UTC", app::api::short_time(at))
}
