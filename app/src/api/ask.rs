//! Questions about platform state on the wire (`POST /api/v1/assistant/ask`):
//! the question in words, and the answer as a sentence plus the requests
//! it is about.

use serde::{Deserialize, Serialize};

/// The longest question, in characters (as long as a description).
pub use super::assistant::MAX_TEXT;

/// A question in words ("what is waiting for my approval?").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskRequest {
    /// 1 to [`MAX_TEXT`] characters.
    pub text: String,
}

/// The answer: one sentence, and the requests it names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskAnswer {
    /// What a person reads ("2 requests wait for your approval.").
    pub answer: String,
    /// The requests (or, for "who approved", the approvals), newest first.
    pub items: Vec<AskItem>,
}

/// One request an answer names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskItem {
    /// Request id.
    pub id: String,
    /// Module title and the request's name (`S3 bucket team-logs`).
    pub title: String,
    /// Its derived status now (`plan_ready`, `failed`, …).
    pub status: String,
    /// The request page's path (`/requests/<id>`).
    pub link: String,
    /// What the answer says of it ("apply attempt 2 was blocked", "approved
    /// by bob: revision 1, plan attempt 1").
    pub detail: String,
    /// When that happened (RFC 3339), when the answer is about a moment.
    pub at: Option<String>,
}

impl AskAnswer {
    /// An answer that is only a sentence.
    pub fn sentence(answer: impl Into<String>) -> Self {
        Self {
            answer: answer.into(),
            items: Vec::new(),
        }
    }
}
