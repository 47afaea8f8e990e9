//! The Slack payloads tfpilot reads: Events API envelopes and events, and `block_actions` interactions.

use serde::Deserialize;

/// An Events API request body.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Envelope {
    /// Slack checks the request URL: answer the challenge.
    UrlVerification {
        /// Echoed back.
        challenge: String,
    },
    /// An event the app subscribed to.
    EventCallback {
        /// Unique per event, the same on Slack's retries.
        event_id: String,
        /// The event.
        event: Box<Event>,
    },
    /// Anything else (`app_rate_limited`, …): acknowledged, ignored.
    #[serde(other)]
    Other,
}

/// A message or mention event.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Event {
    /// `app_mention`, `message`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Who wrote it (absent for some bot messages).
    #[serde(default)]
    pub user: Option<String>,
    /// The text, mentions as `<@U123>`.
    #[serde(default)]
    pub text: Option<String>,
    /// Where.
    #[serde(default)]
    pub channel: Option<String>,
    /// `im` for a direct message.
    #[serde(default)]
    pub channel_type: Option<String>,
    /// The message's own timestamp.
    #[serde(default)]
    pub ts: Option<String>,
    /// The thread it is in, if any.
    #[serde(default)]
    pub thread_ts: Option<String>,
    /// Set on messages from bots (tfpilot's own included).
    #[serde(default)]
    pub bot_id: Option<String>,
    /// Set on edits, joins and other non-plain messages.
    #[serde(default)]
    pub subtype: Option<String>,
}

/// A `block_actions` interaction (a button click).
#[derive(Debug, Clone, Deserialize)]
pub struct Interaction {
    /// `block_actions`, `view_submission`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Who clicked.
    pub user: IdOnly,
    /// Where.
    #[serde(default)]
    pub channel: Option<IdOnly>,
    /// The message the buttons are on.
    #[serde(default)]
    pub container: Option<Container>,
    /// Where to answer.
    #[serde(default)]
    pub response_url: Option<String>,
    /// The buttons pressed (one).
    #[serde(default)]
    pub actions: Vec<ActionRef>,
}

/// `{ "id": "…" }`.
#[derive(Debug, Clone, Deserialize)]
pub struct IdOnly {
    /// The id.
    pub id: String,
}

/// The message an interaction came from.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Container {
    /// The message's timestamp.
    #[serde(default)]
    pub message_ts: Option<String>,
    /// Its thread, when it is a reply.
    #[serde(default)]
    pub thread_ts: Option<String>,
    /// Its channel.
    #[serde(default)]
    pub channel_id: Option<String>,
}

/// One pressed button.
#[derive(Debug, Clone, Deserialize)]
pub struct ActionRef {
    /// `tfpilot_submit`, `tfpilot_approve`, …
    pub action_id: String,
    /// The draft or request id the button carries.
    #[serde(default)]
    pub value: Option<String>,
}

/// The buttons' `action_id`s: a contract with the messages already posted.
pub mod actions {
    /// Files a draft (value: the draft id).
    pub const SUBMIT: &str = "tfpilot_submit";
    /// Approves a plan (value: the request id).
    pub const APPROVE: &str = "tfpilot_approve";
    /// Rejects a plan (value: the request id); the reason follows in the
    /// thread.
    pub const REJECT: &str = "tfpilot_reject";
    /// Reopens a draft's answers (value: the draft id).
    pub const CHANGE: &str = "tfpilot_change";
}
