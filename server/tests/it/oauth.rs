//! GitHub sign-in against the fake OAuth provider: the state is bound to
//! the browser by a short-lived cookie (no session is stored for an
//! anonymous visitor), the code is exchanged for a user token, `/user`
//! names the login and its numeric id, records are matched by that id,
//! and `TFPILOT_ALLOWED_LOGINS` / `TFPILOT_ALLOWED_ORGS` decide who may
//! get an account.

use crate::support::TestApp;
use crate::support::github::Fake;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;
use server::store::ObjectStore;

pub(crate) async fn app_for(fake: &Fake, vars: &[(&str, &str)]) -> TestApp {
    let oauth = fake.oauth_url();
    let api = fake.api_url();
    let mut all = vec![
        ("TFPILOT_GITHUB_OAUTH_CLIENT_ID", "Iv1.tfpilot"),
        ("TFPILOT_GITHUB_OAUTH_CLIENT_SECRET", "oauth-secret"),
        ("TFPILOT_GITHUB_OAUTH_URL", oauth.as_str()),
        ("TFPILOT_GITHUB_OAUTH_API_URL", api.as_str()),
        ("TFPILOT_APPROVERS", "octocat"),
    ];
    all.extend_from_slice(vars);
    TestApp::spawn_with(tempfile::tempdir().unwrap(), &all).await
}

pub(crate) fn cookie_named(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

async fn stored_sessions(app: &TestApp) -> usize {
    server::store::list_all(
        app.requests_store().as_ref() as &dyn ObjectStore,
        "sessions/",
    )
    .await
    .unwrap()
    .len()
}

/// Starts at tfpilot, follows GitHub's consent, returns the callback URL
/// and the state cookie of the start.
async fn consent(app: &TestApp) -> (String, String) {
    let start = app.get("/auth/github").await;
    assert_eq!(start.status(), 303);
    assert!(
        cookie_named(&start, "tfpilot_session").is_none(),
        "an anonymous visitor gets no session"
    );
    let cookie = cookie_named(&start, "tfpilot_oauth_state").expect("the state lives in a cookie");
    let authorize = start.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(authorize.contains("client_id=Iv1.tfpilot"), "{authorize}");
    let back = app.client.get(&authorize).send().await.unwrap();
    assert_eq!(back.status(), 302);
    (
        back.headers()[LOCATION].to_str().unwrap().to_owned(),
        cookie,
    )
}

/// The whole dance for whoever the fake says consents.
pub(crate) async fn sign_in(app: &TestApp) -> reqwest::Response {
    let (callback, cookie) = consent(app).await;
    app.client
        .get(&callback)
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn rule_of(res: reqwest::Response) -> String {
    res.json::<Value>().await.unwrap()["error"]["rule"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn github_sign_in_binds_the_state_to_the_browser() {
    let fake = Fake::start().await;
    fake.enable_oauth("Iv1.tfpilot", "oauth-secret", "octocat");
    let app = app_for(&fake, &[("TFPILOT_ALLOWED_LOGINS", "octocat,hubot")]).await;

    let (callback, cookie) = consent(&app).await;
    assert_eq!(stored_sessions(&app).await, 0, "starting stores nothing");
    assert!(
        callback.starts_with(&format!("http://{}/auth/github/callback?code=", app.addr)),
        "{callback}"
    );
    let done = app
        .client
        .get(&callback)
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()[LOCATION], "/requests");
    let signed_in = cookie_named(&done, "tfpilot_session").unwrap();
    assert!(
        done.headers()
            .get_all(SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("tfpilot_oauth_state=;")),
        "the state cookie is cleared"
    );
    let me: Value = app
        .client
        .get(app.url("/api/v1/session"))
        .header(COOKIE, &signed_in)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["login"], "octocat");
    assert_eq!(me["role"], "approver", "TFPILOT_APPROVERS raises the role");

    // The callback with another browser's state is refused, and so is one
    // without any.
    let (callback, _) = consent(&app).await;
    let (_, other) = consent(&app).await;
    let mismatch = app
        .client
        .get(&callback)
        .header(COOKIE, &other)
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), 403);
    assert_eq!(rule_of(mismatch).await, "oauth.state");
    let no_cookie = app.client.get(&callback).send().await.unwrap();
    assert_eq!(no_cookie.status(), 403);
    assert_eq!(rule_of(no_cookie).await, "oauth.state");
}

