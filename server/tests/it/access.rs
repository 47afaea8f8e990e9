//! Machine tokens (scoped, listed, revoked at once, over the API and the
//! CLI), the audit log (every change and every refusal, JSON and NDJSON),
//! and a full session whose logs never show a secret.

use crate::support::{TestApp, root};
use app::domain::policy::Role;
use serde_json::{Value, json};
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};
use std::time::Duration;

async fn create_request(app: &TestApp, token: &str, name: &str) -> String {
    app.file(token, "dev", "sqs-queue", json!({"name": name}))
        .await
}

#[tokio::test]
async fn tokens_are_scoped_listed_and_revoked_at_once() {
    let app = TestApp::spawn().await;
    let root_token = app.token("root", Role::Admin).await;
    let alice = app.token("alice", Role::Requester).await;

    let created = app
        .post_as(
            &root_token,
            "/api/v1/tokens",
            &json!({"name": "ci", "scope": "requester"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let ci = created["token"].as_str().unwrap().to_owned();
    let ci_id = created["record"]["id"].as_str().unwrap().to_owned();
    assert!(ci.starts_with("tfp_") && ci.contains(&ci_id));

    // The scope caps what an admin's token may do.
    let id = create_request(&app, &alice, "scoped-queue").await;
    let me: Value = app
        .get_as(&ci, "/api/v1/session")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "requester");
    let refused = app
        .post_as(&ci, &format!("/api/v1/requests/{id}/approve"), &json!({}))
        .await;
    assert_eq!(refused.status(), 403);

    // Listing: everyone's for an admin, one's own otherwise; never a secret.
    let all: Value = app
        .get_as(&root_token, "/api/v1/tokens")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["tokens"].as_array().unwrap().len(), 3);
    assert!(!all.to_string().contains(ci.rsplit('_').next().unwrap()));
    let own: Value = app
        .get_as(&alice, "/api/v1/tokens")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        own["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["user"] == "alice")
    );

    // Others' tokens and scopes above one's role are refused.
    let delete = |token: &str, id: &str| {
        app.client
            .delete(app.url(&format!("/api/v1/tokens/{id}")))
            .bearer_auth(token)
            .send()
    };
    let not_hers = delete(&alice, &ci_id).await.unwrap();
    assert_eq!(not_hers.status(), 403);
    assert_eq!(
        not_hers.json::<Value>().await.unwrap()["error"]["rule"],
        "tokens.owner"
    );
    let above = app
        .post_as(
            &alice,
            "/api/v1/tokens",
            &json!({"name": "x", "scope": "admin"}),
        )
        .await;
    assert_eq!(above.status(), 403);
    let for_root = app
        .post_as(
            &alice,
            "/api/v1/tokens",
            &json!({"name": "x", "user": "root"}),
        )
        .await;
    assert_eq!(for_root.status(), 403);

    // Revoked: refused on the very next call.
    assert_eq!(delete(&root_token, &ci_id).await.unwrap().status(), 200);
    assert_eq!(app.get_as(&ci, "/api/v1/session").await.status(), 401);
    assert_eq!(
        delete(&root_token, "zzzzzzzzzzzz").await.unwrap().status(),
        404
    );

    // The CLI sees and revokes the same tokens.
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tfpilot"))
            .args(args)
            .env("TFPILOT_DATA_DIR", app.data.path())
            .env("TFPILOT_LOG", "error")
            .output()
            .unwrap()
    };
    let listed = cli(&["tokens", "list"]);
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains(&ci_id) && listed.contains("revoked"),
        "{listed}"
    );
    let alice_id = own["tokens"][0]["id"].as_str().unwrap();
    assert!(cli(&["tokens", "revoke", alice_id]).status.success());
    assert_eq!(app.get_as(&alice, "/api/v1/session").await.status(), 401);
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_a_clear_error() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    let huge = "x".repeat(300 * 1024);
    let res = app
        .post_as(
            &alice,
            "/api/v1/requests",
            &json!({"project": "sandbox", "environment": "dev", "module": "sqs-queue", "config": {"name": huge}}),
        )
        .await;
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_large");
    assert!(body["error"]["message"].as_str().unwrap().contains("KiB"));
}

