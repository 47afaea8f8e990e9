//! Integration credentials: the API and page for admins (no secret ever
//! returned, every bad field named), an unreadable record beside working
//! ones, no master key, a whole session searched for the secret values,
//! the master key's start-up rules and the rotation to a new key,
//! interrupted and resumed, through the real binary; the adapters reading
//! the stored credentials while the server runs, the environment winning
//! over them, and a second server following a change.

mod api;
mod connection;
mod keys;
mod resolve;
mod resolve_env;
mod resolve_github;
mod rotate;
mod secrets;

use crate::support::TestApp;
use serde_json::{Value, json};

/// A base64 master key of 32 bytes of `byte`.
pub fn key_of(byte: u8) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

/// The body of every kind with `tag` in each secret.
pub fn bodies(tag: &str) -> Vec<(&'static str, Value)> {
    let pem = format!("-----BEGIN PRIVATE KEY-----\nMII{tag}pem\n-----END PRIVATE KEY-----\n");
    vec![
        (
            "github_app",
            json!({"app_id": "12", "installation_id": "34", "private_key": pem}),
        ),
        (
            "github_token",
            json!({"api_url": "https://ghe.example.com/api/v3", "token": format!("ghp_{tag}tok")}),
        ),
        (
            "slack",
            json!({"channel": "#infra", "bot_token": format!("xoxb-{tag}bot"), "signing_secret": format!("{tag}sign")}),
        ),
        (
            "tfc",
            json!({"organization": "acme", "token": format!("{tag}.atlasv1.tfc")}),
        ),
        (
            "model",
            json!({"url": "https://model.example.com/v1", "model": "gpt-4o", "api_key": format!("sk-{tag}model")}),
        ),
        (
            "smtp",
            json!({"from": "tfpilot <tfpilot@example.com>", "url": format!("smtps://ops:{tag}mailpw@mail.example.com")}),
        ),
        ("webhook_secret", json!({"secret": format!("{tag}hook")})),
    ]
}

/// Every secret value in [`bodies`] with `tag`.
pub fn secret_values(tag: &str) -> Vec<String> {
    vec![
        format!("MII{tag}pem"),
        format!("ghp_{tag}tok"),
        format!("xoxb-{tag}bot"),
        format!("{tag}sign"),
        format!("{tag}.atlasv1.tfc"),
        format!("sk-{tag}model"),
        format!("{tag}mailpw"),
        format!("{tag}hook"),
    ]
}

/// A request with a bearer token: status and JSON body (`Null` if none).
pub async fn send(
    app: &TestApp,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
