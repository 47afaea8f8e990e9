//! The guardrails probed through the running binary, as an operator would
//! with curl: users and tokens made with the CLI, then plain HTTP against
//! `tfpilot serve` in its embedded mode with the prod allow-list set.

use crate::support::binary::{Binary, cli};
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use std::path::Path;

const PASSWORD: &str = "correct horse battery";
const ENVS: [(&str, &str); 1] = [("TFPILOT_PROD_ALLOWED_USERS", "ann")];

fn add_user(data: &Path, login: &str, role: &str) {
    cli(
        data,
        &ENVS,
        &["users", "add", login, "--role", role, "--password-stdin"],
        Some(PASSWORD),
    );
}

fn token(data: &Path, login: &str) -> String {
    let out = cli(data, &ENVS, &["tokens", "create", "--user", login], None);
    out.split_whitespace()
        .find(|w| w.starts_with("tfp_"))
        .expect("a token")
        .to_owned()
}

/// Every file under `dir` with its size.
fn files(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                todo.push(e.path());
            } else {
                out.push((e.path().display().to_string(), meta.len()));
            }
        }
    }
    out.sort();
    out
}

impl Binary {
    async fn send(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> reqwest::Response {
        self.client
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn sign_in_form(&self, next: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/auth/login", self.url))
            .header("origin", &self.url)
            .form(&[("login", "rita"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_running_binary_holds_the_guardrails() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    add_user(data, "rita", "requester");
    add_user(data, "ann", "approver");
    add_user(data, "root", "admin");
    let (rita, ann, root) = (token(data, "rita"), token(data, "ann"), token(data, "root"));
    let server = Binary::start(data, &ENVS).await;

    // 1. An approver on the prod list who changed a request may not approve it.
    let filed = server
        .send(
            &rita,
            Method::POST,
            "/api/v1/requests",
            json!({"project": "sandbox", "environment": "prod", "module": "sqs-queue",
                   "config": {"name": "probe-queue"}}),
        )
        .await;
    assert_eq!(filed.status(), 201);
    let id = filed.json::<Value>().await.unwrap()["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server.wait_for(&ann, &id, "plan_ready").await;
    let changed = server
        .send(
            &ann,
            Method::PATCH,
            &format!("/api/v1/requests/{id}"),
            json!({"config": {"name": "probe-queue", "visibility_timeout_seconds": 60}}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    server.wait_for(&ann, &id, "plan_ready").await;
    let approve = server
        .send(
            &ann,
            Method::POST,
            &format!("/api/v1/requests/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(approve.status(), 403);
    assert_eq!(
        approve.json::<Value>().await.unwrap()["error"]["rule"],
        "prod.four_eyes"
    );

    // 2. A token made with a scoped token is still scoped.
    let scoped = server
        .send(
            &root,
            Method::POST,
            "/api/v1/tokens",
            json!({"name": "ro", "scope": "viewer"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let child = server
        .send(
            &scoped,
            Method::POST,
            "/api/v1/tokens",
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(child.status(), 201);
    let child = child.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let users = server
        .send(&child, Method::GET, "/api/v1/users", json!({}))
        .await;
    assert_eq!(users.status(), 403);

    // 3. A 2 MB login is refused and nothing is stored.
    let before = files(data);
    let huge = "a".repeat(2 << 20);
    let sent = server
        .client
        .post(format!("{}/auth/login", server.url))
        .json(&json!({"login": huge, "password": "x"}))
        .send()
        .await;
    match sent {
        Ok(res) => assert!(
            matches!(res.status().as_u16(), 400 | 413),
            "{}",
            res.status()
        ),
        // The declared length is refused before the body is read, and the
        // connection closes with the body unread: a client still writing
        // may see the close before the 413. Either way it was refused.
        Err(e) => assert!(
            e.is_request() || e.is_body(),
            "the huge login failed in another way: {e:?}"
        ),
    }
    let after = files(data);
    let grown: Vec<_> = after.iter().filter(|f| !before.contains(f)).collect();
    assert!(
        grown.iter().all(|(_, len)| *len < 64 * 1024),
        "a huge login reached the store: {grown:?}"
    );

    // 4. `next` after a good password: a local path or the root.
    let tab = server.sign_in_form("/\t/evil.example").await;
    assert_eq!(tab.status(), 303);
    assert_eq!(tab.headers()[LOCATION], "/");
    let lf = server.sign_in_form("/\nx").await;
    assert!(lf.status().as_u16() < 500, "{}", lf.status());

    // 5. 50 parallel wrong passwords for one login: at most 5 are checked.
    let tries = (0..50).map(|n| {
        let client = server.client.clone();
        let url = format!("{}/auth/login", server.url);
        async move {
            client
                .post(url)
                .json(&json!({"login": "ann", "password": format!("guess {n}")}))
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
    assert!(checked <= 5, "{checked} passwords were checked");
}
