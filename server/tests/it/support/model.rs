//! `FakeModel`: a stateful stand-in for an OpenAI-compatible
//! chat-completions server (`POST /v1/chat/completions`) on 127.0.0.1.
//!
//! It checks what a strict server checks: a model name, a system and a user
//! message, and either `response_format: {type: json_schema, json_schema:
//! {name, schema, strict: true}}` or one forced strict function; a schema
//! whose objects do not close their properties and require them all is
//! refused with 400, as OpenAI refuses it. It answers from a script (the
//! JSON to return, text that is not JSON, an HTTP status, a delay), in the
//! shape the request asked for, records every request and counts calls.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// This JSON as the answer (content, or the function's arguments).
    Answer(Value),
    /// This text as the answer, as it is (not JSON, say).
    Text(String),
    /// An HTTP error status with a body.
    Status(u16),
    /// Waits this long, then answers the next reply of the script.
    Delay(Duration, Box<Reply>),
    /// A call of this function with these arguments (for `tool_choice:
    /// "auto"`, where the model chooses among the tools).
    Call(String, Value),
}

#[derive(Default)]
struct Fake {
    script: VecDeque<Reply>,
    requests: Vec<Value>,
    refuse_json_schema: bool,
    key: Option<String>,
}

type Shared = Arc<Mutex<Fake>>;

/// A running fake model; it stops with the test's runtime.
#[derive(Clone)]
pub struct FakeModel {
    /// `http://127.0.0.1:<port>/v1`.
    pub url: String,
    state: Shared,
}

/// The model name tests configure.
pub const MODEL: &str = "fake-llama";

impl FakeModel {
    /// Starts on a free loopback port.
    pub async fn start() -> FakeModel {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake model");
        let url = format!("http://{}/v1", listener.local_addr().expect("address"));
        let state: Shared = Arc::new(Mutex::new(Fake::default()));
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeModel { url, state }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Fake> {
        self.state.lock().expect("fake model state")
    }

    /// Settings that point tfpilot at this fake.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("TFPILOT_MODEL_URL".into(), self.url.clone()),
            ("TFPILOT_MODEL".into(), MODEL.into()),
        ]
    }

    /// Answers `reply` to the next call (after those already scripted).
    pub fn script(&self, reply: Reply) {
        self.lock().script.push_back(reply);
    }

    /// Answers 400 to `response_format: json_schema`, like a server that
    /// knows only function calls.
    pub fn refuse_json_schema(&self) {
        self.lock().refuse_json_schema = true;
    }

    /// Requires `Authorization: Bearer <key>`.
    pub fn require_key(&self, key: &str) {
        self.lock().key = Some(key.into());
    }

    /// How many calls arrived.
    pub fn calls(&self) -> usize {
        self.lock().requests.len()
    }

    /// Every request body, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.lock().requests.clone()
    }
}

/// Where a strict schema breaks the strict rules, if anywhere.
pub fn strict_violation(schema: &Value, at: &str) -> Option<String> {
    match schema {
        Value::Object(map) => {
            if let Some(props) = map.get("properties").and_then(Value::as_object) {
                if map.get("additionalProperties") != Some(&json!(false)) {
                    return Some(format!("{at}: additionalProperties must be false"));
                }
                let required: Vec<&str> = map
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if let Some(missing) = props.keys().find(|k| !required.contains(&k.as_str())) {
                    return Some(format!("{at}: `{missing}` must be required"));
                }
            }
            map.iter()
                .find_map(|(k, v)| strict_violation(v, &format!("{at}/{k}")))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| strict_violation(v, &format!("{at}/{i}"))),
        _ => None,
    }
}

fn error(status: StatusCode, message: String) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "type": "invalid_request_error"}})),
    )
        .into_response()
}

