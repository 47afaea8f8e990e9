//! GitHub switched on by `TFPILOT_GITHUB_API_URL` alone, with a master
//! key: the host and the Actions executor read the stored `github_token`
//! named `default` on every call. A token PUT through the API takes a
//! request to `plan_ready` with its PR on the fake; a token changed in the
//! store is used by the next call (the fake refuses the old one); with
//! nothing stored a call fails naming what to store; a stored App wins
//! over a token, its installation token is reused, and another
//! installation builds a new client.

use super::{key_of, send};
use crate::support::github::{Fake, SECRET};
use crate::support::{TestApp, WAIT};
use app::domain::policy::Role;
use reqwest::Method;
use serde_json::{Value, json};
use server::github::{GitHubAuth, GitHubClient, GitHubError, GitHubSettings, Retry};
use server::integrations::credentials::Credentials;
use std::time::Duration;

const REPO: &str = "acme/infra";
const FIRST: &str = "ghp_storedfirst0001";
const SECOND: &str = "ghp_storedsecond0002";

async fn put_token(app: &TestApp, admin: &str, api: &str, token: &str) {
    let (status, view) = send(
        app,
        Method::PUT,
        admin,
        "/api/v1/integrations/github_token/default",
        Some(&json!({"api_url": api, "token": token})),
    )
    .await;
    assert!(status == 200 || status == 201, "{status} {view}");
}

async fn file(app: &TestApp, token: &str, name: &str) -> String {
    let body = json!({"project": "sandbox", "environment": "dev", "module": "s3-bucket", "config": {"name": name}});
    let created: Value = app
        .post_as(token, "/api/v1/requests", &body)
        .await
        .json()
        .await
        .unwrap();
    created["request"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created:#}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stored_github_token_is_read_by_every_call_and_a_change_by_the_next() {
    let fake = Fake::start().await;
    fake.create_repo(REPO).await;
    fake.accept_token(FIRST);
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("tfpilot.toml");
    std::fs::write(
        &config,
        format!(
            "[projects.sandbox]\ntitle = \"Sandbox\"\nrepo = \"{REPO}\"\nenvironments = [\"dev\", \"prod\"]\n"
        ),
    )
    .unwrap();
    let api = fake.api_url();
    let master = key_of(7);
    let app = TestApp::spawn_with(
        data,
        &[
            ("TFPILOT_CONFIG", config.to_str().unwrap()),
            ("TFPILOT_GITHUB_API_URL", &api),
            ("TFPILOT_MASTER_KEY", &master),
            ("TFPILOT_GITHUB_WEBHOOK_SECRET", SECRET),
            ("TFPILOT_RECONCILE_SECS", "3600"),
        ],
    )
    .await;
    fake.deliver_to(app.url("/api/v1/webhooks/github"));
    let ada = app.token("ada", Role::Admin).await;
    let alice = app.token("alice", Role::Requester).await;

    put_token(&app, &ada, &api, FIRST).await;
    let id = file(&app, &alice, "stored-token-bucket").await;
    let ready = app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    assert!(
        ready["request"]["pr"]["url"]
            .as_str()
            .unwrap_or_else(|| panic!("{ready:#}"))
            .starts_with("https://github.example/acme/infra/pull/")
    );
    assert!(fake.pulls(REPO).iter().any(|p| p.body.contains(&id)));

    // The fake takes only the second token from now on: the next calls
    // succeed only if they read the store again.
    fake.accept_token(SECOND);
    put_token(&app, &ada, &api, SECOND).await;
    let next = file(&app, &alice, "changed-token-bucket").await;
    app.wait_for_status(&alice, &next, "plan_ready", WAIT).await;
    assert!(fake.pulls(REPO).iter().any(|p| p.body.contains(&next)));
}

#[tokio::test]
async fn with_nothing_stored_a_call_fails_naming_what_to_store() {
    let fake = Fake::start().await;
    fake.create_repo(REPO).await;
    let settings = GitHubSettings {
        api_url: fake.api_url(),
        auth: GitHubAuth::Stored,
        max_wait: Duration::from_secs(1),
    };
    let credentials = Credentials::default();
    let client = GitHubClient::new(&settings).unwrap().reading(&credentials);
    let path = format!("/repos/{REPO}");
    let e = client
        .send(Method::GET, &path, None, Retry::Safe)
        .await
        .unwrap_err();
    assert!(matches!(e, GitHubError::NoCredentials), "{e}");
    assert!(
        e.to_string().contains(
            "store a github_app or github_token integration named default on /admin/integrations"
        ),
        "{e}"
    );
    // Stored later, read by the next call without a new client.
    credentials
        .github_token
        .set(Some(server::config::SecretString::new(
            crate::support::github::TOKEN.into(),
        )));
    let reply = client
        .send(Method::GET, &path, None, Retry::Safe)
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.message());
}

#[tokio::test]
async fn a_stored_app_is_preferred_and_a_changed_installation_builds_a_new_client() {
    let fake = Fake::start().await;
    fake.create_repo(REPO).await;
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = crate::git::github::app_key(dir.path());
    fake.enable_app(77, 99, public);
    let settings = GitHubSettings {
        api_url: fake.api_url(),
        auth: GitHubAuth::Stored,
        max_wait: Duration::from_secs(1),
    };
    let credentials = Credentials::default();
    let client = GitHubClient::new(&settings).unwrap().reading(&credentials);
    let app = |installation_id| server::integrations::values::GithubAppCredential {
        app_id: 77,
        installation_id,
        private_key: server::config::SecretString::new(private.clone()),
    };
    // A token the fake refuses beside the App: the App is used.
    credentials
        .github_token
        .set(Some(server::config::SecretString::new(
            "ghp_refused".into(),
        )));
    credentials.github_app.set(Some(app(99)));
    let path = format!("/repos/{REPO}");
    for _ in 0..2 {
        let reply = client
            .send(Method::GET, &path, None, Retry::Safe)
            .await
            .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.message());
    }
    assert_eq!(fake.minted(), 1, "one installation token, reused");
    // Another installation: a new client, whose token the fake will not mint.
    credentials.github_app.set(Some(app(98)));
    let refused = client.send(Method::GET, &path, None, Retry::Once).await;
    assert!(
        refused.is_err() || refused.as_ref().is_ok_and(|r| r.status != 200),
        "the old installation's token is not reused"
    );
    assert_eq!(fake.minted(), 1);
    credentials.github_app.set(Some(app(99)));
    let reply = client
        .send(Method::GET, &path, None, Retry::Safe)
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.message());
    assert_eq!(fake.minted(), 2, "built again, so a new token");
}
