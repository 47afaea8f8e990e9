//! A request's timeline: its records in the append-only audit log (every
//! change, every refusal, who and when). The server folds repeated
//! refusals into one record with a count as it writes them; runs of the
//! same refusal that are still separate records (logs written before, or
//! a fold lost to a race) fold here into one row that counts them.

use serde::{Deserialize, Serialize};

/// One audit record as the timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What (`request.approve`, `auth.denied`…).
    pub action: String,
    /// Details.
    pub detail: String,
    /// How many identical refusals this entry stands for.
    #[serde(default = "one")]
    pub count: u32,
    /// When the last of them happened, if more than one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

fn one() -> u32 {
    1
}

impl TimelineEntry {
    /// One record.
    pub fn new(at: String, actor: String, action: String, detail: String) -> Self {
        Self {
            at,
            actor,
            action,
            detail,
            count: 1,
            until: None,
        }
    }
}

/// Folds each run of identical refusals (same actor, action and detail,
/// one after the other) into its first entry, counting them; every other
/// record stays a row of its own.
pub fn collapse(entries: impl IntoIterator<Item = TimelineEntry>) -> Vec<TimelineEntry> {
    let mut out: Vec<TimelineEntry> = Vec::new();
    for e in entries {
        if let Some(last) = out.last_mut()
            && e.action == "auth.denied"
            && last.action == e.action
            && last.actor == e.actor
            && last.detail == e.detail
        {
            last.count = last.count.saturating_add(e.count);
            last.until = Some(e.until.unwrap_or(e.at));
            continue;
        }
        out.push(e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(at: &str, actor: &str, action: &str, detail: &str) -> TimelineEntry {
        TimelineEntry::new(at.into(), actor.into(), action.into(), detail.into())
    }

    #[test]
    fn runs_of_the_same_refusal_fold_into_one_counted_row() {
        let denied = |at| e(at, "mallory", "auth.denied", "approve: role.approver");
        let rows = collapse([
            e("t0", "alice", "request.create", ""),
            denied("t1"),
            denied("t2"),
            denied("t3"),
            e("t4", "mallory", "auth.denied", "merge: role.approver"),
            e("t5", "bob", "request.approve", ""),
            denied("t6"),
        ]);
        let summary: Vec<_> = rows
            .iter()
            .map(|r| (r.at.as_str(), r.count, r.until.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                ("t0", 1, None),
                ("t1", 3, Some("t3")),
                ("t4", 1, None),
                ("t5", 1, None),
                ("t6", 1, None),
            ]
        );
    }

    #[test]
    fn changes_never_fold() {
        let rows = collapse([
            e("t0", "alice", "request.update", "v2"),
            e("t1", "alice", "request.update", "v2"),
        ]);
        assert_eq!(rows.len(), 2);
    }
}
