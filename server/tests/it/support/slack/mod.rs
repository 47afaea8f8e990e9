//! `FakeSlack`: a stateful stand-in for Slack's Web API and response URLs on 127.0.0.1, which also sends signed events and interactions to tfpilot.
//!
//! It serves `/api/{chat.postMessage, chat.update, chat.postEphemeral,
//! users.info, auth.test}` and `/response/{id}`, checks the bearer token,
//! gives posted messages increasing `ts`, keeps the messages of each channel
//! (with their updates) and records every call. Knobs make the next calls
//! answer HTTP 429 or `ok: false`. `handlers.rs` answers the calls;
//! [`events`] holds the other direction.

pub mod events;
mod handlers;

use axum::Router;
use axum::routing::any;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use events::MessageEvent;

/// The bot token the fake accepts unless told otherwise.
pub const TOKEN: &str = "xoxb-test-token";
/// The bot's user id (`auth.test`), as mentions of it read `<@…>`.
pub const BOT_USER_ID: &str = "U0TFPILOT";
/// The bot id on the bot's own messages.
pub const BOT_ID: &str = "B0TFPILOT";
/// The workspace.
pub const TEAM_ID: &str = "T0TFPILOT";
/// The workspace's name.
pub const TEAM: &str = "tfpilot test";
/// The Slack app.
pub const APP_ID: &str = "A0TFPILOT";

/// One call the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `chat.postMessage`, …, or `response_url` for a response URL.
    pub method: String,
    /// The JSON body (form and query arguments as a JSON object of strings).
    pub body: Value,
    /// `body.channel`.
    pub channel: Option<String>,
    /// `body.thread_ts`.
    pub thread_ts: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The URL a `response_url` call went to (as [`FakeSlack::response_url`] minted it).
    pub url: Option<String>,
    /// Whether the fake answered `ok: true` (not 429, not a failure knob,
    /// not a bad token).
    pub ok: bool,
}

/// A message as it stands in a channel (updates applied).
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    pub channel: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    pub text: String,
    pub blocks: Option<Value>,
    /// How many times `chat.update` replaced it.
    pub updates: usize,
}

#[derive(Default)]
struct Fake {
    base: String,
    token: String,
    next_ts: u64,
    next_response: u64,
    calls: Vec<Call>,
    messages: Vec<Posted>,
    users: HashMap<String, Value>,
    rate_limit: Option<(usize, u64)>,
    fail: Option<(usize, String)>,
}

type Shared = Arc<Mutex<Fake>>;

/// A running fake Slack; it stops with the test's runtime.
#[derive(Clone)]
pub struct FakeSlack {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    state: Shared,
}

impl FakeSlack {
    /// Starts on a free loopback port, accepting [`TOKEN`].
    pub async fn start() -> FakeSlack {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Slack");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let state: Shared = Arc::new(Mutex::new(Fake {
            base: base.clone(),
            token: TOKEN.into(),
            ..Fake::default()
        }));
        let app = Router::new()
            .route("/api/{method}", any(handlers::api))
            .route("/response/{id}", any(handlers::response))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeSlack { base, state }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Fake> {
        self.state.lock().expect("fake Slack state")
    }

    /// The Web API base, for `TFPILOT_SLACK_API_URL`.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.base)
    }

    /// The settings that point tfpilot at this fake with the right token.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("TFPILOT_SLACK_API_URL".into(), self.api_url()),
            ("TFPILOT_SLACK_BOT_TOKEN".into(), TOKEN.into()),
        ]
    }

    /// Accepts `token` instead of [`TOKEN`] from now on.
    pub fn set_token(&self, token: &str) {
        self.lock().token = token.into();
    }

    /// A fresh interaction `response_url` on this fake.
    pub fn response_url(&self) -> String {
        let mut fake = self.lock();
        fake.next_response += 1;
        format!("{}/response/{}", self.base, fake.next_response)
    }

    /// A user `users.info` knows.
    pub fn add_user(&self, id: &str, email: Option<&str>, is_bot: bool) {
        let mut profile = json!({"real_name": id, "display_name": id});
        if let Some(email) = email {
            profile["email"] = json!(email);
        }
        let user = json!({"id": id, "team_id": TEAM_ID, "name": id.to_lowercase(),
                          "deleted": false, "is_bot": is_bot, "profile": profile});
        self.lock().users.insert(id.into(), user);
    }

    /// The next `n` calls answer HTTP 429 with `Retry-After: retry_after_secs`.
    pub fn rate_limit_next(&self, n: usize, retry_after_secs: u64) {
        self.lock().rate_limit = Some((n, retry_after_secs));
    }

    /// The next `n` calls answer `{"ok": false, "error": error}`.
    pub fn fail_next(&self, n: usize, error: &str) {
        self.lock().fail = Some((n, error.into()));
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// The calls of one method (`chat.postMessage`, `response_url`, …).
    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// The messages posted in `channel`, oldest first, as updated since.
    pub fn messages_in(&self, channel: &str) -> Vec<Posted> {
        self.lock()
            .messages
            .iter()
            .filter(|m| m.channel == channel)
            .cloned()
            .collect()
    }

    /// The message `ts` in `channel`, as updated since.
    pub fn message(&self, channel: &str, ts: &str) -> Option<Posted> {
        self.messages_in(channel).into_iter().find(|m| m.ts == ts)
    }
}