#[tokio::test]
async fn an_empty_allow_list_admits_nobody_and_a_listed_login_gets_in() {
    let fake = Fake::start().await;
    fake.enable_oauth("Iv1.tfpilot", "oauth-secret", "mallory");
    let app = app_for(&fake, &[]).await;
    let refused = sign_in(&app).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(rule_of(refused).await, "auth.allowed_logins");
    assert!(
        app.requests_store()
            .get("users/mallory.json")
            .await
            .is_err(),
        "no record for someone refused"
    );

    let app = app_for(&fake, &[("TFPILOT_ALLOWED_LOGINS", "octocat")]).await;
    let refused = sign_in(&app).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(rule_of(refused).await, "auth.allowed_logins");
    fake.enable_oauth("Iv1.tfpilot", "oauth-secret", "octocat");
    assert_eq!(sign_in(&app).await.status(), 303);
}

#[tokio::test]
async fn an_active_member_of_an_allowed_org_or_team_gets_in() {
    let fake = Fake::start().await;
    fake.add_member("acme", "alice");
    fake.add_member("acme/platform", "bob");
    let app = app_for(&fake, &[("TFPILOT_ALLOWED_ORGS", "acme,acme/platform")]).await;

    fake.enable_oauth("Iv1.tfpilot", "oauth-secret", "alice");
    let start = app.get("/auth/github").await;
    assert!(
        start.headers()[LOCATION]
            .to_str()
            .unwrap()
            .contains("read%3Aorg"),
        "membership needs read:org"
    );
    assert_eq!(sign_in(&app).await.status(), 303, "org member");
    fake.enable_oauth("Iv1.tfpilot", "oauth-secret", "bob");
    assert_eq!(sign_in(&app).await.status(), 303, "team member");
    fake.enable_oauth("Iv1.tfpilot", "oauth-secret", "eve");
    let refused = sign_in(&app).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(rule_of(refused).await, "auth.allowed_logins");
}

#[tokio::test]
async fn github_sign_in_never_takes_over_a_local_account_or_a_reused_login() {
    let fake = Fake::start().await;
    let app = app_for(
        &fake,
        &[
            ("TFPILOT_ALLOWED_LOGINS", "admin,octocat"),
            ("TFPILOT_ADMINS", "local:admin"),
        ],
    )
    .await;
    // The local admin made at setup.
    let local = app
        .signed_in("admin", app::domain::policy::Role::Admin)
        .await;
    assert!(!local.is_empty());

    // GitHub's `admin` is somebody else.
    fake.enable_oauth("Iv1.tfpilot", "oauth-secret", "admin");
    let refused = sign_in(&app).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(rule_of(refused).await, "auth.identity");

    // octocat signs in; later the login is renamed and reused by another
    // GitHub account, which does not get octocat's record.
    fake.enable_oauth("Iv1.tfpilot", "oauth-secret", "octocat");
    assert_eq!(sign_in(&app).await.status(), 303);
    fake.set_user_id("octocat", 777_000);
    let refused = sign_in(&app).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(rule_of(refused).await, "auth.identity");
    let record = app
        .requests_store()
        .get("users/octocat.json")
        .await
        .expect("the first octocat's record stays");
    let user: Value = serde_json::from_slice(&record.bytes).unwrap();
    assert_eq!(user["identity"]["kind"], "github");
    assert_ne!(user["identity"]["id"], 777_000);
}
