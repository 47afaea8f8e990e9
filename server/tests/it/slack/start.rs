//! The start checks the bot token with `auth.test`: a token Slack refuses stops the start naming the variable.

use crate::support::slack::FakeSlack;
use crate::support::{TestApp, config_from, root};

/// The start's error with the embedded defaults and these Slack settings.
async fn start_error(api: &str, token: &str) -> String {
    let data = tempfile::tempdir().unwrap();
    let registry = root().join("modules-registry.toml");
    let workflows = root().join("infra-workflows");
    let config = config_from(&[
        ("TFPILOT_DATA_DIR", data.path().to_str().unwrap()),
        ("TFPILOT_REGISTRY", registry.to_str().unwrap()),
        ("TFPILOT_WORKFLOWS_DIR", workflows.to_str().unwrap()),
        ("TFPILOT_SLACK_API_URL", api),
        ("TFPILOT_SLACK_BOT_TOKEN", token),
    ])
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    match server::start(config, listener, std::future::pending()).await {
        Ok(_) => panic!("the start must stop when Slack does not accept the bot token"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn a_refused_bot_token_stops_the_start_naming_the_variable() {
    let fake = FakeSlack::start().await;
    let api = fake.api_url();
    let err = start_error(&api, "xoxb-revoked").await;
    assert!(err.contains("TFPILOT_SLACK_BOT_TOKEN is refused"), "{err}");
    assert!(err.contains("invalid_auth"), "{err}");
    assert!(err.contains(&api), "{err}");
    assert!(
        !err.contains("xoxb-revoked"),
        "the token is never shown: {err}"
    );
}

#[tokio::test]
async fn an_accepted_bot_token_starts_with_slack() {
    let fake = FakeSlack::start().await;
    let env = fake.env();
    let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = TestApp::builder().env(&vars).spawn().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(fake.calls_to("auth.test").len(), 1);
}

#[tokio::test]
async fn an_unreachable_slack_stops_the_start_naming_the_variable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let api = format!("http://127.0.0.1:{port}/api");
    let err = start_error(&api, "xoxb-test-token").await;
    assert!(
        err.contains("TFPILOT_SLACK_BOT_TOKEN cannot be checked"),
        "{err}"
    );
    assert!(err.contains(&api) && err.contains("unavailable"), "{err}");
}
