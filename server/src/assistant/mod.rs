//! The `Assistant` port: from a description in people's words to a module
//! of the registry and proposed values for its inputs. It proposes inputs
//! only: templates write the Terraform, and every proposed value is checked
//! by `app::domain::assistant::settle` like a typed answer.
//!
//! Adapters: [`rules::RulesAssistant`] (the default: the registry's titles,
//! descriptions, categories and keywords, deterministic and offline) and
//! [`model::ModelAssistant`] (an OpenAI-compatible chat-completions server
//! answering in a JSON Schema made from the registry). [`cache::PromptCache`]
//! keeps the model's answers in the store; [`tools`] are the read-only
//! tools a model may call to name a question about platform state.

pub mod cache;
pub mod model;
pub mod rules;
pub mod schema;
pub mod tools;

use app::domain::assistant::intake::Question;
use app::domain::config::Config;
use app::domain::ids::ModuleType;
use app::domain::registry::Registry;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A description to read.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    /// The requester's words.
    pub text: &'a str,
    /// A module the requester chose already: only its inputs are wanted.
    pub module: Option<&'a ModuleType>,
    /// The modules there are.
    pub registry: &'a Registry,
}

/// What an adapter proposes, before any check: the module as the adapter
/// named it (it may not exist) and input values (they may be wrong).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// The module type, as named.
    pub module: Option<String>,
    /// Input values by name.
    pub inputs: Config,
}

/// Why an adapter has no proposal.
#[derive(Debug, thiserror::Error)]
pub enum AssistantError {
    /// No answer in time.
    #[error("the model did not answer within {0:?}")]
    Timeout(Duration),
    /// The server could not be reached or answered with an error.
    #[error("the model is unavailable: {0}")]
    Unavailable(String),
    /// An answer that is not the JSON asked for.
    #[error("the model's answer is not the JSON asked for: {0}")]
    Malformed(String),
}

/// Reads a description into a [`Proposal`].
#[async_trait]
pub trait Assistant: Send + Sync + 'static {
    /// `rules` or `model`.
    fn name(&self) -> &'static str;
    /// The model's name, for a model adapter (part of the cache key).
    fn model(&self) -> Option<String> {
        None
    }
    /// Proposes a module and inputs for `ask`.
    async fn propose(&self, ask: &Ask<'_>) -> Result<Proposal, AssistantError>;
    /// The question about platform state `text` asks, when the adapter can
    /// tell one the chat parser cannot (a model choosing one of the
    /// read-only [`tools`]); `None` when it is not such a question. The
    /// rules answer `None`: the parser already read what they can.
    async fn question(&self, text: &str) -> Result<Option<Question>, AssistantError> {
        let _ = text;
        Ok(None)
    }
}
