//! The guardrails of the security review, each at the HTTP level:
//! four-eyes over every revision, token scopes that hold, password changes
//! that end other sessions, sign-in limits that reserve before argon2, one
//! body limit on every route, and `next` redirects that stay local.

use crate::support::{TestApp, WAIT};
use app::domain::policy::Role;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use server::store::ObjectStore as _;
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery";

async fn rule(res: reqwest::Response) -> String {
    res.json::<Value>().await.unwrap()["error"]["rule"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn an_approver_who_changed_a_prod_request_cannot_approve_it() {
    let app = TestApp::spawn_with(
        tempfile::tempdir().unwrap(),
        &[("TFPILOT_PROD_ALLOWED_USERS", "anna,ben")],
    )
    .await;
    let bob = app.token("bob", Role::Requester).await;
    let anna = app.token("anna", Role::Approver).await;
    let ben = app.token("ben", Role::Approver).await;
    let id = app
        .file(&bob, "prod", "sqs-queue", json!({"name": "four-eyes"}))
        .await;
    app.wait_for_status(&anna, &id, "plan_ready", WAIT).await;

    // Anna rewrites Bob's request, then tries to approve her own config.
    let patched = app
        .client
        .patch(app.url(&format!("/api/v1/requests/{id}")))
        .bearer_auth(&anna)
        .json(&json!({"config": {"name": "four-eyes", "visibility_timeout_seconds": 90}}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200, "{}", patched.text().await.unwrap());
    app.wait_for_status(&anna, &id, "plan_ready", WAIT).await;
    let refused = app
        .post_as(&anna, &format!("/api/v1/requests/{id}/approve"), &json!({}))
        .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(rule(refused).await, "prod.four_eyes");

    // Ben, who wrote no revision, may.
    let approved = app
        .post_as(&ben, &format!("/api/v1/requests/{id}/approve"), &json!({}))
        .await;
    assert_eq!(approved.status(), 202, "{}", approved.text().await.unwrap());
    app.wait_for_status(&ben, &id, "approved", WAIT).await;

    // A new revision (by the requester) voids Ben's approval.
    let revised = app
        .client
        .patch(app.url(&format!("/api/v1/requests/{id}")))
        .bearer_auth(&bob)
        .json(&json!({"config": {"name": "four-eyes", "visibility_timeout_seconds": 120}}))
        .send()
        .await
        .unwrap();
    assert_eq!(revised.status(), 200);
    let view = app.wait_for_status(&ben, &id, "plan_ready", WAIT).await;
    assert!(view["request"]["approval"].is_null(), "{view:#}");
}

#[tokio::test]
async fn a_token_made_by_a_scoped_token_is_still_scoped() {
    let app = TestApp::spawn().await;
    let root = app.token("root", Role::Admin).await;
    let scoped: Value = app
        .post_as(
            &root,
            "/api/v1/tokens",
            &json!({"name": "ro", "scope": "viewer"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let viewer = scoped["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get_as(&viewer, "/api/v1/users").await.status(), 403);

    // Omitting the scope inherits it.
    let child = app
        .post_as(&viewer, "/api/v1/tokens", &json!({"name": "x"}))
        .await;
    assert_eq!(child.status(), 201);
    let child: Value = child.json().await.unwrap();
    assert_eq!(child["record"]["scope"], "viewer");
    let child = child["token"].as_str().unwrap();
    let users = app.get_as(child, "/api/v1/users").await;
    assert_eq!(users.status(), 403);
    assert_eq!(rule(users).await, "users.admin");

    // Asking for more than the caller's scope is refused.
    let above = app
        .post_as(
            &viewer,
            "/api/v1/tokens",
            &json!({"name": "y", "scope": "admin"}),
        )
        .await;
    assert_eq!(above.status(), 403);
    assert_eq!(rule(above).await, "tokens.scope");

    // No token changes a password: the sign-in would give the full role.
    let patch = |token: &str, login: &str| {
        app.client
            .patch(app.url(&format!("/api/v1/users/{login}")))
            .bearer_auth(token)
            .json(&json!({"password": "a brand new password"}))
            .send()
    };
    let own = patch(&viewer, "root").await.unwrap();
    assert_eq!(own.status(), 403);
    assert_eq!(rule(own).await, "password.session");
    let full = patch(&root, "root").await.unwrap();
    assert_eq!(full.status(), 403, "not even an unscoped admin token");
    assert_eq!(rule(full).await, "password.session");
}

fn session_of(res: &reqwest::Response) -> String {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tfpilot_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("a session cookie")
}

async fn sign_in(app: &TestApp, login: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/auth/login"))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    server::auth::Users::new(app.requests_store())
        .add("alice", Role::Requester, Some(PASSWORD))
        .await
        .unwrap();
    let laptop = session_of(&sign_in(&app, "alice", PASSWORD).await);
    let phone = session_of(&sign_in(&app, "alice", PASSWORD).await);
    let whoami = |cookie: &str| {
        app.client
            .get(app.url("/api/v1/session"))
            .header(COOKIE, cookie)
            .send()
    };
    assert_eq!(whoami(&phone).await.unwrap().status(), 200);

    let changed = app
        .client
        .patch(app.url("/api/v1/users/alice"))
        .header(COOKIE, &laptop)
        .header("origin", format!("http://{}", app.addr))
        .json(&json!({"password": "a brand new password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200, "{}", changed.text().await.unwrap());
    assert_eq!(
        whoami(&laptop).await.unwrap().status(),
        200,
        "the session that changed it stays"
    );
    let ended = whoami(&phone).await.unwrap();
    assert_eq!(ended.status(), 401);
    let message = ended.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("sign in again"), "{message}");
    assert_eq!(
        sign_in(&app, "alice", "a brand new password")
            .await
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_reserve_their_slot_before_argon2() {
    let app = TestApp::spawn().await;
    server::auth::Users::new(app.requests_store())
        .add("alice", Role::Requester, Some(PASSWORD))
        .await
        .unwrap();
    let tries = (0..50).map(|n| {
        let client = app.client.clone();
        let url = app.url("/auth/login");
        async move {
            client
                .post(url)
                .json(&json!({"login": "alice", "password": format!("guess {n}")}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(tries).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked + limited, 50, "{statuses:?}");
    assert!(
        checked <= 5,
        "{checked} passwords were checked: {statuses:?}"
    );
    let audit = server::store::journal::AuditLog::new(app.requests_store())
        .read(None)
        .await
        .unwrap();
    let failed = audit
        .iter()
        .filter(|r| r.action == "auth.login_failed")
        .count();
    assert_eq!(failed, checked);

    // The answer says when to come back.
    let res = sign_in(&app, "alice", PASSWORD).await;
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let message = res.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains(&format!("{wait} seconds")), "{message}");
}

/// Bytes under the data dir, outside the site assets.
fn data_size(app: &TestApp) -> u64 {
    fn walk(p: &std::path::Path) -> u64 {
        std::fs::read_dir(p)
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        let m = e.metadata().unwrap();
                        if m.is_dir() { walk(&e.path()) } else { m.len() }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&app.data.path().join("store"))
}

#[tokio::test]
async fn every_route_refuses_an_oversized_body_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let origin = format!("http://{}", app.addr);
    let before = data_size(&app);
    let two_mb = "a".repeat(2 * 1024 * 1024);

    // A 2 MB login as JSON and as a form.
    let json_login = app
        .client
        .post(app.url("/auth/login"))
        .json(&json!({"login": two_mb, "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_login.status(), 413);
    assert_eq!(
        json_login.json::<Value>().await.unwrap()["error"]["code"],
        "too_large"
    );
    for path in [
        "/auth/login",
        "/auth/setup",
        "/requests/x/act",
        "/admin/users",
        "/sfn/file",
        "/api/v1/webhooks/github",
    ] {
        let res = app
            .client
            .post(app.url(path))
            .header("origin", &origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("login={two_mb}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 413, "{path}");
    }
    // Without a declared length the body is cut at the limit while read.
    let stream = futures::stream::iter((0..64).map(|_| {
        Ok::<_, std::io::Error>(hyper::body::Frame::data(bytes::Bytes::from(vec![
            b'a';
            32 * 1024
        ])))
    }));
    let chunked = app
        .client
        .post(app.url("/auth/login"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(reqwest::Body::wrap(http_body_util::StreamBody::new(stream)))
        .send()
        .await
        .unwrap();
    assert_eq!(chunked.status(), 413);

    // A login that is merely invalid is a 400 naming the field.
    let long = app
        .client
        .post(app.url("/auth/login"))
        .json(&json!({"login": "b".repeat(65), "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(long.status(), 400);
    assert_eq!(
        long.json::<Value>().await.unwrap()["error"]["field"],
        "login"
    );
    assert!(
        data_size(&app) < before + 4096,
        "nothing of the bodies was stored ({before} → {})",
        data_size(&app)
    );
    let audit = server::store::journal::AuditLog::new(app.requests_store())
        .read(None)
        .await
        .unwrap();
    assert!(audit.iter().all(|r| r.actor.len() <= 64));
}

#[tokio::test]
async fn next_after_sign_in_is_a_local_path_or_the_root() {
    let app = TestApp::spawn().await;
    server::auth::Users::new(app.requests_store())
        .add("alice", Role::Requester, Some(PASSWORD))
        .await
        .unwrap();
    let origin = format!("http://{}", app.addr);
    let form = |next: &str| {
        app.client
            .post(app.url("/auth/login"))
            .header("origin", &origin)
            .form(&[("login", "alice"), ("password", PASSWORD), ("next", next)])
            .send()
    };
    for (next, want) in [
        ("/requests/abc?tab=plan", "/requests/abc?tab=plan"),
        ("/\t/evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/%0d%0aSet-Cookie:x", "/"),
    ] {
        let res = form(next).await.unwrap();
        assert_eq!(res.status(), 303, "{next:?}");
        assert_eq!(res.headers()[LOCATION], want, "{next:?}");
    }
    let lf = form("/\nx").await.unwrap();
    assert!(lf.status().as_u16() < 500, "{}", lf.status());
    assert_eq!(lf.headers()[LOCATION], "/");
    // Nothing here needed the store to hold a huge key.
    assert!(app.requests_store().get("users/alice.json").await.is_ok());
}

/// `POST /sfn/<name>` as the page's JavaScript sends it.
async fn server_fn(app: &TestApp, cookie: &str, name: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/sfn/{name}")))
        .header(COOKIE, cookie)
        .header("origin", app.url(""))
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn issued(app: &TestApp, cookie: &str) -> (String, String) {
    let res = app
        .client
        .post(app.url("/sfn/new_options"))
        .header(COOKIE, cookie)
        .header("origin", app.url(""))
        .form(&[("module", "sqs-queue")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let options: Value = res.json().await.unwrap();
    (
        options["id"].as_str().unwrap().to_owned(),
        options["ticket"].as_str().unwrap().to_owned(),
    )
}

fn draft(id: &str, ticket: &str) -> Value {
    json!({
        "draft": {"id": id, "ticket": ticket, "project": "sandbox", "environment": "dev",
                  "module": "sqs-queue", "config": {"name": "issued-queue"}},
        "transcript": [],
    })
}

/// The ticket the server would issue, computed from its stored key (as an
/// operator with bucket access could), to reach the clock rule.
async fn ticket_for(app: &TestApp, id: &str, login: &str) -> String {
    use hmac::Mac as _;
    let stored = app
        .requests_store()
        .get("keys/request-ids.json")
        .await
        .unwrap();
    let hex = serde_json::from_slice::<Value>(&stored.bytes).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let key: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(id.as_bytes());
    mac.update(b"\n");
    mac.update(login.as_bytes());
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn requests_are_filed_only_under_fresh_unused_ids_the_server_issued() {
    use app::domain::ids::RequestId;
    let app = TestApp::spawn().await;
    let alice = app.signed_in("alice", Role::Requester).await;
    let bob = app.signed_in("bob", Role::Requester).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let refused = |res: reqwest::Response| async move {
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        assert_eq!(status, 400, "{text}");
        text
    };

    // An id of the client's choosing.
    let chosen = RequestId::generate(now, 7).to_string();
    let text = refused(server_fn(&app, &alice, "file", draft(&chosen, "")).await).await;
    assert!(text.contains("not issued"), "{text}");

    // An id issued to somebody else.
    let (id, ticket) = issued(&app, &alice).await;
    let text = refused(server_fn(&app, &bob, "file", draft(&id, &ticket)).await).await;
    assert!(text.contains("not issued"), "{text}");

    // Far from the server clock, even with a genuine ticket.
    let future = RequestId::generate(now + 400 * 24 * 3_600_000, 9).to_string();
    let ticket_f = ticket_for(&app, &future, "alice").await;
    let text = refused(server_fn(&app, &alice, "file", draft(&future, &ticket_f)).await).await;
    assert!(text.contains("future"), "{text}");
    let old = RequestId::generate(now - 2 * 24 * 3_600_000, 9).to_string();
    let ticket_o = ticket_for(&app, &old, "alice").await;
    let text = refused(server_fn(&app, &alice, "file", draft(&old, &ticket_o)).await).await;
    assert!(text.contains("hours ago"), "{text}");

    // The issued one files once.
    let filed = server_fn(&app, &alice, "file", draft(&id, &ticket)).await;
    assert_eq!(filed.status(), 200, "{}", filed.text().await.unwrap());
    let text = refused(server_fn(&app, &alice, "file", draft(&id, &ticket)).await).await;
    assert!(text.contains("already used"), "{text}");

    // An archived (destroyed) request's id is never filed again.
    let (id2, ticket2) = issued(&app, &alice).await;
    let repo = server::store::repo::RequestRepo::new(app.requests_store());
    let mut doc = repo.get(&RequestId::parse(&id).unwrap()).await.unwrap().doc;
    doc.id = RequestId::parse(&id2).unwrap();
    app.requests_store()
        .put(
            &format!("history/{id2}.json"),
            bytes::Bytes::from(serde_json::to_vec(&doc).unwrap()),
            server::store::Precondition::IfAbsent,
        )
        .await
        .unwrap();
    let text = refused(server_fn(&app, &alice, "file", draft(&id2, &ticket2)).await).await;
    assert!(text.contains("already used"), "{text}");
    assert!(
        repo.get(&RequestId::parse(&id2).unwrap()).await.is_err(),
        "nothing live under the archived id"
    );
}

#[tokio::test]
async fn repeated_refusals_are_one_timeline_row_with_a_count() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    let mallory = app.token("mallory", Role::Requester).await;
    let id = app
        .file(&alice, "dev", "sqs-queue", json!({"name": "folded"}))
        .await;
    for _ in 0..5 {
        let res = app
            .post_as(
                &mallory,
                &format!("/api/v1/requests/{id}/approve"),
                &json!({}),
            )
            .await;
        assert_eq!(res.status(), 403);
    }
    let viewer = app.signed_in("vera", Role::Viewer).await;
    let (status, html) = app.page_as(&viewer, &format!("/requests/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        html.matches("data-action=\"auth.denied\"").count(),
        1,
        "one row for the five refusals"
    );
    assert!(html.contains("data-count=\"5\""), "the row counts them");
    assert!(html.contains("×5"));
}

/// A `terraform` that waits for `gate` to exist before running the real
/// one, and logs when each invocation starts and ends in which checkout.
fn gated_terraform(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt as _;
    let gate = dir.join("gate");
    let log = dir.join("calls.log");
    let script = dir.join("terraform");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nwhile [ ! -e '{gate}' ]; do sleep 0.05; done\n\
             echo \"start $(date +%s%N) $(pwd)\" >> '{log}'\n\
             terraform \"$@\"; rc=$?\n\
             echo \"end $(date +%s%N) $(pwd)\" >> '{log}'\nexit $rc\n",
            gate = gate.display(),
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, gate, log)
}

/// The most checkouts that had terraform running at one moment, from the
/// wrapper's log (a run's span is its first start to its last end).
fn most_at_once(log: &str) -> usize {
    let mut spans: std::collections::HashMap<String, (u128, u128)> = Default::default();
    for line in log.lines() {
        let mut parts = line.splitn(3, ' ');
        let (Some(kind), Some(at), Some(dir)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let at: u128 = at.parse().unwrap();
        // The checkout is `…/checkout-<n>/envs/<env>`: one per run.
        let run = dir.split("/envs/").next().unwrap().to_owned();
        let span = spans.entry(run).or_insert((u128::MAX, 0));
        if kind == "start" {
            span.0 = span.0.min(at);
        } else {
            span.1 = span.1.max(at);
        }
    }
    let spans: Vec<_> = spans.into_values().collect();
    spans
        .iter()
        .map(|(from, _)| spans.iter().filter(|(a, b)| a <= from && from < b).count())
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn runs_beyond_the_cap_wait_and_say_how_many_are_ahead() {
    let tools = tempfile::tempdir().unwrap();
    let (terraform, gate, log) = gated_terraform(tools.path());
    let app = TestApp::spawn_with(
        tempfile::tempdir().unwrap(),
        &[
            ("TFPILOT_MAX_RUNS", "1"),
            ("TFPILOT_TERRAFORM", terraform.to_str().unwrap()),
        ],
    )
    .await;
    let alice = app.token("alice", Role::Requester).await;
    let viewer = app.signed_in("vera", Role::Viewer).await;
    let filing = (0..4).map(|n| {
        app.file(
            &alice,
            "dev",
            "sqs-queue",
            json!({"name": format!("capped-{n}")}),
        )
    });
    let ids = futures::future::join_all(filing).await;
    // Nothing runs past the gate: one run holds the only slot, the other
    // three wait, and their pages say how many are ahead of each.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = std::collections::BTreeSet::new();
    while seen != std::collections::BTreeSet::from([0, 1, 2]) {
        assert!(
            Instant::now() < deadline,
            "the waiting runs were not all shown: saw {seen:?}"
        );
        for id in &ids {
            let (_, html) = app.page_as(&viewer, &format!("/requests/{id}")).await;
            if let Some(rest) = html.split("queued (").nth(1) {
                let n: usize = rest
                    .split(" ahead)")
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap_or_else(|_| panic!("a count in {rest:.40}"));
                seen.insert(n);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::write(&gate, "").unwrap();
    // All of them get their turn, one at a time.
    for id in &ids {
        app.wait_for_status(&alice, id, "plan_ready", WAIT).await;
    }
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(most_at_once(&calls), 1, "one run at a time:\n{calls}");
}

/// Reads an event stream until it ends; how long that took.
async fn until_closed(mut res: reqwest::Response, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    tokio::time::timeout(within, async move {
        while let Ok(Some(_)) = res.chunk().await {}
    })
    .await
    .ok()
    .map(|()| started.elapsed())
}

#[tokio::test]
async fn event_streams_end_soon_after_a_revoke_or_a_disable() {
    let app = TestApp::spawn().await;
    let root = app.token("root", Role::Admin).await;
    let created: Value = app
        .post_as(
            &root,
            "/api/v1/tokens",
            &json!({"name": "dash", "user": "root"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let token_id = created["record"]["id"].as_str().unwrap().to_owned();
    let stream = app.get_as(&token, "/api/v1/events").await;
    assert_eq!(stream.status(), 200);
    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/tokens/{token_id}")))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let took = until_closed(stream, Duration::from_secs(10))
        .await
        .expect("the stream of a revoked token ends");
    assert!(took < Duration::from_secs(6), "{took:?}");

    // A signed-in user's stream ends when an admin disables them.
    let cookie = app.signed_in("dora", Role::Viewer).await;
    let stream = app
        .client
        .get(app.url("/api/v1/events"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let disabled = app
        .client
        .patch(app.url("/api/v1/users/dora"))
        .bearer_auth(&root)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 200);
    let took = until_closed(stream, Duration::from_secs(10))
        .await
        .expect("the stream of a disabled user ends");
    assert!(took < Duration::from_secs(6), "{took:?}");
}

/// Every `checkout-*` directory left under the runner's run dirs.
fn checkouts_left(app: &TestApp) -> Vec<std::path::PathBuf> {
    let runs = app.data.path().join("exec/runs");
    let mut left = Vec::new();
    for run in std::fs::read_dir(&runs).into_iter().flatten().flatten() {
        for entry in std::fs::read_dir(run.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry.file_name().to_string_lossy().starts_with("checkout-") {
                left.push(entry.path());
            }
        }
    }
    left
}

#[tokio::test]
async fn failed_and_successful_runs_leave_no_checkout_behind() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    // Valid for the registry, refused by the module: its plan fails.
    let failing = app
        .file(
            &alice,
            "dev",
            "sns-topic",
            json!({"name": "alerts", "fifo": true, "email_subscriptions": ["ops@example.com"]}),
        )
        .await;
    let fine = app
        .file(&alice, "dev", "sqs-queue", json!({"name": "no-leak"}))
        .await;
    app.wait_for_status(&alice, &fine, "plan_ready", WAIT).await;
    app.wait_for_status(&alice, &failing, "failed", WAIT).await;
    assert!(
        app.data.path().join("exec/runs").is_dir(),
        "the runner kept its run logs"
    );
    assert_eq!(checkouts_left(&app), Vec::<std::path::PathBuf>::new());
}
