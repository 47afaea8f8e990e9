//! `FakeSlack`: a stateful stand-in for Slack's Web API and response URLs on 127.0.0.1, which also sends signed events and interactions to tfpilot.
//!
//! It serves `/api/{chat.postMessage, chat.update, chat.postEphemeral,
//! users.info, auth.test}` and `/response/{id}`, checks the bearer token,
//! gives posted messages increasing `ts`, keeps the messages of each channel
//! (with their updates) and records every call. Knobs make the next calls
//! answer HTTP 429 or `ok: false`. [`events`] holds the other direction.

pub mod events;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
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
            .route("/api/{method}", any(api))
            .route("/response/{id}", any(response))
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

/// JSON, form or query arguments as one JSON object.
fn arguments(headers: &HeaderMap, query: Option<String>, body: &Bytes) -> Value {
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json_body {
        return serde_json::from_slice(body).unwrap_or(Value::Null);
    }
    let mut args = serde_json::Map::new();
    for text in [
        query.unwrap_or_default(),
        String::from_utf8_lossy(body).into(),
    ] {
        let url = reqwest::Url::parse(&format!("http://x/?{text}")).expect("form");
        for (k, v) in url.query_pairs() {
            args.insert(k.into_owned(), json!(v.into_owned()));
        }
    }
    Value::Object(args)
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn refused(error: &str) -> Response {
    axum::Json(json!({"ok": false, "error": error})).into_response()
}

/// The 429 or failure a knob asks for, if any is left.
fn knob(fake: &mut Fake) -> Option<Response> {
    if let Some((n, secs)) = fake.rate_limit.as_mut().filter(|(n, _)| *n > 0) {
        *n -= 1;
        let secs = *secs;
        let body = axum::Json(json!({"ok": false, "error": "ratelimited"}));
        return Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, secs.to_string())],
                body,
            )
                .into_response(),
        );
    }
    if let Some((n, error)) = fake.fail.as_mut().filter(|(n, _)| *n > 0) {
        *n -= 1;
        return Some(refused(&error.clone()));
    }
    None
}

async fn api(
    State(state): State<Shared>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let args = arguments(&headers, query, &body);
    let mut fake = state.lock().expect("fake Slack state");
    let mut call = Call {
        method: method.clone(),
        channel: text(&args["channel"]),
        thread_ts: text(&args["thread_ts"]),
        body: args.clone(),
        content_type: content_type(&headers),
        url: None,
        ok: false,
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let answer = if bearer != Some(fake.token.as_str()) {
        refused(if bearer.is_some() {
            "invalid_auth"
        } else {
            "not_authed"
        })
    } else if let Some(answer) = knob(&mut fake) {
        answer
    } else {
        match answer(&mut fake, &method, &args) {
            Ok(v) => {
                call.ok = true;
                axum::Json(v).into_response()
            }
            Err(error) => refused(error),
        }
    };
    fake.calls.push(call);
    answer
}

/// What Slack answers to a well-authorised call.
fn answer(fake: &mut Fake, method: &str, args: &Value) -> Result<Value, &'static str> {
    let channel = text(&args["channel"]).ok_or("channel_not_found");
    match method {
        "auth.test" => Ok(json!({"ok": true, "url": "https://tfpilot-test.slack.com/",
            "team": TEAM, "user": "tfpilot", "team_id": TEAM_ID, "user_id": BOT_USER_ID,
            "bot_id": BOT_ID, "is_enterprise_install": false})),
        "users.info" => {
            let id = text(&args["user"]).ok_or("user_not_found")?;
            let user = fake.users.get(&id).ok_or("user_not_found")?;
            Ok(json!({"ok": true, "user": user}))
        }
        "chat.postMessage" => {
            let channel = channel?;
            if args["text"].as_str().is_none_or(str::is_empty) && args["blocks"].is_null() {
                return Err("no_text");
            }
            fake.next_ts += 1;
            let ts = format!("1700000000.{:06}", fake.next_ts);
            let message = Posted {
                channel: channel.clone(),
                ts: ts.clone(),
                thread_ts: text(&args["thread_ts"]),
                text: text(&args["text"]).unwrap_or_default(),
                blocks: Some(args["blocks"].clone()).filter(|b| !b.is_null()),
                updates: 0,
            };
            let shown = json!({"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID,
                "app_id": APP_ID, "text": message.text, "ts": ts, "team": TEAM_ID});
            fake.messages.push(message);
            Ok(json!({"ok": true, "channel": channel, "ts": ts, "message": shown}))
        }
        "chat.update" => {
            let channel = channel?;
            let ts = text(&args["ts"]).ok_or("message_not_found")?;
            let message = fake
                .messages
                .iter_mut()
                .find(|m| m.channel == channel && m.ts == ts)
                .ok_or("message_not_found")?;
            message.text = text(&args["text"]).unwrap_or_default();
            message.blocks = Some(args["blocks"].clone()).filter(|b| !b.is_null());
            message.updates += 1;
            Ok(json!({"ok": true, "channel": channel, "ts": ts, "text": message.text}))
        }
        "chat.postEphemeral" => {
            channel?;
            text(&args["user"]).ok_or("user_not_in_channel")?;
            fake.next_ts += 1;
            Ok(json!({"ok": true, "message_ts": format!("1700000000.{:06}", fake.next_ts)}))
        }
        _ => Err("unknown_method"),
    }
}

async fn response(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let args = arguments(&headers, None, &body);
    let mut fake = state.lock().expect("fake Slack state");
    let known = id
        .parse::<u64>()
        .is_ok_and(|n| n >= 1 && n <= fake.next_response);
    let url = format!("{}/response/{id}", fake.base);
    let mut call = Call {
        method: "response_url".into(),
        channel: None,
        thread_ts: text(&args["thread_ts"]),
        body: args,
        content_type: content_type(&headers),
        url: Some(url),
        ok: false,
    };
    let answer = if let Some(answer) = knob(&mut fake) {
        answer
    } else if !known {
        (StatusCode::NOT_FOUND, "no_such_url").into_response()
    } else {
        call.ok = true;
        axum::Json(json!({"ok": true})).into_response()
    };
    fake.calls.push(call);
    answer
}
