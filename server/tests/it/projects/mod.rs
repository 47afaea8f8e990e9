//! Projects as data: the API's rules, seeding from tfpilot.toml, replicas
//! that follow one another, and a project created at runtime that works.

mod api;
mod embedded;
mod pages;
mod seed;

use crate::support::TestApp;
use serde_json::Value;

/// Sends `body` (if any) with `method` as the token's user: status and
/// JSON answer.
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

/// The keys of `GET /api/v1/projects` as the token's user.
pub async fn listed(app: &TestApp, token: &str) -> Vec<String> {
    let (status, body) = send(app, reqwest::Method::GET, token, "/api/v1/projects", None).await;
    assert_eq!(status, 200, "{body}");
    body["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .map(|p| p["key"].as_str().unwrap_or_default().to_owned())
        .collect()
}
