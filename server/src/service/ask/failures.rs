//! "What failed in prod this week?": the requests whose plan, apply or
//! destroy failed (or was blocked) in the period, from their run records,
//! newest failure first.

use super::{Ask, AskError, MAX_ITEMS, count, item, millis};
use crate::projects::Seen;
use crate::service::index::{IndexEntry, Query};
use app::api::AskAnswer;
use app::domain::assistant::intake::{Period, names_env};
use app::domain::request::{Attempt, Conclusion, Request};
use std::time::{Duration, UNIX_EPOCH};

/// The newest attempt of `doc` that failed at or after `since` (Unix ms):
/// its kind and the attempt.
fn newest_failure(doc: &Request, since: u64) -> Option<(&'static str, &Attempt, u64)> {
    [
        ("plan", &doc.runs.plan),
        ("apply", &doc.runs.apply),
        ("destroy", &doc.runs.destroy),
    ]
    .into_iter()
    .flat_map(|(kind, history)| history.attempts.iter().map(move |a| (kind, a)))
    .filter(|(_, a)| a.failed())
    .filter_map(|(kind, a)| {
        let at = millis(a.completed_at.as_deref()?)?;
        (at >= since).then_some((kind, a, at))
    })
    .max_by_key(|(_, _, at)| *at)
}

/// How an attempt ended, in words.
fn ended(a: &Attempt) -> &'static str {
    match a.conclusion {
        Some(Conclusion::Blocked) => "was blocked",
        Some(Conclusion::Cancelled) => "was cancelled",
        Some(Conclusion::TimedOut) => "timed out",
        _ => "failed",
    }
}

impl Ask {
    /// The configured environments `word` names (by name or alias), or
    /// the sentence saying there is none.
    fn environments(&self, seen: &Seen, word: &str) -> Result<Vec<String>, String> {
        let mut all: Vec<String> = self
            .projects
            .all()
            .iter()
            .filter(|p| seen.has(p.key.as_str()))
            .flat_map(|p| p.environments.iter().map(|e| e.to_string()))
            .collect();
        all.sort();
        all.dedup();
        let named: Vec<String> = all.iter().filter(|e| names_env(e, word)).cloned().collect();
        if named.is_empty() {
            let word: String = word.chars().take(32).collect();
            return Err(format!(
                "There is no environment `{word}`; the environments are {}.",
                all.join(", ")
            ));
        }
        Ok(named)
    }

    /// "what failed (in `environment`) (`period`)".
    pub(super) async fn failures(
        &self,
        seen: &Seen,
        environment: Option<&str>,
        period: Period,
    ) -> Result<AskAnswer, AskError> {
        let envs = match environment.map(|w| self.environments(seen, w)).transpose() {
            Ok(envs) => envs,
            Err(sentence) => return Ok(AskAnswer::sentence(sentence)),
        };
        let since = period.since(self.clock.unix_millis());
        let since_text =
            humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(since)).to_string();
        // A failure in the period is a write in the period.
        let mut rows: Vec<IndexEntry> = self
            .rows(&Query {
                seen: seen.clone(),
                ..Query::default()
            })
            .into_iter()
            .filter(|r| {
                envs.as_ref()
                    .is_none_or(|e| e.contains(&r.environment.to_string()))
            })
            .filter(|r| millis(&r.updated_at).is_none_or(|at| at >= since))
            .collect();
        rows.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
        let mut failed: Vec<(IndexEntry, String, u64, Option<String>)> = Vec::new();
        for stored in self.documents(&rows).await? {
            if let Some((kind, a, at)) = newest_failure(&stored.doc, since) {
                let row = self.row(&stored);
                let detail = format!(
                    "{kind} attempt {} {} ({} in {}/{})",
                    a.attempt,
                    ended(a),
                    row.module,
                    row.project,
                    row.environment
                );
                failed.push((row, detail, at, a.completed_at.clone()));
            }
        }
        failed.sort_by_key(|f| std::cmp::Reverse(f.2));
        let scope = match &envs {
            Some(envs) => format!(" in {}", envs.join(" or ")),
            None => String::new(),
        };
        let when = period.words();
        if failed.is_empty() {
            return Ok(AskAnswer::sentence(format!(
                "Nothing failed{scope} {when} (since {}).",
                super::one::short(&since_text)
            )));
        }
        let n = failed.len();
        Ok(AskAnswer {
            answer: format!(
                "{} failed{scope} {when}{}.",
                count(n, "request"),
                match n {
                    1 => String::new(),
                    n if n > MAX_ITEMS => format!("; the newest {MAX_ITEMS} below"),
                    _ => ", newest first".to_owned(),
                }
            ),
            items: failed
                .into_iter()
                .take(MAX_ITEMS)
                .map(|(row, detail, _, at)| item(&row, detail, at))
                .collect(),
        })
    }
}
