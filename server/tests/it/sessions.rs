//! Browser sessions at the HTTP level: the one-time first-admin link,
//! sign-in and its cookie, session fixation, sign-out, expiry, CSRF and
//! sign-in rate limits.

use crate::support::TestApp;
use app::domain::policy::Role;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use server::clock::ManualClock;
use server::store::{ObjectStore as _, list_all};
use std::sync::Arc;
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

/// The `tfpilot_session=<id>` pair of a response's cookie, and the whole header.
fn session_cookie(res: &reqwest::Response) -> (String, String) {
    let header = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tfpilot_session="))
        .unwrap_or_else(|| panic!("no session cookie in {:?}", res.headers()))
        .to_owned();
    let pair = header.split(';').next().unwrap().to_owned();
    (pair, header)
}

async fn add_user(app: &TestApp, login: &str, role: Role) {
    server::auth::Users::new(app.requests_store())
        .add(login, role, Some(PASSWORD))
        .await
        .unwrap();
}

async fn sign_in(app: &TestApp, login: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/auth/login"))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await
        .unwrap()
}

async fn whoami(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.client
        .get(app.url("/api/v1/session"))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_first_admin_comes_from_a_one_time_link() {
    let app = TestApp::spawn().await;
    let link = app.setup_link.clone().expect("a setup link with no admin");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let page = app
        .get(&format!("/setup?token={token}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Create the first admin"));
    assert!(page.contains(&token), "the form carries the token");

    let setup = |token: String, password: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/auth/setup"))
                .json(&json!({ "token": token, "login": "root", "password": password }))
                .send()
                .await
                .unwrap()
        }
    };
    let weak = setup(token.clone(), "short").await;
    assert_eq!(weak.status(), 400);
    assert_eq!(
        weak.json::<Value>().await.unwrap()["error"]["field"],
        "password"
    );
    let wrong = setup("0".repeat(48), PASSWORD).await;
    assert_eq!(wrong.status(), 403);
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["error"]["rule"],
        "setup.token"
    );

    let done = setup(token.clone(), PASSWORD).await;
    assert_eq!(
        done.status(),
        201,
        "a weak password did not spend the token"
    );
    let (cookie, _) = session_cookie(&done);
    let me: Value = whoami(&app, &cookie).await.json().await.unwrap();
    assert_eq!(me["login"], "root");
    assert_eq!(me["role"], "admin");
    assert_eq!(
        setup(token, PASSWORD).await.status(),
        403,
        "the link works once"
    );
    // A restart with an admin prints no link.
    let copied = keep(app.data.path().to_path_buf());
    drop(app);
    let again = TestApp::spawn_in(copied).await;
    assert!(again.setup_link.is_none());
}

/// A copy of a data directory (the original goes with its server).
fn keep(dir: std::path::PathBuf) -> tempfile::TempDir {
    let fresh = tempfile::tempdir().unwrap();
    copy(&dir, fresh.path());
    fresh
}

