//! "What is waiting for my approval?": the requests the asker may approve
//! now, by the same decision the request page shows (`decide(Approve)`).

use super::{Ask, AskError, MAX_ITEMS, count, item, place};
use crate::projects::Seen;
use crate::service::index::{IndexEntry, Query};
use app::api::AskAnswer;
use app::domain::policy::{Action, Actor, Decision, decide};

/// Refusals that depend on the asker alone, not on the request: the
/// first one answers for every request.
const ROLE_RULES: [&str; 2] = ["role.viewer", "role.approver"];

impl Ask {
    /// The requests `actor` may approve now, newest first.
    pub(super) async fn waiting_for(
        &self,
        seen: &Seen,
        actor: &Actor,
    ) -> Result<AskAnswer, AskError> {
        // Only a ready plan, or a merged change whose plan succeeded, can
        // be approved (`policy::state`).
        let mut rows: Vec<IndexEntry> = ["plan_ready", "merged"]
            .into_iter()
            .flat_map(|status| {
                self.rows(&Query {
                    status: Some(status.to_owned()),
                    seen: seen.clone(),
                    ..Query::default()
                })
            })
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.id));
        let mut mine = Vec::new();
        let mut by_role = None;
        let policy = self.projects.policy();
        for stored in self.documents(&rows).await? {
            match decide(Action::Approve, &stored.doc, actor, &policy) {
                Decision::Allowed => mine.push(stored),
                Decision::Forbidden { rule, reason } if ROLE_RULES.contains(&rule.as_str()) => {
                    by_role.get_or_insert(reason);
                }
                _ => {}
            }
        }
        // A role that approves nowhere answers for every request.
        if let (true, Some(reason)) = (mine.is_empty(), by_role) {
            return Ok(AskAnswer::sentence(format!(
                "Nothing is waiting for your approval: {reason}."
            )));
        }
        if mine.is_empty() {
            return Ok(AskAnswer::sentence("Nothing is waiting for your approval."));
        }
        let items = mine
            .iter()
            .take(MAX_ITEMS)
            .map(|stored| {
                let row = self.row(stored);
                let plan = stored
                    .doc
                    .runs
                    .plan
                    .latest()
                    .and_then(|a| a.summary)
                    .map(|s| format!(", plan {}", s.short()))
                    .unwrap_or_default();
                item(&row, format!("{}{plan}", place(&row)), None)
            })
            .collect::<Vec<_>>();
        let n = mine.len();
        Ok(AskAnswer {
            answer: format!(
                "{} for your approval{}.",
                match n {
                    1 => "1 request waits".to_owned(),
                    n => format!("{} wait", count(n, "request")),
                },
                if n > MAX_ITEMS {
                    format!("; the newest {MAX_ITEMS} below")
                } else {
                    String::new()
                }
            ),
            items,
        })
    }
}
