//! "Test connection" with the stored values against the fakes: Slack
//! `auth.test`, GitHub `/user` (a token) and `/app` (an App's JWT), HCP
//! Terraform `/account/details`; a refused token is `ok: false` with the
//! service's answer; a kind without a test is a 422 naming `kind`; the
//! page's button shows the answer.

use super::{key_of, send};
use crate::support::TestApp;
use crate::support::github::Fake as GitHub;
use crate::support::slack::{self, FakeSlack};
use crate::support::tfc::{self, Fake as Tfc};
use app::domain::policy::Role;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_kind_is_tried_with_its_stored_values() {
    let app = TestApp::builder()
        .env(&[("TFPILOT_MASTER_KEY", &key_of(1))])
        .spawn()
        .await;
    let ada = app.token("ada", Role::Admin).await;
    let slack_fake = FakeSlack::start().await;
    let github = GitHub::start().await;
    github.add_user_token("ghp_stored_user_token", "octo-ada");
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = crate::git::github::app_key(dir.path());
    github.enable_app(77, 99, public);
    let tfc_fake = Tfc::start().await;
    let put = |kind: &str, name: &str, body: serde_json::Value| {
        let path = format!("/api/v1/integrations/{kind}/{name}");
        let (app, ada) = (&app, &ada);
        async move {
            let (status, answer) = send(app, Method::PUT, ada, &path, Some(&body)).await;
            assert_eq!(status, 201, "{answer}");
        }
    };
    put(
        "slack",
        "default",
        json!({"api_url": slack_fake.api_url(), "bot_token": slack::TOKEN, "signing_secret": "s"}),
    )
    .await;
    put("slack", "wrong", json!({"api_url": slack_fake.api_url(), "bot_token": "xoxb-revoked", "signing_secret": "s"})).await;
    put(
        "github_token",
        "default",
        json!({"api_url": github.api_url(), "token": "ghp_stored_user_token"}),
    )
    .await;
    put("github_app", "default", json!({"api_url": github.api_url(), "app_id": "77", "installation_id": "99", "private_key": private})).await;
    put(
        "tfc",
        "default",
        json!({"url": tfc_fake.url(), "token": tfc::TOKEN}),
    )
    .await;
    put("webhook_secret", "default", json!({"secret": "s"})).await;

    let test = |kind: &str, name: &str| {
        let path = format!("/api/v1/integrations/{kind}/{name}/test");
        let (app, ada) = (&app, &ada);
        async move { send(app, Method::POST, ada, &path, None).await }
    };
    for (kind, name, ok, says) in [
        (
            "slack",
            "default",
            true,
            "Slack accepts the bot token: team tfpilot test",
        ),
        ("slack", "wrong", false, "Slack refused"),
        (
            "github_token",
            "default",
            true,
            "GitHub accepts the token: user octo-ada",
        ),
        (
            "github_app",
            "default",
            true,
            "GitHub accepts the App: tfpilot-test (id 77)",
        ),
        (
            "tfc",
            "default",
            true,
            "HCP Terraform accepts the token: user tfpilot-test",
        ),
    ] {
        let (status, answer) = test(kind, name).await;
        assert_eq!(status, 200, "{kind}/{name}: {answer}");
        assert_eq!(answer["ok"], ok, "{kind}/{name}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(says),
            "{kind}/{name}: {answer}"
        );
        assert!(
            !answer.to_string().contains("xoxb-") && !answer.to_string().contains("ghp_"),
            "{answer}"
        );
    }
    let (status, answer) = test("webhook_secret", "default").await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["fields"][0]["field"], "kind");
    let (status, _) = test("tfc", "missing").await;
    assert_eq!(status, 404);
    let bob = app.token("bob", Role::Approver).await;
    let (status, _) = send(
        &app,
        Method::POST,
        &bob,
        "/api/v1/integrations/tfc/default/test",
        None,
    )
    .await;
    assert_eq!(status, 403);

    // The page's button, and the audit record of each test.
    let cookie = app.signed_in("root", Role::Admin).await;
    let (_, html) = app.page_as(&cookie, "/admin/integrations").await;
    assert!(html.contains("Test connection of tfc/default"), "{html}");
    assert!(
        !html.contains("Test connection of webhook_secret/default"),
        "{html}"
    );
    let res = app
        .client
        .post(app.url("/admin/integrations/tfc/default/test"))
        .header("cookie", &cookie)
        .header("origin", app.url(""))
        .send()
        .await
        .unwrap();
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with("/admin/integrations?done=tfc/default%3A%20HCP%20Terraform%20accepts"),
        "{back}"
    );
    let res = app
        .client
        .post(app.url("/admin/integrations/slack/wrong/test"))
        .header("cookie", &cookie)
        .header("origin", app.url(""))
        .send()
        .await
        .unwrap();
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with("/admin/integrations?error="), "{back}");
    let (_, audit) = send(&app, Method::GET, &ada, "/api/v1/audit", None).await;
    let text = audit.to_string();
    assert!(
        text.contains("tfc/default: accepted")
            && text.contains("slack/wrong: refused or unreachable"),
        "{text}"
    );
}
