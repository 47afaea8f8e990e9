//! The fake Slack's HTTP side: the Web API methods and response URLs, answering as Slack does and recording each call.

use super::{APP_ID, BOT_ID, BOT_USER_ID, Call, Fake, Posted, Shared, TEAM, TEAM_ID};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

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

pub(super) async fn api(
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

pub(super) async fn response(
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
