//! The adapters read their credentials from the stored integrations named
//! `default`, while the server runs: Slack switched on by a PUT (the next
//! signed event is answered with the stored bot token) and off by a
//! DELETE; a changed HCP Terraform token used by the next run; the
//! model's stored key sent as the bearer.

use super::send;
use crate::support::model::{FakeModel, MODEL, Reply};
use crate::support::slack::{BOT_USER_ID, FakeSlack};
use crate::support::tfc::Fake;
use crate::support::{TestApp, WAIT, wait_until};
use app::domain::policy::Role;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const STORED_BOT: &str = "xoxb-stored-bot-token";
const STORED_SIGNING: &str = "stored-signing-secret-0042";

async fn mention(fake: &FakeSlack, app: &TestApp, secret: &str, n: u32) -> reqwest::Response {
    let ts = format!("1700000100.{n:06}");
    let event = fake.mention_event(
        &format!("EvResolve{n}"),
        "U0SOMEONE",
        "C0RESOLVE",
        &format!("<@{BOT_USER_ID}> help"),
        &ts,
        None,
    );
    fake.send_event(&app.url(""), secret, &event).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slack_credentials_stored_while_running_switch_slack_on_and_a_delete_off() {
    let fake = FakeSlack::start().await;
    // The fake accepts only the stored token: any post it takes was
    // made with it.
    fake.set_token(STORED_BOT);
    let api = fake.api_url();
    let app = TestApp::builder()
        .env(&[("TFPILOT_SLACK_API_URL", api.as_str())])
        .spawn()
        .await;
    let ada = app.token("ada", Role::Admin).await;
    let off = mention(&fake, &app, STORED_SIGNING, 1).await;
    assert_eq!(off.status(), 404, "no Slack credentials yet");

    let (status, view) = send(
        &app,
        Method::PUT,
        &ada,
        "/api/v1/integrations/slack/default",
        Some(&json!({"bot_token": STORED_BOT, "signing_secret": STORED_SIGNING})),
    )
    .await;
    assert_eq!(status, 201, "{view}");
    assert!(view.get("env_wins").is_none(), "{view}");
    let wrong = mention(&fake, &app, "not-the-signing-secret", 2).await;
    assert_eq!(wrong.status(), 401, "signed with the stored secret only");
    let on = mention(&fake, &app, STORED_SIGNING, 3).await;
    assert_eq!(on.status(), 200, "{}", on.text().await.unwrap_or_default());
    // `ok`: the fake took the stored bot token.
    wait_until(Duration::from_secs(30), "the help reply", || {
        let calls = fake.calls_to("chat.postMessage");
        async move {
            calls
                .into_iter()
                .find(|c| c.ok && c.channel.as_deref() == Some("C0RESOLVE"))
                .ok_or_else(|| "no reply yet".to_owned())
        }
    })
    .await;

    let (status, _) = send(
        &app,
        Method::DELETE,
        &ada,
        "/api/v1/integrations/slack/default",
        None,
    )
    .await;
    assert_eq!(status, 204);
    let gone = mention(&fake, &app, STORED_SIGNING, 4).await;
    assert_eq!(gone.status(), 404, "Slack is off again");
}

const TFC_CONFIG: &str = r#"
[projects.payments]
title = "Payments"
environments = ["dev"]
executor = "tfc"

[projects.payments.tfc]
organization = "acme"
workspaces = { dev = "payments-dev" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tfc_a_token_changed_in_the_store_is_used_by_the_next_run() {
    let fake = Fake::start().await;
    fake.add_workspace("acme", "payments-dev", "envs/dev");
    fake.set_cost("payments-dev", "0.00", "0.00");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tfpilot.toml");
    std::fs::write(&config, TFC_CONFIG).unwrap();
    // No TFPILOT_TFC_TOKEN: the server starts and waits for a stored one.
    let app = TestApp::builder()
        .env(&[("TFPILOT_CONFIG", config.to_str().unwrap())])
        .spawn()
        .await;
    let ada = app.token("ada", Role::Admin).await;
    let alice = app.token("alice", Role::Requester).await;
    let url = fake.url();
    let mut runs_seen = 0;
    for (n, token) in ["stored-token-one.atlasv1", "stored-token-two.atlasv1"]
        .into_iter()
        .enumerate()
    {
        // The fake now refuses every other token, the previous one too.
        fake.set_token(token);
        let (status, view) = send(
            &app,
            Method::PUT,
            &ada,
            "/api/v1/integrations/tfc/default",
            Some(&json!({"url": url, "token": token})),
        )
        .await;
        assert!(status == 200 || status == 201, "{view}");
        let id = app
            .file_in(
                &alice,
                "payments",
                "dev",
                "s3-bucket",
                json!({"name": format!("stored-token-{n}")}),
            )
            .await;
        let ready = app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
        let run = &ready["request"]["runs"]["plan"]["attempts"][0];
        assert!(
            run["url"].as_str().unwrap_or_default().starts_with(&url),
            "{run}"
        );
        let runs = fake.runs();
        assert!(runs.len() > runs_seen, "a run with token {n} was made");
        runs_seen = runs.len();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_models_stored_api_key_is_sent_as_the_bearer() {
    let model = FakeModel::start().await;
    model.require_key("sk-stored-model-key");
    let app = TestApp::spawn().await;
    let ada = app.token("ada", Role::Admin).await;
    let rita = app.token("rita", Role::Requester).await;
    let draft = |token: String| {
        let app = &app;
        async move {
            let res = app
                .post_as(
                    &token,
                    "/api/v1/assistant/draft",
                    &json!({"text": "a queue"}),
                )
                .await;
            res.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(draft(rita.clone()).await["source"], "rules", "no model yet");
    assert_eq!(model.calls(), 0);

    let (status, _) = send(
        &app,
        Method::PUT,
        &ada,
        "/api/v1/integrations/model/default",
        Some(&json!({"url": model.url, "model": MODEL, "api_key": "sk-stored-model-key"})),
    )
    .await;
    assert_eq!(status, 201);
    model.script(Reply::Answer(json!({"module": "sqs-queue", "inputs": {
        "name": "stored-key", "fifo": null, "message_retention_seconds": null}})));
    let body = draft(rita.clone()).await;
    assert_eq!(body["source"], "model", "{body}");
    assert_eq!(body["config"]["name"], "stored-key", "{body}");
    assert_eq!(model.calls(), 1, "the fake took the stored key");
    assert_eq!(model.requests()[0]["model"], MODEL);
}
