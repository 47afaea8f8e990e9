//! Drafts: one per Slack thread (or DM) where someone is asking for something; where the conversation stands, kept in the store.

use crate::store::StoreError;
use crate::store::records::{Records, Stored};
use app::domain::assistant::Conversation;
use app::domain::ids::{EnvName, ModuleType, ProjectKey, RequestId};
use serde::{Deserialize, Serialize};

/// Where a draft's conversation is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Finding the project, environment and module.
    #[default]
    Picking,
    /// Asking the module's inputs.
    Asking,
    /// Waiting for `input value` after Change was pressed.
    Changing,
    /// Every input known: the summary with Submit / Change is shown.
    Ready,
    /// Filed as a request.
    Filed,
}

/// A request being asked for in a thread.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// `<channel>-<thread ts>` (the Submit and Change buttons' value).
    pub id: String,
    /// The channel or DM.
    pub channel: String,
    /// The thread replies go to (`None`: a DM's top level).
    pub thread_ts: Option<String>,
    /// Who started it.
    pub slack_user: String,
    /// What was said before the module was known (read again for inputs).
    #[serde(default)]
    pub said: Vec<String>,
    /// The project, once known.
    pub project: Option<ProjectKey>,
    /// The environment, once known.
    pub environment: Option<EnvName>,
    /// The module, once known.
    pub module: Option<ModuleType>,
    /// The inputs' conversation, once the module is known.
    pub conversation: Option<Conversation>,
    /// Where it is.
    pub stage: Stage,
    /// An id issued for the summary's block, and its ticket.
    #[serde(default)]
    pub issued: Option<(RequestId, String, String)>,
    /// The request it was filed as.
    #[serde(default)]
    pub request: Option<RequestId>,
}

/// The draft id of a thread (`None`: a DM's top level).
pub fn draft_id(channel: &str, thread_ts: Option<&str>) -> String {
    match thread_ts {
        Some(ts) => format!("{channel}-{}", ts.replace('.', "-")),
        None => format!("{channel}-dm"),
    }
}

/// Whether `id` can be a draft id (the only ids a button may name).
pub fn valid_draft_id(id: &str) -> bool {
    (3..=80).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn key(id: &str) -> String {
    format!("slack/drafts/{id}.json")
}

/// Drafts in the store.
#[derive(Clone)]
pub struct Drafts {
    records: Records,
}

impl Drafts {
    /// Over `records`.
    pub fn new(records: Records) -> Self {
        Self { records }
    }

    /// The draft `id`, if any.
    pub async fn get(&self, id: &str) -> Result<Option<Stored<Draft>>, StoreError> {
        if !valid_draft_id(id) {
            return Ok(None);
        }
        self.records.get(&key(id)).await
    }

    /// Stores `draft`, over exactly the version read (`None`: a new one);
    /// a conflict means someone else wrote it meanwhile.
    pub async fn put(&self, draft: &Draft, etag: Option<&str>) -> Result<String, StoreError> {
        self.records.put(&key(&draft.id), draft, etag).await
    }
}