fn copy(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).into_iter().flatten().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test]
async fn sign_in_sets_a_safe_cookie_rotates_the_id_and_sign_out_ends_it() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", Role::Requester).await;

    // A session id planted before sign-in is not the one after it.
    let planted = "tfpilot_session=AAAAAAAAAAAAAAAAAAAAAA";
    let res = app
        .client
        .post(app.url("/auth/login"))
        .header(COOKIE, planted)
        .json(&json!({ "login": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (cookie, header) = session_cookie(&res);
    assert_ne!(cookie, planted, "a fresh id at sign-in");
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Lax"), "{header}");
    assert!(header.contains("Path=/"), "{header}");
    assert!(!header.contains("Secure"), "plain http: {header}");
    assert_eq!(whoami(&app, planted).await.status(), 401);
    let me: Value = whoami(&app, &cookie).await.json().await.unwrap();
    assert_eq!(me["login"], "alice");
    assert_eq!(me["role"], "requester");
    let stored = list_all(app.requests_store().as_ref(), "sessions/")
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "kept in the store");
    let id = cookie.trim_start_matches("tfpilot_session=");
    let raw = app
        .requests_store()
        .get(&stored[0].key)
        .await
        .unwrap()
        .bytes;
    assert!(
        !stored[0].key.contains(id) && !String::from_utf8_lossy(&raw).contains(id),
        "the session id itself is not stored"
    );

    let out = app
        .client
        .post(app.url("/auth/logout"))
        .header(COOKIE, &cookie)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(whoami(&app, &cookie).await.status(), 401);
    assert!(
        list_all(app.requests_store().as_ref(), "sessions/")
            .await
            .unwrap()
            .is_empty(),
        "sign-out deletes the server-side session"
    );

    // A form sign-in redirects to a local page only.
    let form = app
        .client
        .post(app.url("/auth/login"))
        .form(&[
            ("login", "alice"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 303);
    assert_eq!(
        form.headers()["location"],
        "/",
        "anything else goes to the root"
    );
}

#[tokio::test]
async fn the_cookie_is_secure_behind_https_and_sessions_expire() {
    let app = TestApp::builder()
        .env(&[
            ("TFPILOT_PUBLIC_URL", "https://tfpilot.example"),
            ("TFPILOT_SESSION_MAX_SECS", "60"),
        ])
        .clock(Arc::new(ManualClock::at_system_time()))
        .spawn()
        .await;
    add_user(&app, "alice", Role::Requester).await;
    let res = sign_in(&app, "alice", PASSWORD).await;
    let (cookie, header) = session_cookie(&res);
    assert!(header.contains("Secure"), "{header}");
    assert_eq!(whoami(&app, &cookie).await.status(), 200);
    app.clock().advance(Duration::from_secs(59));
    assert_eq!(whoami(&app, &cookie).await.status(), 200, "not yet");
    app.clock().advance(Duration::from_secs(2));
    let expired = whoami(&app, &cookie).await;
    assert_eq!(expired.status(), 401);
    assert!(
        expired.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    let idle = TestApp::builder()
        .env(&[("TFPILOT_SESSION_IDLE_SECS", "60")])
        .clock(Arc::new(ManualClock::at_system_time()))
        .spawn()
        .await;
    add_user(&idle, "alice", Role::Requester).await;
    let (cookie, _) = session_cookie(&sign_in(&idle, "alice", PASSWORD).await);
    idle.clock().advance(Duration::from_secs(50));
    assert_eq!(whoami(&idle, &cookie).await.status(), 200, "still active");
    idle.clock().advance(Duration::from_secs(61));
    assert_eq!(whoami(&idle, &cookie).await.status(), 401, "idle expiry");
}

#[tokio::test]
async fn cookie_requests_that_change_state_need_the_csrf_token_or_our_origin() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", Role::Requester).await;
    let res = sign_in(&app, "alice", PASSWORD).await;
    let csrf = res.json::<Value>().await.unwrap()["csrf"]
        .as_str()
        .unwrap()
        .to_owned();
    let (cookie, _) = session_cookie(&sign_in(&app, "alice", PASSWORD).await);
    let csrf_now: Value = whoami(&app, &cookie).await.json().await.unwrap();
    let csrf_now = csrf_now["csrf"].as_str().unwrap().to_owned();
    assert_ne!(csrf, csrf_now, "each sign-in gets its own token");
    let body = json!({"project": "sandbox", "environment": "dev", "module": "sqs-queue", "config": {"name": "csrf-queue"}});
    let post = |headers: Vec<(&'static str, String)>| {
        let mut req = app
            .client
            .post(app.url("/api/v1/requests"))
            .header(COOKIE, &cookie)
            .json(&body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    let bare = post(vec![]).await.unwrap();
    assert_eq!(bare.status(), 403);
    assert_eq!(bare.json::<Value>().await.unwrap()["error"]["rule"], "csrf");
    let evil = post(vec![("origin", "http://evil.example".into())])
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    let stale = post(vec![("x-csrf-token", csrf)]).await.unwrap();
    assert_eq!(stale.status(), 403, "another session's token");
    assert_eq!(
        post(vec![("x-csrf-token", csrf_now)])
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(
        post(vec![("origin", format!("http://{}", app.addr))])
            .await
            .unwrap()
            .status(),
        201,
        "same origin"
    );
    let token = app.token("bot", Role::Requester).await;
    assert_eq!(
        app.post_as(&token, "/api/v1/requests", &body)
            .await
            .status(),
        201,
        "bearer requests are exempt"
    );
    let cross_login = app
        .client
        .post(app.url("/auth/login"))
        .header("origin", "http://evil.example")
        .json(&json!({ "login": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_login.status(), 403, "no login CSRF");
}

#[tokio::test]
async fn failed_sign_ins_say_the_same_thing_and_are_limited() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", Role::Requester).await;
    let unknown = sign_in(&app, "nobody", PASSWORD).await;
    assert_eq!(unknown.status(), 401);
    let wrong = sign_in(&app, "alice", "not the password").await;
    assert_eq!(wrong.status(), 401);
    let message = |v: Value| v["error"]["message"].as_str().unwrap().to_owned();
    assert_eq!(
        message(unknown.json().await.unwrap()),
        message(wrong.json().await.unwrap()),
        "no hint whether the login exists"
    );
    for _ in 0..4 {
        assert_eq!(sign_in(&app, "alice", "still wrong").await.status(), 401);
    }
    let limited = sign_in(&app, "alice", PASSWORD).await;
    assert_eq!(limited.status(), 429, "even the right password waits");
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 300);
    let audit = server::store::journal::AuditLog::new(app.requests_store())
        .read(None)
        .await
        .unwrap();
    assert!(audit.iter().any(|r| r.action == "auth.login_failed"));
    assert!(audit.iter().any(|r| r.action == "auth.login_blocked"));
}

#[tokio::test]
async fn the_admin_pages_list_and_change_users_and_tokens() {
    let app = TestApp::spawn().await;
    add_user(&app, "root", Role::Admin).await;
    add_user(&app, "alice", Role::Requester).await;
    let (root, _) = session_cookie(&sign_in(&app, "root", PASSWORD).await);
    let (alice, _) = session_cookie(&sign_in(&app, "alice", PASSWORD).await);
    let origin = format!("http://{}", app.addr);
    let page = |cookie: &str, path: &str| {
        let request = app.client.get(app.url(path)).header(COOKIE, cookie);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    // A form as the browser posts it: urlencoded, same origin, no redirect followed.
    let post = |cookie: &str, path: &str, fields: &[(&str, &str)]| {
        app.client
            .post(app.url(path))
            .header(COOKIE, cookie)
            .header("origin", &origin)
            .form(fields)
            .send()
    };
    let location = |r: &reqwest::Response| {
        assert_eq!(r.status(), 303, "a form post goes back to its page");
        r.headers()["location"].to_str().unwrap().to_owned()
    };
    let html = page(&root, "/admin/users").await;
    assert!(
        html.contains("Users and roles") && html.contains("data-login=\"alice\""),
        "server-rendered: {html}"
    );
    assert!(
        !html.contains("UsersAdmin"),
        "plain forms, no island: {html}"
    );
    let added = post(
        &root,
        "/admin/users",
        &[("login", "bob"), ("role", "approver"), ("password", "")],
    )
    .await
    .unwrap();
    let back = location(&added);
    assert!(back.starts_with("/admin/users?done="), "{back}");
    let html = page(&root, &back).await;
    assert!(html.contains("data-login=\"bob\"") && html.contains("Added bob as approver."));

    let bad = post(
        &root,
        "/admin/users",
        &[("login", "bad login"), ("role", "admin")],
    )
    .await
    .unwrap();
    let back = location(&bad);
    assert!(back.starts_with("/admin/users?error="), "{back}");
    let bad_role = post(
        &root,
        "/admin/users",
        &[("login", "carol"), ("role", "boss")],
    )
    .await
    .unwrap();
    let html = page(&root, &location(&bad_role)).await;
    assert!(
        html.contains("`boss` is not a role"),
        "the page names the rule: {html}"
    );

    let disabled = post(
        &root,
        "/admin/users/bob",
        &[("role", "requester"), ("disabled", "on")],
    )
    .await
    .unwrap();
    assert!(location(&disabled).contains("done="));
    let bob = server::auth::Users::new(app.requests_store())
        .get("bob")
        .await
        .unwrap();
    assert!(bob.disabled && bob.role == Role::Requester);

    let refused = post(
        &alice,
        "/admin/users",
        &[("login", "eve"), ("role", "admin"), ("password", "")],
    )
    .await
    .unwrap();
    let html = page(&alice, &location(&refused)).await;
    assert!(html.contains("only an admin"), "the page says why: {html}");
    let forged = app
        .client
        .post(app.url("/admin/users"))
        .header(COOKIE, &root)
        .header("origin", "https://evil.example")
        .form(&[("login", "mallory"), ("role", "admin")])
        .send()
        .await
        .unwrap();
    assert!(location(&forged).contains("error="), "cross-site refused");
    let anonymous = app
        .client
        .post(app.url("/admin/users"))
        .form(&[("login", "mallory"), ("role", "admin")])
        .send()
        .await
        .unwrap();
    assert!(location(&anonymous).starts_with("/login?next="));
    assert!(!page(&root, "/admin/users").await.contains("mallory"));

    let created = post(
        &root,
        "/admin/tokens",
        &[("name", "ci"), ("scope", "requester")],
    )
    .await
    .unwrap();
    assert_eq!(created.status(), 200, "the page with the new token");
    assert_eq!(created.headers()["cache-control"], "no-store");
    let html = created.text().await.unwrap();
    let token = html
        .split("data-testid=\"new-token\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("the token is shown: {html}"))
        .to_owned();
    assert!(token.starts_with("tfp_"), "{token}");
    let id = token.split('_').nth(1).unwrap();
    let html = page(&root, "/admin/tokens").await;
    assert!(html.contains(&format!("data-token=\"{id}\"")));
    assert!(!html.contains(&token), "the secret is shown only once");
    let me = app
        .client
        .get(app.url("/api/v1/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let revoked = post(&root, &format!("/admin/tokens/{id}/revoke"), &[])
        .await
        .unwrap();
    let html = page(&root, &location(&revoked)).await;
    assert!(
        html.contains("Revoked") && html.contains("class=\"revoked\""),
        "{html}"
    );
    let me = app
        .client
        .get(app.url("/api/v1/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401, "revoked from the page");
}
