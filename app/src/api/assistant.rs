//! "Describe what you need" on the wire: the text and the hints the
//! requester gives, and what the assistant proposes for it.

use crate::domain::config::{Config, FieldError};
use serde::{Deserialize, Serialize};

/// The longest description the assistant reads, in characters.
pub const MAX_TEXT: usize = 4000;

/// A description, with what the requester already chose.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssistantAsk {
    /// What they need, in their words (1 to 4,000 characters).
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 4000))]
    pub text: String,
    /// A project chosen already; the proposal keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// An environment chosen already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// A module chosen already: only its inputs are proposed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
}

/// Where a proposal came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The configured model answered now.
    Model,
    /// The model's earlier answer to the same description.
    Cache,
    /// The built-in rules (no model, or the model failed).
    Rules,
}

impl Source {
    /// `model`, `cache` or `rules`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Model => "model",
            Source::Cache => "cache",
            Source::Rules => "rules",
        }
    }
}

/// A module offered when the description names none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Offer {
    /// Module type.
    pub module: String,
    /// Title.
    pub title: String,
    /// One sentence.
    pub description: String,
}

/// What the assistant proposes. Every value in `config` passed the same
/// checks as a typed answer; nothing here is filed until the requester
/// confirms it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AssistantDraft {
    /// The project (`None` when it is not clear).
    pub project: Option<String>,
    /// The environment (`None` when it is not clear).
    pub environment: Option<String>,
    /// The module (`None` when the description names none: see `closest`).
    pub module: Option<String>,
    /// The module's title ("S3 bucket").
    pub title: Option<String>,
    /// The inputs taken from the description, checked.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub config: Config,
    /// Inputs still to answer, in the order the chat asks them.
    pub missing: Vec<String>,
    /// The question for each of `missing`.
    pub questions: Vec<String>,
    /// Proposed values that were dropped, with the rule each broke.
    pub dropped: Vec<FieldError>,
    /// Why: "matched: dumps → S3 bucket; expiration_days = 90", or what to
    /// do when nothing matched.
    pub explanation: String,
    /// Where the proposal came from.
    pub source: Source,
    /// When no module matched: the three closest.
    pub closest: Vec<Offer>,
}

/// What the words of the describe box are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Described {
    /// A question about platform state, answered.
    Answer(crate::api::AskAnswer),
    /// A request in words: the proposal.
    Draft(AssistantDraft),
}