#[tokio::test]
async fn the_audit_log_records_changes_and_refusals() {
    let app = TestApp::spawn().await;
    let root_token = app.token("root", Role::Admin).await;
    let alice = app.token("alice", Role::Requester).await;
    let id = create_request(&app, &alice, "audited-queue").await;
    let refused = app
        .post_as(
            &alice,
            &format!("/api/v1/requests/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(refused.status(), 403);
    app.post_as(&root_token, "/api/v1/tokens", &json!({"name": "audit"}))
        .await;

    let records: Value = app
        .get_as(&alice, &format!("/api/v1/audit?request={id}"))
        .await
        .json()
        .await
        .unwrap();
    let records = records["records"].as_array().unwrap().clone();
    assert_eq!(records[0]["action"], "request.create", "{records:#?}");
    assert_eq!(records[0]["actor"], "alice");
    let denied = records
        .iter()
        .find(|r| r["action"] == "auth.denied")
        .expect("the refusal is audited");
    assert!(denied["detail"].as_str().unwrap().contains("role.approver"));

    let ndjson = app
        .client
        .get(app.url(&format!("/api/v1/audit?request={id}")))
        .bearer_auth(&alice)
        .header("accept", "application/x-ndjson")
        .send()
        .await
        .unwrap();
    assert_eq!(ndjson.headers()["content-type"], "application/x-ndjson");
    let lines: Vec<Value> = ndjson
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), records.len());

    // A page at a time, in JSON and in JSON lines, the cursor carried over.
    let first: Value = app
        .get_as(&alice, &format!("/api/v1/audit?request={id}&limit=1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["records"].as_array().unwrap().len(), 1);
    assert_eq!(first["records"][0], records[0]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("more pages")
        .to_owned();
    let second = app
        .client
        .get(app.url(&format!(
            "/api/v1/audit?request={id}&limit=1&cursor={cursor}"
        )))
        .bearer_auth(&alice)
        .header("accept", "application/x-ndjson")
        .send()
        .await
        .unwrap();
    assert!(second.headers().contains_key("x-next-cursor") || records.len() == 2);
    let line: Value = serde_json::from_str(second.text().await.unwrap().trim()).unwrap();
    assert_eq!(line, records[1]);
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
        ("cursor=..%2Fx", "cursor"),
    ] {
        let bad = app
            .get_as(&alice, &format!("/api/v1/audit?request={id}&{query}"))
            .await;
        assert_eq!(bad.status(), 400, "{query}");
        assert_eq!(bad.json::<Value>().await.unwrap()["error"]["field"], field);
    }

    let system = app.get_as(&alice, "/api/v1/audit").await;
    assert_eq!(system.status(), 403);
    assert_eq!(
        system.json::<Value>().await.unwrap()["error"]["rule"],
        "audit.admin"
    );
    let system: Value = app
        .get_as(&root_token, "/api/v1/audit")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        system["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "token.create")
    );
    assert_eq!(
        app.get_as(&alice, "/api/v1/audit?request=nope")
            .await
            .status(),
        400
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_session_never_logs_a_secret() {
    full_session_logs("text").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_session_never_logs_a_secret_in_json() {
    full_session_logs("json").await;
}

/// A session from setup to logout with `TFPILOT_LOG_FORMAT=format`; no
/// secret is in its logs.
async fn full_session_logs(format: &str) {
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let log = data.path().join("tfpilot.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tfpilot"))
        .arg("serve")
        .env("TFPILOT_BIND", format!("127.0.0.1:{port}"))
        .env("TFPILOT_DATA_DIR", data.path())
        .env("TFPILOT_REGISTRY", root().join("modules-registry.toml"))
        .env("TFPILOT_WORKFLOWS_DIR", root().join("infra-workflows"))
        .env("TFPILOT_SITE_ROOT", data.path().join("site"))
        .env("TFPILOT_LOG", "debug")
        .env("TFPILOT_LOG_FORMAT", format)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // The setup link is the one secret tfpilot prints, once, for the operator.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let link = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "no setup link: {printed}"
        );
        printed.push_str(&line);
        if let Some(at) = line.find("/setup?token=") {
            break line[at..].trim().to_owned();
        }
    };
    let setup_token = link.split("token=").nth(1).unwrap().to_owned();
    let drain = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stdout.read_to_string(&mut rest);
        rest
    });

    crate::support::wait_healthy(&base).await;
    let http = reqwest::Client::new();
    let password = "a very secret passphrase 42";
    let res = http
        .post(format!("{base}/auth/setup"))
        .json(&json!({"token": setup_token, "login": "root", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = res.json::<Value>().await.unwrap()["csrf"]
        .as_str()
        .unwrap()
        .to_owned();
    let created: Value = http
        .post(format!("{base}/api/v1/tokens"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "ci"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let res = http
        .post(format!("{base}/api/v1/requests"))
        .bearer_auth(&token)
        .json(&json!({"project": "sandbox", "environment": "dev", "module": "sqs-queue", "config": {"name": "quiet-queue"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let wrong = http
        .post(format!("{base}/auth/login"))
        .json(&json!({"login": "root", "password": "wrong password guess"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = http
        .post(format!("{base}/auth/login"))
        .json(&json!({"login": "root", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    let device = right
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("tfpilot_device="))
        .and_then(|v| v.split(';').next())
        .expect("a device cookie")
        .to_owned();
    http.post(format!("{base}/auth/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    // A graceful stop (SIGTERM) writes every log line before the process ends.
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    crate::support::wait_until(Duration::from_secs(30), "tfpilot to stop", || {
        let exited = child.try_wait().unwrap();
        async move { exited.map(|_| ()).ok_or_else(|| "still running".to_owned()) }
    })
    .await;
    let logs =
        crate::support::readable_logs(&std::fs::read_to_string(&log).unwrap(), format == "json")
            + &drain.join().unwrap();
    assert!(
        logs.contains("auth") || logs.contains("request"),
        "debug logs were written"
    );
    let session_id = cookie.trim_start_matches("tfpilot_session=");
    let token_secret = token.rsplit('_').next().unwrap();
    for (what, secret) in [
        ("password", password),
        ("wrong password", "wrong password guess"),
        ("API token", token.as_str()),
        ("API token secret", token_secret),
        ("session id", session_id),
        ("CSRF token", csrf.as_str()),
        ("device cookie", device.as_str()),
        ("spent setup token", setup_token.as_str()),
    ] {
        assert!(!logs.contains(secret), "the {what} is in the logs");
    }
}

#[tokio::test]
async fn admins_manage_users_and_a_disabled_user_stops_at_once() {
    let app = TestApp::spawn().await;
    let root_token = app.token("root", Role::Admin).await;
    let alice = app.token("alice", Role::Requester).await;
    let password = "bob's long passphrase";
    let created = app
        .post_as(
            &root_token,
            "/api/v1/users",
            &json!({"login": "bob", "role": "requester", "password": password}),
        )
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.json::<Value>().await.unwrap()["password"], true);
    let taken = app
        .post_as(
            &root_token,
            "/api/v1/users",
            &json!({"login": "bob", "role": "viewer"}),
        )
        .await;
    assert_eq!(taken.status(), 409);
    let refused = app.get_as(&alice, "/api/v1/users").await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"]["rule"],
        "users.admin"
    );
    let listed: Value = app
        .get_as(&root_token, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        !listed.to_string().contains("argon2"),
        "no hashes: {listed}"
    );

    let signed_in = app
        .client
        .post(app.url("/auth/login"))
        .json(&json!({"login": "bob", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tfpilot_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let whoami = || {
        app.client
            .get(app.url("/api/v1/session"))
            .header("cookie", &cookie)
            .send()
    };
    let patch = |login: &str, token: &str, body: Value| {
        app.client
            .patch(app.url(&format!("/api/v1/users/{login}")))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    assert_eq!(
        patch("bob", &root_token, json!({"role": "approver"}))
            .await
            .unwrap()
            .status(),
        200
    );
    let me: Value = whoami().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"], "approver", "a role change counts at once");
    assert_eq!(
        patch("bob", &root_token, json!({"disabled": true}))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        whoami().await.unwrap().status(),
        401,
        "disabled: the session stops"
    );

    let by_token = patch(
        "alice",
        &alice,
        json!({"password": "alice's new passphrase"}),
    )
    .await
    .unwrap();
    assert_eq!(by_token.status(), 403, "passwords change in a session only");
    assert_eq!(
        by_token.json::<Value>().await.unwrap()["error"]["rule"],
        "password.session"
    );
    assert_eq!(
        patch("alice", &alice, json!({"role": "admin"}))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        patch("root", &root_token, json!({"disabled": true}))
            .await
            .unwrap()
            .status(),
        409,
        "no locking oneself out"
    );
    let admin_session = app.signed_in("root2", Role::Admin).await;
    let weak = app
        .client
        .patch(app.url("/api/v1/users/alice"))
        .header("cookie", &admin_session)
        .header("origin", app.url(""))
        .json(&json!({"password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), 400);
    assert_eq!(
        weak.json::<Value>().await.unwrap()["error"]["field"],
        "password"
    );

    let system: Value = app
        .get_as(&root_token, "/api/v1/audit")
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = system["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["action"].as_str())
        .collect();
    for want in ["user.create", "user.update", "auth.login", "token.used"] {
        assert!(actions.contains(&want), "{want} in {actions:?}");
    }

    let cross = app
        .client
        .post(app.url("/sfn/anything"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403, "server functions are same-origin only");
}
