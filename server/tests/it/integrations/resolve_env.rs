//! Where a credential comes from: an environment variable wins over a
//! stored record (which is then never used, and the API and page say so);
//! a second server on the same data dir follows a change within its
//! refresh period; a stored record that does not open leaves its adapter
//! off and the others working.

use super::{key_of, send};
use crate::support::model::{FakeModel, MODEL, Reply};
use crate::support::slack::{BOT_USER_ID, FakeSlack};
use crate::support::{TestApp, wait_until};
use app::domain::policy::Role;
use reqwest::Method;
use serde_json::{Value, json};
use server::ids::OsIds;
use server::integrations::crypto::{Keyring, MasterKey};
use server::integrations::seal_secrets;
use server::integrations::store::{IntegrationRecord, IntegrationStore};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

fn queue(name: &str) -> Reply {
    Reply::Answer(json!({"module": "sqs-queue", "inputs": {
        "name": name, "fifo": null, "message_retention_seconds": null}}))
}

async fn draft(app: &TestApp, token: &str) -> Value {
    app.post_as(
        token,
        "/api/v1/assistant/draft",
        &json!({"text": "a queue"}),
    )
    .await
    .json()
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_environment_variable_wins_over_the_stored_record_and_says_so() {
    let model = FakeModel::start().await;
    model.require_key("sk-from-the-environment");
    let mut env = model.env();
    env.push((
        "TFPILOT_MODEL_API_KEY".into(),
        "sk-from-the-environment".into(),
    ));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = TestApp::builder().env(&env).spawn().await;
    let ada = app.token("ada", Role::Admin).await;
    let (status, view) = send(
        &app,
        Method::PUT,
        &ada,
        "/api/v1/integrations/model/default",
        Some(&json!({"url": "http://127.0.0.1:9/v1", "model": "stored-model", "api_key": "sk-stored-never-used"})),
    )
    .await;
    assert_eq!(status, 201, "{view}");
    assert_eq!(view["env_wins"], "TFPILOT_MODEL_URL is set and wins");
    let (_, one) = send(
        &app,
        Method::GET,
        &ada,
        "/api/v1/integrations/model/default",
        None,
    )
    .await;
    assert_eq!(one["env_wins"], "TFPILOT_MODEL_URL is set and wins");
    // Another name is not what the adapters read: nothing wins over it.
    let (_, other) = send(
        &app,
        Method::PUT,
        &ada,
        "/api/v1/integrations/model/spare",
        Some(&json!({"url": "http://127.0.0.1:9/v1", "model": "m", "api_key": "sk-spare"})),
    )
    .await;
    assert!(other.get("env_wins").is_none(), "{other}");

    model.script(queue("env-key"));
    let body = draft(&app, &ada).await;
    assert_eq!(body["source"], "model", "{body}");
    let sent = model.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0]["model"], MODEL,
        "the environment's model, not the stored one"
    );

    let cookie = app.signed_in("root", Role::Admin).await;
    let (status, page) = app.page_as(&cookie, "/admin/integrations").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("model: TFPILOT_MODEL_URL is set and wins"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_server_on_the_same_data_follows_a_change_within_its_refresh_period() {
    let model = FakeModel::start().await;
    model.require_key("sk-shared");
    let first = TestApp::builder()
        .env(&[("TFPILOT_MASTER_KEY", &key_of(5))])
        .spawn()
        .await;
    let data = first.data.path().to_str().unwrap().to_owned();
    let second = TestApp::builder()
        .env(&[
            ("TFPILOT_MASTER_KEY", &key_of(5)),
            ("TFPILOT_DATA_DIR", &data),
            ("TFPILOT_INDEX_REFRESH_SECS", "1"),
        ])
        .spawn()
        .await;
    let ada = first.token("ada", Role::Admin).await;
    assert_eq!(draft(&second, &ada).await["source"], "rules");
    let (status, _) = send(
        &first,
        Method::PUT,
        &ada,
        "/api/v1/integrations/model/default",
        Some(&json!({"url": model.url, "model": MODEL, "api_key": "sk-shared"})),
    )
    .await;
    assert_eq!(status, 201);
    // Scripted answers for every draft the wait below may make.
    for _ in 0..10 {
        model.script(queue("followed"));
    }
    wait_until(
        Duration::from_secs(20),
        "the second server to use the model",
        || {
            let (second, ada) = (&second, &ada);
            async move {
                let body = draft(second, ada).await;
                (body["source"] == "model")
                    .then_some(())
                    .ok_or_else(|| body.to_string())
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_record_that_does_not_open_leaves_its_adapter_off_and_the_others_working() {
    let data = tempfile::tempdir().unwrap();
    let store =
        Arc::new(server::store::fs::FsStore::open(data.path().join("store/requests")).unwrap());
    let records = IntegrationStore::new(store);
    let model = FakeModel::start().await;
    model.require_key("sk-readable");
    let record = |kind: &str, keyring: &Keyring, metadata: Value, secrets: Value| {
        let metadata: BTreeMap<String, String> = serde_json::from_value(metadata).unwrap();
        let secrets: BTreeMap<String, String> = serde_json::from_value(secrets).unwrap();
        IntegrationRecord {
            kind: kind.into(),
            name: "default".into(),
            metadata,
            secret_fields: secrets.keys().cloned().collect(),
            secret: seal_secrets(keyring, &OsIds, kind, "default", &secrets),
            set_at: "2026-12-02T10:00:00.000Z".into(),
            set_by: "ada".into(),
            version: 1,
        }
    };
    let ours = Keyring::single(MasterKey::new([6; 32]));
    let theirs = Keyring::single(MasterKey::new([7; 32]));
    let slack = FakeSlack::start().await;
    let unreadable = record(
        "slack",
        &theirs,
        json!({"api_url": slack.api_url()}),
        json!({"bot_token": "xoxb-test-token", "signing_secret": "sealed-elsewhere"}),
    );
    records.put(&unreadable, None).await.unwrap();
    let readable = record(
        "model",
        &ours,
        json!({"url": model.url, "model": MODEL}),
        json!({"api_key": "sk-readable"}),
    );
    records.put(&readable, None).await.unwrap();

    let app = TestApp::builder()
        .data(data)
        .env(&[("TFPILOT_MASTER_KEY", &key_of(6))])
        .spawn()
        .await;
    let event = slack.mention_event(
        "EvUnreadable1",
        "U0SOMEONE",
        "C0X",
        &format!("<@{BOT_USER_ID}> help"),
        "1700000200.000001",
        None,
    );
    let res = slack
        .send_event(&app.url(""), "sealed-elsewhere", &event)
        .await;
    assert_eq!(res.status(), 404, "Slack stays off");
    assert!(slack.calls().is_empty(), "nothing was sent to Slack");
    let ada = app.token("ada", Role::Admin).await;
    model.script(queue("still-working"));
    let body = draft(&app, &ada).await;
    assert_eq!(body["source"], "model", "the model works: {body}");
    let (_, list) = send(&app, Method::GET, &ada, "/api/v1/integrations", None).await;
    let states: Vec<(String, String)> = list["integrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_owned(),
                r["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            ("model".to_owned(), "ok".to_owned()),
            ("slack".to_owned(), "unreadable (wrong key?)".to_owned()),
        ]
    );
}
