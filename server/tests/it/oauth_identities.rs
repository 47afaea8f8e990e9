//! Who a GitHub account is, against the fake: found by its numeric id
//! (a rename keeps the user, records older than the index still work),
//! the allow-lists asked at every sign-in, and role lists that raise only
//! the kind of account they name.

use crate::oauth::{app_for, cookie_named, rule_of, sign_in};
use crate::support::TestApp;
use crate::support::github::Fake;
use app::domain::policy::Role;
use reqwest::header::COOKIE;
use serde_json::Value;
use server::auth::users::Identity;
use server::store::ObjectStore as _;

const CLIENT: &str = "Iv1.tfpilot";
const SECRET: &str = "oauth-secret";

/// Signs in whoever the fake consents as; their session's login and role.
async fn github_session(app: &TestApp) -> (String, String) {
    let done = sign_in(app).await;
    assert_eq!(done.status(), 303, "{}", done.text().await.unwrap());
    let cookie = cookie_named(&done, "tfpilot_session").unwrap();
    whoami(app, &cookie).await
}

async fn whoami(app: &TestApp, cookie: &str) -> (String, String) {
    let me: Value = app
        .client
        .get(app.url("/api/v1/session"))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        me["login"].as_str().unwrap().to_owned(),
        me["role"].as_str().unwrap().to_owned(),
    )
}

async fn indexed(app: &TestApp, id: u64) -> Option<String> {
    let obj = app
        .requests_store()
        .get(&format!("identities/github/{id}.json"))
        .await
        .ok()?;
    let link: Value = serde_json::from_slice(&obj.bytes).unwrap();
    Some(link["login"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_renamed_github_account_keeps_its_user() {
    let fake = Fake::start().await;
    fake.set_user_id("octocat", 4242);
    fake.enable_oauth(CLIENT, SECRET, "octocat");
    let app = app_for(&fake, &[("TFPILOT_ALLOWED_LOGINS", "octocat,octo-renamed")]).await;
    assert_eq!(
        github_session(&app).await,
        ("octocat".into(), "approver".into())
    );
    assert_eq!(indexed(&app, 4242).await.as_deref(), Some("octocat"));

    // Renamed on GitHub: same id, new login, same user.
    fake.set_user_id("octo-renamed", 4242);
    fake.enable_oauth(CLIENT, SECRET, "octo-renamed");
    assert_eq!(
        github_session(&app).await,
        ("octocat".into(), "approver".into())
    );
    assert!(
        app.requests_store()
            .get("users/octo-renamed.json")
            .await
            .is_err(),
        "no second user"
    );

    // The old login, taken by another GitHub account, gets nothing.
    fake.set_user_id("octocat", 5555);
    fake.enable_oauth(CLIENT, SECRET, "octocat");
    let refused = sign_in(&app).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(rule_of(refused).await, "auth.identity");
}

#[tokio::test]
async fn users_recorded_before_the_index_are_found_and_indexed() {
    let fake = Fake::start().await;
    let app = app_for(&fake, &[("TFPILOT_ALLOWED_LOGINS", "hubot-2,mona")]).await;
    let users = server::auth::Users::new(app.requests_store());
    users
        .add_as("hubot", Role::Requester, None, Identity::Github { id: 99 })
        .await
        .unwrap();
    // Renamed since: found by the scan of the users.
    fake.set_user_id("hubot-2", 99);
    fake.enable_oauth(CLIENT, SECRET, "hubot-2");
    assert_eq!(github_session(&app).await.0, "hubot");
    assert_eq!(indexed(&app, 99).await.as_deref(), Some("hubot"));

    // Recorded by an older server after that scan: found by its login.
    users
        .add_as("mona", Role::Requester, None, Identity::Github { id: 77 })
        .await
        .unwrap();
    fake.set_user_id("mona", 77);
    fake.enable_oauth(CLIENT, SECRET, "mona");
    assert_eq!(github_session(&app).await.0, "mona");
    assert_eq!(indexed(&app, 77).await.as_deref(), Some("mona"));
}

#[tokio::test]
async fn someone_taken_off_the_allow_lists_can_no_longer_sign_in() {
    let fake = Fake::start().await;
    fake.add_member("acme", "alice");
    let app = app_for(&fake, &[("TFPILOT_ALLOWED_ORGS", "acme")]).await;
    fake.enable_oauth(CLIENT, SECRET, "alice");
    assert_eq!(github_session(&app).await.0, "alice");

    fake.remove_member("acme", "alice");
    let refused = sign_in(&app).await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["rule"], "auth.allowed_logins");
    let text = body["error"]["message"].as_str().unwrap();
    assert!(text.contains("may no longer sign in"), "{text}");
    let audit = server::store::journal::AuditLog::new(app.requests_store())
        .read(None)
        .await
        .unwrap();
    assert!(
        audit.iter().any(|r| r.actor == "alice"
            && r.action == "auth.login_failed"
            && r.detail.contains("no longer")),
        "{audit:?}"
    );

    // Off `TFPILOT_ALLOWED_LOGINS` after a restart with a shorter list.
    let first = app_for(&fake, &[("TFPILOT_ALLOWED_LOGINS", "octocat")]).await;
    fake.enable_oauth(CLIENT, SECRET, "octocat");
    assert_eq!(github_session(&first).await.0, "octocat");
    let dir = first.data.path().to_str().unwrap().to_owned();
    let restarted = app_for(
        &fake,
        &[
            ("TFPILOT_ALLOWED_LOGINS", "hubot"),
            ("TFPILOT_DATA_DIR", dir.as_str()),
        ],
    )
    .await;
    let refused = sign_in(&restarted).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(rule_of(refused).await, "auth.allowed_logins");
}

#[tokio::test]
async fn role_lists_raise_only_the_kind_of_account_they_name() {
    let fake = Fake::start().await;
    let app = app_for(
        &fake,
        &[
            ("TFPILOT_ALLOWED_LOGINS", "octocat,hubot,mona"),
            ("TFPILOT_ADMINS", "alice,github:bob,local:carol,mona"),
            ("TFPILOT_APPROVERS", "local:octocat,github:hubot"),
        ],
    )
    .await;
    // Local accounts: with GitHub sign-in on, a bare entry names GitHub.
    for (login, role) in [
        ("alice", "requester"),
        ("bob", "requester"),
        ("carol", "admin"),
    ] {
        let cookie = app.signed_in(login, Role::Requester).await;
        assert_eq!(whoami(&app, &cookie).await, (login.into(), role.into()));
    }
    // GitHub accounts.
    for (login, role) in [
        ("octocat", "requester"),
        ("hubot", "approver"),
        ("mona", "admin"),
    ] {
        fake.enable_oauth(CLIENT, SECRET, login);
        assert_eq!(github_session(&app).await, (login.into(), role.into()));
    }
}
