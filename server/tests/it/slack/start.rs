//! The start checks the bot token with `auth.test`: a token Slack refuses stops the start naming the variable.

use crate::support::slack::FakeSlack;
use crate::support::{TestApp, config_from, root};

#[tokio::test]
async fn a_refused_bot_token_stops_the_start_naming_the_variable() {
    let fake = FakeSlack::start().await;
    let data = tempfile::tempdir().unwrap();
    let registry = root().join("modules-registry.toml");
    let workflows = root().join("infra-workflows");
    let api = fake.api_url();
    let config = config_from(&[
        ("TFPILOT_DATA_DIR", data.path().to_str().unwrap()),
        ("TFPILOT_REGISTRY", registry.to_str().unwrap()),
        ("TFPILOT_WORKFLOWS_DIR", workflows.to_str().unwrap()),
        ("TFPILOT_SLACK_API_URL", &api),
        ("TFPILOT_SLACK_BOT_TOKEN", "xoxb-revoked"),
    ])
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = match server::start(config, listener, std::future::pending()).await {
        Ok(_) => panic!("a refused token must stop the start"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("TFPILOT_SLACK_BOT_TOKEN"), "{err}");
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
