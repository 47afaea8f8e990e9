//! The Slack Web API port: the few calls tfpilot makes (post, update, ephemeral, user, identity, response URL) and their errors.
//!
//! [`super::web::SlackWeb`] is the adapter over HTTP; tests run it against a
//! fake Slack server. Services hold an `Arc<dyn SlackApi>`.

use async_trait::async_trait;
use serde::Serialize;
use std::time::Duration;

/// A message to post or to put in place of another.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Message {
    /// Channel id (`C0123ABCD`) or name.
    pub channel: String,
    /// The thread to reply in (the `ts` of its first message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<String>,
    /// Plain text: the whole message without blocks, the notification and
    /// screen-reader text with them.
    pub text: String,
    /// Block Kit blocks (a JSON array).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<serde_json::Value>,
}

impl Message {
    /// A plain-text message to `channel`.
    pub fn text(channel: impl Into<String>, text: impl Into<String>) -> Self {
        Message {
            channel: channel.into(),
            text: text.into(),
            ..Message::default()
        }
    }

    /// The same message, as a reply in the thread started by `thread_ts`.
    pub fn in_thread(mut self, thread_ts: impl Into<String>) -> Self {
        self.thread_ts = Some(thread_ts.into());
        self
    }

    /// The same message, with Block Kit `blocks` (`text` stays the fallback).
    pub fn with_blocks(mut self, blocks: serde_json::Value) -> Self {
        self.blocks = Some(blocks);
        self
    }
}

/// Where a posted message landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// The channel id.
    pub channel: String,
    /// The message's timestamp: its id within the channel.
    pub ts: String,
}

/// A Slack user, as `users.info` tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackUser {
    /// `U0123ABCD`.
    pub id: String,
    /// The profile's e-mail (needs the `users:read.email` scope).
    pub email: Option<String>,
    /// Whether the user is a bot.
    pub is_bot: bool,
    /// The username.
    pub name: String,
}

/// Who the bot token belongs to, as `auth.test` tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotIdentity {
    /// The bot's user id: mentions of it read `<@user_id>`.
    pub user_id: String,
    /// The bot id its own messages carry as `bot_id`.
    pub bot_id: Option<String>,
    /// The workspace's name.
    pub team: String,
}

/// Why a Slack call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackError {
    /// HTTP 429: Slack asks to wait this long before the next call.
    #[error("Slack is rate limiting tfpilot; retry after {} s", retry_after.as_secs())]
    RateLimited {
        /// Slack's `Retry-After`.
        retry_after: Duration,
    },
    /// Slack answered `ok: false` with this error code (`channel_not_found`,
    /// `invalid_auth`, …).
    #[error("Slack refused the call: {0}")]
    Api(String),
    /// Slack could not be reached, timed out or failed (5xx).
    #[error("Slack is unavailable: {0}")]
    Unavailable(String),
}

/// The Slack Web API calls tfpilot makes, with the bot token.
#[async_trait]
pub trait SlackApi: Send + Sync + 'static {
    /// Whether it has a bot token now (a client whose credential is
    /// stored may have none yet, or no longer).
    fn configured(&self) -> bool {
        true
    }

    /// The channel of notices whose project names none, when the
    /// credential names one.
    fn default_channel(&self) -> Option<String> {
        None
    }

    /// `chat.postMessage`.
    async fn post_message(&self, msg: &Message) -> Result<Posted, SlackError>;

    /// `chat.update`: replaces the text and blocks of message `ts` in
    /// `channel` (`msg.channel` and `msg.thread_ts` are not used).
    async fn update(&self, channel: &str, ts: &str, msg: &Message) -> Result<(), SlackError>;

    /// `chat.postEphemeral`: a message in `channel` (and `msg.thread_ts`, if
    /// any) that only `user` sees.
    async fn post_ephemeral(
        &self,
        channel: &str,
        user: &str,
        msg: &Message,
    ) -> Result<(), SlackError>;

    /// `users.info`.
    async fn user_info(&self, user_id: &str) -> Result<SlackUser, SlackError>;

    /// `auth.test`: whether the token works, and whose it is.
    async fn auth_test(&self) -> Result<BotIdentity, SlackError>;

    /// POSTs `body` to an interaction's `response_url` (replace or delete
    /// the original message, or answer ephemerally). Only Slack's own
    /// `https://hooks.slack.com/` and the configured API host are allowed:
    /// the URL comes from a request body, and following any URL it names
    /// would let a forged payload make the server call arbitrary hosts.
    async fn post_response(
        &self,
        response_url: &str,
        body: &serde_json::Value,
    ) -> Result<(), SlackError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_serialize_like_chat_post_message_arguments() {
        let plain = Message::text("C1", "hello");
        assert_eq!(
            serde_json::to_value(&plain).unwrap(),
            serde_json::json!({"channel": "C1", "text": "hello"})
        );
        let full = Message::text("C1", "hello")
            .in_thread("1.2")
            .with_blocks(serde_json::json!([{"type": "divider"}]));
        assert_eq!(
            serde_json::to_value(&full).unwrap(),
            serde_json::json!({"channel": "C1", "text": "hello", "thread_ts": "1.2",
                               "blocks": [{"type": "divider"}]})
        );
    }

    #[test]
    fn errors_read_as_sentences() {
        let limited = SlackError::RateLimited {
            retry_after: Duration::from_secs(30),
        };
        assert_eq!(
            limited.to_string(),
            "Slack is rate limiting tfpilot; retry after 30 s"
        );
        assert_eq!(
            SlackError::Api("channel_not_found".into()).to_string(),
            "Slack refused the call: channel_not_found"
        );
    }
}
