//! The fake Slack's other direction: signed event and interaction deliveries to tfpilot, and builders of their documented JSON shapes.
//!
//! Shapes follow Slack's Events API (`event_callback` envelopes of
//! `app_mention` and `message` events) and interactivity (`block_actions`
//! payloads, sent form-encoded as `payload=<json>`).

use super::{APP_ID, BOT_ID, BOT_USER_ID, FakeSlack, TEAM_ID};
use serde_json::{Value, json};

/// The Events API path on tfpilot.
pub const EVENTS_PATH: &str = "/api/v1/slack/events";
/// The interactivity path on tfpilot.
pub const INTERACTIONS_PATH: &str = "/api/v1/slack/interactions";

/// A `message` event (a post in a channel, a DM or a thread).
#[derive(Debug, Clone, Default)]
pub struct MessageEvent<'a> {
    pub event_id: &'a str,
    pub user: &'a str,
    pub channel: &'a str,
    /// `channel`, `group`, `im` or `mpim`.
    pub channel_type: &'a str,
    pub text: &'a str,
    pub ts: &'a str,
    pub thread_ts: Option<&'a str>,
    /// Set on messages posted by a bot (tfpilot's own: [`BOT_ID`]).
    pub bot_id: Option<&'a str>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// `payload=<json>`, form-encoded as Slack sends it.
pub fn form_payload(payload: &Value) -> String {
    let mut url = reqwest::Url::parse("http://x/").expect("url");
    url.query_pairs_mut()
        .append_pair("payload", &payload.to_string());
    url.query().unwrap_or_default().to_owned()
}

impl FakeSlack {
    /// POSTs `body` to `{app_base_url}{path}` signed with `secret` as of
    /// `timestamp`, with `extra` headers: the building block of the other
    /// senders, and of tests of bad signatures.
    #[allow(clippy::too_many_arguments)]
    pub async fn post_signed(
        &self,
        app_base_url: &str,
        path: &str,
        secret: &str,
        content_type: &str,
        body: Vec<u8>,
        timestamp: i64,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let ts = timestamp.to_string();
        let signature = server::slack::signing::signature(secret, &ts, &body);
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", app_base_url.trim_end_matches('/')))
            .header("Content-Type", content_type)
            .header("X-Slack-Request-Timestamp", ts)
            .header("X-Slack-Signature", signature)
            .body(body);
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        request.send().await.expect("deliver to tfpilot")
    }

    /// Delivers an Events API `event` (JSON) to tfpilot, signed now.
    pub async fn send_event(
        &self,
        app_base_url: &str,
        secret: &str,
        event: &Value,
    ) -> reqwest::Response {
        self.send_event_with(app_base_url, secret, event, &[]).await
    }

    /// Delivers `event` again as Slack's retry number `retry_num` after a
    /// timeout (`X-Slack-Retry-Num`, `X-Slack-Retry-Reason: http_timeout`).
    pub async fn send_event_retry(
        &self,
        app_base_url: &str,
        secret: &str,
        event: &Value,
        retry_num: u32,
    ) -> reqwest::Response {
        let n = retry_num.to_string();
        let extra = [
            ("X-Slack-Retry-Num", n.as_str()),
            ("X-Slack-Retry-Reason", "http_timeout"),
        ];
        self.send_event_with(app_base_url, secret, event, &extra)
            .await
    }

    async fn send_event_with(
        &self,
        app_base_url: &str,
        secret: &str,
        event: &Value,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let body = serde_json::to_vec(event).expect("event JSON");
        self.post_signed(
            app_base_url,
            EVENTS_PATH,
            secret,
            "application/json",
            body,
            now(),
            extra,
        )
        .await
    }

    /// Delivers an interaction `payload` (form-encoded `payload=<json>`), signed now.
    pub async fn send_interaction(
        &self,
        app_base_url: &str,
        secret: &str,
        payload: &Value,
    ) -> reqwest::Response {
        let body = form_payload(payload).into_bytes();
        let form = "application/x-www-form-urlencoded";
        self.post_signed(
            app_base_url,
            INTERACTIONS_PATH,
            secret,
            form,
            body,
            now(),
            &[],
        )
        .await
    }

