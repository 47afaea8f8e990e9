//! Sign-in limits at the HTTP level: counters shared through the store,
//! failures that count and successes that never do, a wait that doubles
//! and says when it ends, the owner's browser (device cookie) let in while
//! others are held off, client addresses from trusted proxies only, and a
//! server that keeps answering while passwords are checked.

use crate::support::TestApp;
use app::domain::policy::Role;
use reqwest::header::{COOKIE, RETRY_AFTER, SET_COOKIE};
use serde_json::{Value, json};
use server::store::{ObjectStore as _, Precondition};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery";

/// A client whose connections come from `127.0.0.<last>`.
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(90))
        .build()
        .unwrap()
}

async fn add_alice(app: &TestApp) {
    server::auth::Users::new(app.requests_store())
        .add("alice", Role::Requester, Some(PASSWORD))
        .await
        .unwrap();
}

/// A JSON sign-in; `extra` headers (a cookie, `X-Forwarded-For`).
async fn attempt(
    app: &TestApp,
    client: &reqwest::Client,
    password: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = client
        .post(app.url("/auth/login"))
        .json(&json!({ "login": "alice", "password": password }));
    for (name, value) in extra {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

async fn status(app: &TestApp, client: &reqwest::Client, password: &str) -> u16 {
    attempt(app, client, password, &[]).await.status().as_u16()
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn message(res: reqwest::Response) -> String {
    res.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn device_cookie(res: &reqwest::Response) -> String {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tfpilot_device="))
        .map(|v| {
            assert!(v.contains("HttpOnly") && v.contains("SameSite=Lax"), "{v}");
            v.split(';').next().unwrap().to_owned()
        })
        .expect("a device cookie")
}

/// Moves every stored sign-in counter `secs` into the past, as if that
/// much time went by.
async fn time_passes(app: &TestApp, secs: u64) {
    let store = app.requests_store();
    for entry in server::store::list_all(store.as_ref(), "limits/")
        .await
        .unwrap()
    {
        let obj = store.get(&entry.key).await.unwrap();
        let mut slot: Value = serde_json::from_slice(&obj.bytes).unwrap();
        for field in ["touched", "blocked_until"] {
            let at = slot[field].as_u64().unwrap();
            slot[field] = json!(at.saturating_sub(secs * 1000));
        }
        store
            .put(
                &entry.key,
                serde_json::to_vec(&slot).unwrap().into(),
                Precondition::IfMatch(obj.etag),
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn two_servers_on_one_store_count_the_same_failures() {
    let one = TestApp::spawn().await;
    let dir = one.data.path().to_str().unwrap().to_owned();
    let two = TestApp::spawn_with(
        tempfile::tempdir().unwrap(),
        &[("TFPILOT_DATA_DIR", dir.as_str())],
    )
    .await;
    add_alice(&one).await;
    for app in [&one, &two, &one, &two, &one] {
        assert_eq!(status(app, &app.client, "wrong guess").await, 401);
    }
    // The fifth failure (on the first server) holds alice off on the second.
    let res = attempt(&two, &two.client, PASSWORD, &[]).await;
    assert_eq!(res.status(), 429);
    assert!(retry_after(&res) > 0);
    let res = attempt(&one, &one.client, PASSWORD, &[]).await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn successes_from_one_address_are_never_limited() {
    let app = TestApp::spawn().await;
    add_alice(&app).await;
    // More than the address's (20) and the login+address's (5) allowance.
    for n in 0..22 {
        assert_eq!(
            status(&app, &app.client, PASSWORD).await,
            200,
            "sign-in {n}"
        );
    }
    // Four failures, a success, four more: the success forgot the first four.
    for _ in 0..4 {
        assert_eq!(status(&app, &app.client, "wrong guess").await, 401);
    }
    assert_eq!(status(&app, &app.client, PASSWORD).await, 200);
    for _ in 0..4 {
        assert_eq!(status(&app, &app.client, "wrong guess").await, 401);
    }
    assert_eq!(status(&app, &app.client, PASSWORD).await, 200);
}

#[tokio::test]
async fn each_failure_past_the_limit_doubles_the_wait_and_says_when() {
    let app = TestApp::spawn().await;
    add_alice(&app).await;
    for _ in 0..5 {
        assert_eq!(status(&app, &app.client, "wrong guess").await, 401);
    }
    let mut waits = Vec::new();
    for round in 0..3 {
        let res = attempt(&app, &app.client, PASSWORD, &[]).await;
        assert_eq!(res.status(), 429, "round {round}");
        let wait = retry_after(&res);
        let text = message(res).await;
        assert!(
            text.contains(&format!("try again in {wait} seconds, after 20")) && text.ends_with('Z'),
            "{text}"
        );
        waits.push(wait.div_ceil(60));
        // The wait goes by; one more wrong guess is checked, and blocks longer.
        time_passes(&app, wait).await;
        assert_eq!(status(&app, &app.client, "wrong guess").await, 401);
    }
    assert_eq!(waits, [1, 2, 4]);

    // The sign-in page answers the same, with the form under the sentence.
    let res = app
        .client
        .post(app.url("/auth/login"))
        .form(&[
            ("login", "alice"),
            ("password", PASSWORD),
            ("next", "/requests"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let wait = retry_after(&res);
    assert_eq!(wait.div_ceil(60), 8);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("try again in {wait} seconds, after 20")),
        "{html}"
    );
    assert!(html.contains("action=\"/auth/login\""), "{html}");
    assert!(html.contains("value=\"/requests\""), "next is kept: {html}");
}

#[tokio::test]
async fn the_owner_s_browser_gets_in_while_guesses_from_elsewhere_are_held_off() {
    let app = TestApp::spawn().await;
    add_alice(&app).await;
    let owner = client_from(1);
    let signed_in = attempt(&app, &owner, PASSWORD, &[]).await;
    assert_eq!(signed_in.status(), 200);
    let device = device_cookie(&signed_in);

    // Guesses from five addresses, five each: the login's allowance (25).
    let guesses = (2..=6).map(|last| {
        let app = &app;
        async move {
            let from = client_from(last);
            for _ in 0..5 {
                assert_eq!(status(app, &from, "wrong guess").await, 401);
            }
        }
    });
    futures::future::join_all(guesses).await;
    assert_eq!(status(&app, &client_from(7), "wrong guess").await, 429);
    // Without its cookie the owner is held off too, from anywhere…
    assert_eq!(status(&app, &owner, PASSWORD).await, 429);
    // …and a cookie that is not the one issued does not help.
    let flipped = if device.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{flipped}", &device[..device.len() - 1]);
    let res = attempt(&app, &owner, PASSWORD, &[("cookie", &forged)]).await;
    assert_eq!(res.status(), 429);
    // With it, the owner signs in, even from a new address.
    let res = attempt(&app, &client_from(8), PASSWORD, &[("cookie", &device)]).await;
    assert_eq!(res.status(), 200);
    let renewed = device_cookie(&res);
    // The cookie is alice's only.
    let bob = app
        .client
        .post(app.url("/auth/login"))
        .header(COOKIE, &renewed)
        .json(&json!({"login": "bob", "password": "wrong guess"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bob.status(), 401);
    // A browser's own failures still count against it.
    for _ in 0..5 {
        let res = attempt(&app, &owner, "wrong guess", &[("cookie", &renewed)]).await;
        assert_eq!(res.status(), 401);
    }
    let res = attempt(&app, &owner, PASSWORD, &[("cookie", &renewed)]).await;
    assert_eq!(res.status(), 429);
    assert!(message(res).await.contains("in this browser"));
}

#[tokio::test]
async fn forwarded_for_counts_only_from_a_trusted_proxy() {
    let behind = TestApp::spawn_with(
        tempfile::tempdir().unwrap(),
        &[("TFPILOT_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")],
    )
    .await;
    add_alice(&behind).await;
    let xff = |v: &'static str| [("x-forwarded-for", v)];
    for _ in 0..5 {
        let res = attempt(&behind, &behind.client, "wrong", &xff("203.0.113.7")).await;
        assert_eq!(res.status(), 401);
    }
    let res = attempt(&behind, &behind.client, PASSWORD, &xff("203.0.113.7")).await;
    assert_eq!(res.status(), 429, "203.0.113.7 is held off");
    // What the client wrote left of the proxy's entry is not believed.
    let res = attempt(
        &behind,
        &behind.client,
        PASSWORD,
        &xff("198.51.100.1, 203.0.113.7"),
    )
    .await;
    assert_eq!(res.status(), 429);
    // Another client behind the same proxy is not.
    let res = attempt(
        &behind,
        &behind.client,
        PASSWORD,
        &xff("203.0.113.8, 10.1.2.3"),
    )
    .await;
    assert_eq!(res.status(), 200);
    let audit = server::store::journal::AuditLog::new(behind.requests_store())
        .read(None)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|r| r.action == "auth.login_failed" && r.detail == "from 203.0.113.7"),
        "the audit names the client, not the proxy"
    );

    // Without trusted proxies the header changes nothing.
    let direct = TestApp::spawn().await;
    add_alice(&direct).await;
    for n in 0..5u8 {
        let spoofed = format!("203.0.113.{n}");
        let res = attempt(
            &direct,
            &direct.client,
            "wrong",
            &[("x-forwarded-for", &spoofed)],
        )
        .await;
        assert_eq!(res.status(), 401);
    }
    let res = attempt(&direct, &direct.client, PASSWORD, &xff("203.0.113.99")).await;
    assert_eq!(res.status(), 429, "one peer, one address");

    let bad = crate::support::config_from(&[("TFPILOT_TRUSTED_PROXIES", "10.0.0.0/8, proxy")])
        .unwrap_err()
        .to_string();
    assert!(
        bad.starts_with("TFPILOT_TRUSTED_PROXIES: `proxy` is not an IP address"),
        "{bad}"
    );
}

/// One runtime thread: a password check on it would stop every other
/// request until it ends.
#[tokio::test(flavor = "current_thread")]
async fn the_server_keeps_answering_while_passwords_are_checked_and_hashed() {
    let app = TestApp::spawn().await;
    let admin = app.token("root", Role::Admin).await;
    let hash =
        tokio::task::spawn_blocking(|| server::auth::users::hash_password(PASSWORD, &[7; 16]))
            .await
            .unwrap()
            .unwrap();
    let started = Instant::now();
    tokio::task::spawn_blocking(move || server::auth::users::verify_password("x", &hash))
        .await
        .unwrap();
    let one_check = started.elapsed();

    let busy = tokio::spawn({
        let client = app.client.clone();
        let (login, users) = (app.url("/auth/login"), app.url("/api/v1/users"));
        async move {
            let signins = (0..6).map(|n| {
                client
                    .post(&login)
                    .json(&json!({"login": format!("nobody{n}"), "password": "wrong guess"}))
                    .send()
            });
            let adds = (0..2).map(|n| {
                client
                    .post(&users)
                    .bearer_auth(&admin)
                    .json(&json!({"login": format!("new{n}"), "role": "viewer", "password": PASSWORD}))
                    .send()
            });
            let (signins, adds) = futures::future::join(
                futures::future::join_all(signins),
                futures::future::join_all(adds),
            )
            .await;
            signins
                .into_iter()
                .chain(adds)
                .map(|r| r.unwrap().status().as_u16())
                .collect::<Vec<_>>()
        }
    });
    let (mut answered, mut slowest) = (0, Duration::ZERO);
    while !busy.is_finished() {
        let asked = Instant::now();
        assert_eq!(app.get("/healthz").await.status(), 200);
        slowest = slowest.max(asked.elapsed());
        answered += 1;
    }
    let statuses = busy.await.unwrap();
    assert_eq!(statuses, [401, 401, 401, 401, 401, 401, 201, 201]);
    assert!(answered >= 5, "only {answered} health checks answered");
    assert!(
        slowest < one_check / 2,
        "a health check took {slowest:?}; one password check takes {one_check:?}"
    );
}
