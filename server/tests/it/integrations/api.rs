//! The API for admins: set, list, read and delete without a secret ever
//! coming back; a secret left out is kept; every refusal named (403, 404,
//! 409, 422); a record sealed with another key listed as unreadable while
//! the others work; no master key → 409 naming `TFPILOT_MASTER_KEY`.

use super::{bodies, key_of, send};
use crate::support::TestApp;
use app::domain::policy::Role;
use reqwest::Method;
use serde_json::{Value, json};
use server::ids::OsIds;
use server::integrations::crypto::{Keyring, MasterKey};
use server::integrations::kinds::Kind;
use server::integrations::seal_secrets;
use server::integrations::store::{IntegrationRecord, IntegrationStore};
use std::collections::BTreeMap;
use std::sync::Arc;

fn field_names(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admins_set_list_read_and_delete_integrations_without_secrets() {
    let app = TestApp::builder()
        .env(&[("TFPILOT_MASTER_KEY", &key_of(1))])
        .spawn()
        .await;
    let ada = app.token("ada", Role::Admin).await;
    let key_id = MasterKey::new([1; 32]).id().to_owned();

    for (kind, body) in bodies("t1") {
        let (status, view) = send(
            &app,
            Method::PUT,
            &ada,
            &format!("/api/v1/integrations/{kind}/default"),
            Some(&body),
        )
        .await;
        assert_eq!(status, 201, "{kind}: {view}");
        assert_eq!(view["state"], "ok", "{view}");
        assert_eq!(view["key_id"], key_id.as_str());
        assert_eq!(view["set_by"], "ada");
        assert_eq!(view["version"], 1);
    }
    let (status, list) = send(&app, Method::GET, &ada, "/api/v1/integrations", None).await;
    assert_eq!(status, 200);
    let rows = list["integrations"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    let slack = rows.iter().find(|r| r["kind"] == "slack").unwrap();
    assert_eq!(slack["metadata"], json!({"channel": "#infra"}));
    assert_eq!(
        slack["secret_fields"],
        json!(["bot_token", "signing_secret"])
    );

    // Metadata edited without the secrets: they are kept.
    let (status, view) = send(
        &app,
        Method::PUT,
        &ada,
        "/api/v1/integrations/slack/default",
        Some(&json!({"channel": "#platform", "bot_token": ""})),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["version"], 2);
    assert_eq!(view["metadata"], json!({"channel": "#platform"}));
    assert_eq!(
        view["secret_fields"],
        json!(["bot_token", "signing_secret"])
    );
    let store = app.requests_store();
    let integrations = server::service::integrations::Integrations::new(
        store.clone(),
        Some(Arc::new(Keyring::single(MasterKey::new([1; 32])))),
        Arc::new(OsIds),
        Arc::new(server::clock::SystemClock),
        server::store::journal::AuditLog::new(store.clone()),
    );
    let resolved = integrations
        .resolve(Kind::Slack, "default")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resolved.secrets["bot_token"], "xoxb-t1bot");
    assert_eq!(resolved.secrets["signing_secret"], "t1sign");
    assert_eq!(resolved.metadata["channel"], "#platform");
    assert!(
        !format!("{resolved:?}").contains("xoxb"),
        "Debug shows no secret"
    );
    assert!(
        integrations
            .resolve(Kind::Slack, "other")
            .await
            .unwrap()
            .is_none()
    );

    let (status, one) = send(
        &app,
        Method::GET,
        &ada,
        "/api/v1/integrations/tfc/default",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one["metadata"], json!({"organization": "acme"}));
    assert!(!one.to_string().contains("atlasv1"), "{one}");

    let (status, _) = send(
        &app,
        Method::DELETE,
        &ada,
        "/api/v1/integrations/tfc/default",
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = send(
        &app,
        Method::GET,
        &ada,
        "/api/v1/integrations/tfc/default",
        None,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = send(
        &app,
        Method::DELETE,
        &ada,
        "/api/v1/integrations/tfc/default",
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Audited with the field names and the key, never a value.
    let (_, audit) = send(&app, Method::GET, &ada, "/api/v1/audit", None).await;
    let details: Vec<String> = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["action"]
                .as_str()
                .unwrap_or_default()
                .starts_with("integration.")
        })
        .map(|r| {
            format!(
                "{} {}",
                r["action"].as_str().unwrap(),
                r["detail"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        details.contains(&format!(
            "integration.put slack/default (version 2, key {key_id}): changed channel"
        )),
        "{details:?}"
    );
    assert!(details.contains(&format!("integration.put slack/default (version 1, key {key_id}): set bot_token, signing_secret; changed channel")), "{details:?}");
    assert!(
        details
            .iter()
            .any(|d| d.starts_with("integration.delete tfc/default (version 1")),
        "{details:?}"
    );
    for secret in super::secret_values("t1") {
        assert!(
            !audit.to_string().contains(&secret),
            "{secret} in the audit"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_are_named_403_404_422() {
    let app = TestApp::builder()
        .env(&[("TFPILOT_MASTER_KEY", &key_of(1))])
        .spawn()
        .await;
    let ada = app.token("ada", Role::Admin).await;
    let bob = app.token("bob", Role::Approver).await;
    let slack = json!({"bot_token": "xoxb-1", "signing_secret": "s"});
    for (method, path, body) in [
        (Method::GET, "/api/v1/integrations", None),
        (Method::GET, "/api/v1/integrations/slack/default", None),
        (
            Method::PUT,
            "/api/v1/integrations/slack/default",
            Some(&slack),
        ),
        (Method::DELETE, "/api/v1/integrations/slack/default", None),
    ] {
        let (status, body) = send(&app, method.clone(), &bob, path, body).await;
        assert_eq!(status, 403, "{method} {path}: {body}");
        assert_eq!(body["error"]["rule"], "integrations.admin");
    }
    let (status, body) = send(
        &app,
        Method::PUT,
        &ada,
        "/api/v1/integrations/jira/default",
        Some(&slack),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("github_app, github_token"),
        "{body}"
    );
    let (status, body) = send(
        &app,
        Method::PUT,
        &ada,
        "/api/v1/integrations/slack/Not_Valid",
        Some(&slack),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(field_names(&body), ["name"]);
    let (status, body) = send(
        &app,
        Method::PUT,
        &ada,
        "/api/v1/integrations/slack/default",
        Some(&json!({"api_url": "ftp://slack", "bot_token": "xoxb 1", "token": "x"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        field_names(&body),
        ["token", "api_url", "bot_token", "signing_secret"]
    );
    let (status, body) = send(
        &app,
        Method::PUT,
        &ada,
        "/api/v1/integrations/model/default",
        Some(&json!({"url": "https://m.example.com", "model": "m"})),
    )
    .await;
    assert_eq!(status, 422, "a new record needs its secrets: {body}");
    assert_eq!(field_names(&body), ["api_key"]);
    let (status, _) = send(
        &app,
        Method::PUT,
        &ada,
        "/api/v1/integrations/slack/default",
        Some(&json!("text")),
    )
    .await;
    assert_eq!(status, 400, "not a JSON object");
}

/// A record sealed with a key the server does not hold, written straight
/// into the store.
async fn foreign_record(app: &TestApp, kind: Kind, name: &str) {
    let other = Keyring::single(MasterKey::new([9; 32]));
    let secrets = BTreeMap::from([("token".to_owned(), "foreign-secret".to_owned())]);
    let record = IntegrationRecord {
        kind: kind.as_str().into(),
        name: name.into(),
        metadata: BTreeMap::new(),
        secret_fields: vec!["token".into()],
        secret: seal_secrets(&other, &OsIds, kind.as_str(), name, &secrets),
        set_at: "2026-12-02T10:00:00.000Z".into(),
        set_by: "eve".into(),
        version: 1,
    };
    IntegrationStore::new(app.requests_store())
        .put(&record, None)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreadable_record_is_shown_as_such_and_the_others_work() {
    let app = TestApp::builder()
        .env(&[("TFPILOT_MASTER_KEY", &key_of(1))])
        .spawn()
        .await;
    let ada = app.token("ada", Role::Admin).await;
    foreign_record(&app, Kind::GithubToken, "default").await;
    let (status, _) = send(
        &app,
        Method::PUT,
        &ada,
        "/api/v1/integrations/tfc/default",
        Some(&json!({"token": "good-token"})),
    )
    .await;
    assert_eq!(status, 201);
    let (_, list) = send(&app, Method::GET, &ada, "/api/v1/integrations", None).await;
    let state = |kind: &str| {
        list["integrations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == kind)
            .unwrap()
            .clone()
    };
    let foreign = state("github_token");
    assert_eq!(foreign["state"], "unreadable (wrong key?)", "{foreign}");
    assert!(
        foreign["problem"]
            .as_str()
            .unwrap()
            .contains("neither TFPILOT_MASTER_KEY"),
        "{foreign}"
    );
    assert_eq!(state("tfc")["state"], "ok");
    let cookie = app.signed_in("root", Role::Admin).await;
    let (status, html) = app.page_as(&cookie, "/admin/integrations").await;
    assert_eq!(status, 200);
    assert!(html.contains("unreadable (wrong key?)"), "{html}");
    assert!(
        html.contains(&format!("key {}", MasterKey::new([1; 32]).id())),
        "{html}"
    );

    // Keeping the unreadable secret is refused; sending it again repairs it.
    let (status, body) = send(
        &app,
        Method::PUT,
        &ada,
        "/api/v1/integrations/github_token/default",
        Some(&json!({"api_url": "https://ghe.example.com/api/v3"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("send every secret field"),
        "{body}"
    );
    let (status, view) = send(
        &app,
        Method::PUT,
        &ada,
        "/api/v1/integrations/github_token/default",
        Some(&json!({"token": "ghp_new"})),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["state"], "ok");
    assert_eq!(view["version"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_master_key_integrations_answer_409_naming_it() {
    let app = TestApp::builder().no_master_key().spawn().await;
    let ada = app.token("ada", Role::Admin).await;
    let bob = app.token("bob", Role::Requester).await;
    for (method, path) in [
        (Method::GET, "/api/v1/integrations"),
        (Method::GET, "/api/v1/integrations/slack/default"),
        (Method::PUT, "/api/v1/integrations/slack/default"),
        (Method::DELETE, "/api/v1/integrations/slack/default"),
    ] {
        let body = json!({"bot_token": "x", "signing_secret": "y"});
        let (status, answer) = send(&app, method.clone(), &ada, path, Some(&body)).await;
        assert_eq!(status, 409, "{method} {path}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("TFPILOT_MASTER_KEY"),
            "{answer}"
        );
        let (status, _) = send(&app, method.clone(), &bob, path, Some(&body)).await;
        assert_eq!(status, 403, "the rule comes first");
    }
    let cookie = app.signed_in("root", Role::Admin).await;
    let (status, html) = app.page_as(&cookie, "/admin/integrations").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"unavailable\""), "{html}");
}

#[tokio::test]
async fn the_openapi_document_lists_every_status_of_the_integrations() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let paths = &doc["paths"];
    let statuses = |path: &str, method: &str| -> Vec<String> {
        let mut s: Vec<String> = paths[path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path}"))
            .keys()
            .cloned()
            .collect();
        s.sort();
        s
    };
    let one = "/api/v1/integrations/{kind}/{name}";
    assert_eq!(
        statuses("/api/v1/integrations", "get"),
        ["200", "401", "403", "409", "503"]
    );
    assert_eq!(
        statuses(one, "get"),
        ["200", "401", "403", "404", "409", "503"]
    );
    assert_eq!(
        statuses(one, "put"),
        [
            "200", "201", "400", "401", "403", "404", "409", "413", "422", "503"
        ]
    );
    assert_eq!(
        statuses(one, "delete"),
        ["204", "401", "403", "404", "409", "503"]
    );
    assert!(
        paths[one].get("post").is_none(),
        "only the methods it answers"
    );
    let test = "/api/v1/integrations/{kind}/{name}/test";
    assert_eq!(
        statuses(test, "post"),
        ["200", "401", "403", "404", "409", "422", "503"]
    );
    let kinds = &paths[test]["post"]["parameters"][0]["schema"]["enum"];
    assert_eq!(
        kinds,
        &json!(["slack", "github_app", "github_token", "tfc"])
    );
    let params = paths[one]["put"]["parameters"].as_array().unwrap();
    assert_eq!(params[0]["schema"]["enum"].as_array().unwrap().len(), 7);
    assert_eq!(params[1]["schema"]["pattern"], "^[a-z0-9][a-z0-9-]{0,62}$");
    let body = &doc["components"]["schemas"]["Integration"];
    assert_eq!(body["additionalProperties"], false);
    assert!(
        body["properties"]["bot_token"]["description"]
            .as_str()
            .unwrap()
            .contains("slack (secret, required)")
    );
}
