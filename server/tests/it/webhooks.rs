//! `POST /api/v1/webhooks/github`: signatures are verified before anything.

use crate::support::TestApp;
use serde_json::{Value, json};
use server::http::webhooks::signature;

async fn deliver(
    app: &TestApp,
    event: &str,
    body: &Value,
    signature: Option<String>,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/api/v1/webhooks/github"))
        .header("x-github-event", event)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap());
    if let Some(s) = signature {
        req = req.header("x-hub-signature-256", s);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn deliveries_need_a_valid_signature() {
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(data, &[("TFPILOT_GITHUB_WEBHOOK_SECRET", "hook-secret")]).await;
    let ping = json!({"zen": "Keep it logically awesome."});
    let bytes = serde_json::to_vec(&ping).unwrap();
    assert_eq!(
        deliver(&app, "ping", &ping, None).await.status(),
        401,
        "missing signature"
    );
    assert_eq!(
        deliver(&app, "ping", &ping, Some(signature(b"wrong", &bytes)))
            .await
            .status(),
        401
    );
    let tampered = json!({"zen": "tampered"});
    assert_eq!(
        deliver(
            &app,
            "ping",
            &tampered,
            Some(signature(b"hook-secret", &bytes))
        )
        .await
        .status(),
        401
    );
    assert_eq!(
        deliver(&app, "ping", &ping, Some(signature(b"hook-secret", &bytes)))
            .await
            .status(),
        200
    );

    let id = "01hf7yat00000002";
    let pr =
        json!({"action": "closed", "pull_request": {"head": {"ref": format!("request/{id}")}}});
    let pr_bytes = serde_json::to_vec(&pr).unwrap();
    let res = deliver(
        &app,
        "pull_request",
        &pr,
        Some(signature(b"hook-secret", &pr_bytes)),
    )
    .await;
    assert_eq!(res.status(), 202);
    assert_eq!(res.json::<Value>().await.unwrap()["request"], id);
    // A duplicate delivery is accepted and changes nothing.
    assert_eq!(
        deliver(
            &app,
            "pull_request",
            &pr,
            Some(signature(b"hook-secret", &pr_bytes))
        )
        .await
        .status(),
        202
    );
    let other = json!({"action": "opened", "pull_request": {"head": {"ref": "feature/x"}}});
    let other_bytes = serde_json::to_vec(&other).unwrap();
    let res = deliver(
        &app,
        "pull_request",
        &other,
        Some(signature(b"hook-secret", &other_bytes)),
    )
    .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["ignored"],
        "pull_request"
    );
}

#[tokio::test]
async fn without_a_secret_webhooks_are_refused() {
    let app = TestApp::spawn().await;
    let res = deliver(&app, "ping", &json!({}), Some("sha256=00".into())).await;
    assert_eq!(res.status(), 404, "nothing listens here");
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("TFPILOT_GITHUB_WEBHOOK_SECRET")
    );
}
