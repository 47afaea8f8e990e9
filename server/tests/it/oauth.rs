//! GitHub sign-in against the fake OAuth provider: the state is bound to
//! the session, the code is exchanged for a user token, `/user` names the
//! login, and `TFPILOT_ALLOWED_LOGINS` decides who may sign in.

use crate::support::TestApp;
use crate::support::github::Fake;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

async fn app_for(fake: &Fake, allowed: &str) -> TestApp {
    let oauth = fake.oauth_url();
    let api = fake.api_url();
    TestApp::spawn_with(
        tempfile::tempdir().unwrap(),
        &[
            ("TFPILOT_GITHUB_OAUTH_CLIENT_ID", "Iv1.tfpilot"),
            ("TFPILOT_GITHUB_OAUTH_CLIENT_SECRET", "oauth-secret"),
            ("TFPILOT_GITHUB_OAUTH_URL", &oauth),
            ("TFPILOT_GITHUB_OAUTH_API_URL", &api),
            ("TFPILOT_ALLOWED_LOGINS", allowed),
            ("TFPILOT_APPROVERS", "octocat"),
        ],
    )
    .await
}

fn cookie_of(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tfpilot_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// Starts at tfpilot, follows GitHub's consent, returns the callback URL
/// and the session cookie of the start.
async fn consent(app: &TestApp) -> (String, String) {
    let start = app.get("/auth/github").await;
    assert_eq!(start.status(), 303);
    let cookie = cookie_of(&start).expect("the state lives in a session");
    let authorize = start.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(authorize.contains("client_id=Iv1.tfpilot"), "{authorize}");
    let back = app.client.get(&authorize).send().await.unwrap();
    assert_eq!(back.status(), 302);
    (
        back.headers()[LOCATION].to_str().unwrap().to_owned(),
        cookie,
    )
}

#[tokio::test]
async fn github_sign_in_binds_the_state_to_the_session() {
    let fake = Fake::start().await;
    fake.enable_oauth("Iv1.tfpilot", "oauth-secret", "octocat");
    let app = app_for(&fake, "octocat,hubot").await;

    let (callback, cookie) = consent(&app).await;
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
    assert_eq!(done.status(), 303, "{}", done.text().await.unwrap());
    assert_eq!(done.headers()[LOCATION], "/requests");
    let signed_in = cookie_of(&done).unwrap();
    assert_ne!(signed_in, cookie, "a new session id at sign-in");
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

    // The callback with another session's state is refused.
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
    assert_eq!(
        mismatch.json::<Value>().await.unwrap()["error"]["rule"],
        "oauth.state"
    );
    let no_session = app.client.get(&callback).send().await.unwrap();
    assert_eq!(no_session.status(), 403);
}

#[tokio::test]
async fn only_allowed_logins_sign_in_with_github() {
    let fake = Fake::start().await;
    fake.enable_oauth("Iv1.tfpilot", "oauth-secret", "mallory");
    let app = app_for(&fake, "octocat").await;
    let (callback, cookie) = consent(&app).await;
    let refused = app
        .client
        .get(&callback)
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"]["rule"],
        "auth.allowed_logins"
    );
}