    /// An `event_callback` envelope around `event`.
    pub fn envelope(&self, event_id: &str, event: Value) -> Value {
        json!({
            "token": "fake-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": now(),
            "authorizations": [{"enterprise_id": null, "team_id": TEAM_ID,
                "user_id": BOT_USER_ID, "is_bot": true, "is_enterprise_install": false}],
            "is_ext_shared_channel": false,
            "event_context": format!("4-{event_id}"),
        })
    }

    /// An `app_mention` event: `text` should contain `<@U0TFPILOT>`
    /// ([`BOT_USER_ID`]) as Slack writes the mention.
    pub fn mention_event(
        &self,
        event_id: &str,
        user: &str,
        channel: &str,
        text: &str,
        ts: &str,
        thread_ts: Option<&str>,
    ) -> Value {
        let mut event = json!({"type": "app_mention", "user": user, "text": text, "ts": ts,
            "team": TEAM_ID, "channel": channel, "event_ts": ts,
            "client_msg_id": format!("msg-{event_id}")});
        if let Some(thread_ts) = thread_ts {
            event["thread_ts"] = json!(thread_ts);
        }
        self.envelope(event_id, event)
    }

    /// A `message` event.
    pub fn message_event(&self, m: &MessageEvent<'_>) -> Value {
        let mut event = json!({"type": "message", "text": m.text, "ts": m.ts, "team": TEAM_ID,
            "channel": m.channel, "channel_type": m.channel_type, "event_ts": m.ts});
        if !m.user.is_empty() {
            event["user"] = json!(m.user);
        }
        if let Some(thread_ts) = m.thread_ts {
            event["thread_ts"] = json!(thread_ts);
        }
        match m.bot_id {
            Some(bot_id) => {
                event["bot_id"] = json!(bot_id);
                event["app_id"] = json!(if bot_id == BOT_ID { APP_ID } else { "A0OTHER" });
            }
            None => event["client_msg_id"] = json!(format!("msg-{}", m.event_id)),
        }
        self.envelope(m.event_id, event)
    }

    /// A `block_actions` payload: `user` pressed the button `action_id`
    /// (with `value`) on the message `message_ts` in `channel`; its
    /// `response_url` is a fresh one on this fake, and its `message` is the
    /// fake's copy of that message when it has one.
    pub fn block_action(
        &self,
        user: &str,
        channel: &str,
        message_ts: &str,
        thread_ts: Option<&str>,
        action_id: &str,
        value: &str,
    ) -> Value {
        let posted = self.message(channel, message_ts);
        let mut container = json!({"type": "message", "message_ts": message_ts,
            "channel_id": channel, "is_ephemeral": false});
        let mut message = json!({"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID,
            "app_id": APP_ID, "ts": message_ts, "team": TEAM_ID,
            "text": posted.as_ref().map_or("", |m| m.text.as_str()),
            "blocks": posted.as_ref().and_then(|m| m.blocks.clone()).unwrap_or(json!([]))});
        if let Some(thread_ts) = thread_ts {
            container["thread_ts"] = json!(thread_ts);
            message["thread_ts"] = json!(thread_ts);
        }
        json!({
            "type": "block_actions",
            "user": {"id": user, "username": user.to_lowercase(), "name": user.to_lowercase(),
                     "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": "fake-verification-token",
            "container": container,
            "trigger_id": format!("{}.{message_ts}.trigger", now()),
            "team": {"id": TEAM_ID, "domain": "tfpilot-test"},
            "enterprise": null,
            "is_enterprise_install": false,
            "channel": {"id": channel, "name": channel.to_lowercase()},
            "message": message,
            "state": {"values": {}},
            "response_url": self.response_url(),
            "actions": [{"action_id": action_id, "block_id": "tfpilot",
                "text": {"type": "plain_text", "text": action_id, "emoji": true},
                "value": value, "type": "button", "action_ts": format!("{}.000100", now())}],
        })
    }
}
