//! Questions about platform state, answered as the asking user: "status
//! of 01j…", "my requests", "what is waiting for my approval?", "what
//! failed in prod this week?", "who approved 01j…?".
//!
//! Read-only: listings come from the index, approvals from the audit log
//! (with the revision and plan attempt from the request's timeline), and
//! failures from the requests' run records. Every answer passes the one
//! policy (`decide_operation(ReadRequests)`; "waiting for my approval" is
//! `decide(Approve)` per request, as the request page shows it). The
//! answer is a sentence and the requests it names (`app::api::AskAnswer`),
//! for the web and for Slack alike.

mod approvals;
mod failures;
mod one;

use super::index::{Index, IndexEntry, Query};
use crate::projects::Seen;
use crate::store::StoreError;
use crate::store::journal::AuditLog;
use crate::store::repo::{RepoError, RequestRepo, Versioned};
use app::api::{AskAnswer, AskItem};
use app::domain::assistant::intake::{Command, FORMS, Question, command};
use app::domain::ids::RequestId;
use app::domain::policy::{Actor, Decision, Operation, decide_operation};
use app::domain::registry::Registry;
use std::sync::Arc;

/// The most requests an answer lists.
pub const MAX_ITEMS: usize = 20;

/// The most request documents one answer reads (the newest candidates).
const MAX_READS: usize = 500;

/// How many documents are read at once.
const READ_AHEAD: usize = 8;

/// Why a question could not be answered (never the question's fault).
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// Reading a request failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Reading the audit log failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Answers questions about platform state.
pub struct Ask {
    projects: Arc<crate::projects::Projects>,
    registry: Arc<Registry>,
    index: Arc<Index>,
    repo: RequestRepo,
    audit: AuditLog,
    clock: Arc<dyn crate::clock::Clock>,
    assistant: Arc<dyn crate::assistant::Assistant>,
}

/// The sentence for text that is none of the questions.
pub fn not_a_question() -> String {
    format!("not a question I can answer; try “{}”", FORMS.join("”, “"))
}

impl Ask {
    /// Over the index and the ports' request store and audit log.
    pub fn new(registry: Arc<Registry>, index: Arc<Index>, ports: &crate::ports::Ports) -> Self {
        Self {
            projects: ports.projects.clone(),
            registry,
            index,
            repo: RequestRepo::new(ports.requests.clone()),
            audit: ports.audit_log(),
            clock: ports.clock.clone(),
            assistant: ports.assistant.clone(),
        }
    }

    /// Whether a model may name questions the chat parser does not know.
    pub fn has_model(&self) -> bool {
        self.assistant.model().is_some()
    }

    /// The question `text` asks: one of the chat parser's forms, else (with
    /// a model) the read-only tool the model chose; `None` when it is not a
    /// question about platform state.
    pub async fn understand(&self, text: &str) -> Option<Question> {
        match command(text) {
            Command::Ask(q) => Some(q),
            Command::Help => None,
            Command::Request(words) => self.by_model(&words).await,
        }
    }

    /// The read-only tool a model chose for `text`, as a question; `None`
    /// without a model, when it chose none, or when it failed (then the
    /// words are taken as a request).
    pub async fn by_model(&self, text: &str) -> Option<Question> {
        if !self.has_model() {
            return None;
        }
        match self.assistant.question(text).await {
            Ok(q) => q,
            Err(e) => {
                tracing::warn!(error = %e, "the model could not route a message; taking it as a request");
                None
            }
        }
    }

    /// The answer to `question` as `actor` may see it.
    pub async fn answer(&self, actor: &Actor, question: &Question) -> Result<AskAnswer, AskError> {
        if let Decision::Forbidden { reason, .. } = decide_operation(Operation::ReadRequests, actor)
        {
            return Ok(AskAnswer::sentence(format!("I cannot tell you: {reason}.")));
        }
        // Requests of projects hidden from the asker are never named.
        let seen = self.projects.seen_by(actor);
        match question {
            Question::Status(id) => self.status(&seen, id).await,
            Question::Mine => Ok(self.mine(&seen, &actor.login)),
            Question::Approvals => self.waiting_for(&seen, actor).await,
            Question::Failed {
                environment,
                period,
            } => self.failures(&seen, environment.as_deref(), *period).await,
            Question::WhoApproved(id) => self.who_approved(&seen, actor, id).await,
        }
    }

    /// "my requests": the asker's live requests, newest first.
    fn mine(&self, seen: &Seen, login: &str) -> AskAnswer {
        let rows: Vec<IndexEntry> = self
            .rows(&Query {
                text: Some(login.to_owned()),
                seen: seen.clone(),
                ..Query::default()
            })
            .into_iter()
            .filter(|r| &*r.requester == login)
            .collect();
        if rows.is_empty() {
            return AskAnswer::sentence(format!("{login} has no live requests."));
        }
        let shown = rows.len().min(MAX_ITEMS);
        AskAnswer {
            answer: format!(
                "Requests of {login}: {}{}.",
                count(rows.len(), "live request"),
                if shown < rows.len() {
                    format!(", the newest {shown} below")
                } else {
                    String::new()
                }
            ),
            items: rows
                .iter()
                .take(MAX_ITEMS)
                .map(|r| item(r, place(r), None))
                .collect(),
        }
    }

    /// Every row matching `query`, newest first (all pages).
    fn rows(&self, query: &Query) -> Vec<IndexEntry> {
        let mut out = Vec::new();
        let mut query = Query {
            limit: 500,
            ..query.clone()
        };
        loop {
            let page = self.index.query(&query);
            out.extend(page.items);
            match page.next_cursor.and_then(|c| RequestId::parse(&c).ok()) {
                Some(c) => query.cursor = Some(c),
                None => return out,
            }
        }
    }

    /// The live documents of `rows` (at most [`MAX_READS`], in order); a
    /// request archived meanwhile is left out.
    async fn documents(&self, rows: &[IndexEntry]) -> Result<Vec<Versioned>, AskError> {
        let ids: Vec<RequestId> = rows.iter().take(MAX_READS).map(|r| r.id).collect();
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(READ_AHEAD) {
            let reads = futures::future::join_all(chunk.iter().map(|id| self.repo.get(id))).await;
            for read in reads {
                match read {
                    Ok(doc) => out.push(doc),
                    Err(RepoError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(out)
    }

    /// The row of a stored document, as the index would make it.
    fn row(&self, stored: &Versioned) -> IndexEntry {
        super::index::project(&stored.doc, &stored.etag, &self.registry)
    }
}

/// `n` and `what`, plural when it is not one (`2 live requests`).
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Where a request is and whose it is (`s3-bucket in sandbox/dev by eve`).
fn place(r: &IndexEntry) -> String {
    format!(
        "{} in {}/{} by {}",
        r.module, r.project, r.environment, r.requester
    )
}

/// One listed request.
fn item(r: &IndexEntry, detail: String, at: Option<String>) -> AskItem {
    AskItem {
        id: r.id.to_string(),
        title: r.title.clone(),
        status: r.status.as_str().to_owned(),
        link: format!("/requests/{}", r.id),
        detail,
        at,
    }
}

/// A stored timestamp in Unix milliseconds (`None` when unreadable).
fn millis(at: &str) -> Option<u64> {
    let t = humantime::parse_rfc3339_weak(at).ok()?;
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| u64::try_from(d.as_millis()).ok())
}