/// The schema the request asks for, and whether by a function call.
fn asked(body: &Value) -> Result<(Value, bool), String> {
    if let Some(format) = body.get("response_format") {
        if format["type"] != "json_schema" || format["json_schema"]["strict"] != true {
            return Err("response_format must be a strict json_schema".into());
        }
        if format["json_schema"]["name"]
            .as_str()
            .is_none_or(str::is_empty)
        {
            return Err("json_schema.name is required".into());
        }
        return Ok((format["json_schema"]["schema"].clone(), false));
    }
    let tools = body["tools"]
        .as_array()
        .ok_or("no response_format and no tools")?;
    if tools.is_empty() {
        return Err("tools is empty".into());
    }
    for tool in tools {
        let f = &tool["function"];
        if tool["type"] != "function" || f["name"].as_str().is_none() || f["strict"] != true {
            return Err(format!("every tool must be a strict function: {tool}"));
        }
        if let Some(v) = strict_violation(&f["parameters"], "#") {
            return Err(format!("invalid schema for strict mode: {v}"));
        }
    }
    if body["tool_choice"] == "auto" {
        return Ok((json!({}), true));
    }
    let name = &tools[0]["function"]["name"];
    if tools.len() != 1 || body["tool_choice"]["function"]["name"] != *name {
        return Err("one function, forced with tool_choice".into());
    }
    Ok((tools[0]["function"]["parameters"].clone(), true))
}

async fn completions(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Json<Value>,
) -> Response {
    let Json(body) = body;
    let reply = {
        let mut fake = state.lock().expect("fake model state");
        fake.requests.push(body.clone());
        if let Some(key) = &fake.key {
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
            if auth != Some(&format!("Bearer {key}")) {
                return error(StatusCode::UNAUTHORIZED, "bad api key".into());
            }
        }
        if body.get("response_format").is_some() && fake.refuse_json_schema {
            return error(
                StatusCode::BAD_REQUEST,
                "response_format is not supported".into(),
            );
        }
        fake.script.pop_front()
    };
    if body["model"] != MODEL {
        return error(
            StatusCode::NOT_FOUND,
            format!("model {} not found", body["model"]),
        );
    }
    let roles: Vec<&str> = body["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["role"].as_str()).collect())
        .unwrap_or_default();
    if roles != ["system", "user"] {
        return error(StatusCode::BAD_REQUEST, format!("messages: {roles:?}"));
    }
    let (schema, tools) = match asked(&body) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    if let Some(v) = strict_violation(&schema, "#") {
        return error(
            StatusCode::BAD_REQUEST,
            format!("invalid schema for strict mode: {v}"),
        );
    }
    let mut reply = reply.unwrap_or(Reply::Answer(json!({"module": null, "inputs": {}})));
    while let Reply::Delay(wait, next) = reply {
        tokio::time::sleep(wait).await;
        reply = *next;
    }
    let call = |name: &Value, arguments: String| {
        json!({"role": "assistant", "content": null, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": name, "arguments": arguments},
        }]})
    };
    let auto = body["tool_choice"] == "auto";
    let message = match reply {
        Reply::Call(name, args) if auto => call(&json!(name), args.to_string()),
        Reply::Call(..) => return error(StatusCode::BAD_REQUEST, "no tool may be chosen".into()),
        Reply::Status(s) => {
            let status = StatusCode::from_u16(s).expect("a status");
            return error(status, "scripted failure".into());
        }
        Reply::Delay(..) => unreachable!("delays are waited out above"),
        Reply::Answer(v) if tools && !auto => {
            call(&body["tools"][0]["function"]["name"], v.to_string())
        }
        Reply::Text(t) if tools && !auto => call(&body["tools"][0]["function"]["name"], t),
        Reply::Answer(v) => json!({"role": "assistant", "content": v.to_string()}),
        Reply::Text(t) => json!({"role": "assistant", "content": t}),
    };
    Json(json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": if message["tool_calls"].is_array() { "tool_calls" } else { "stop" }}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }))
    .into_response()
}
