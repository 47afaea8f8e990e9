//! A graceful stop of the real binary: SIGTERM ends the event streams with
//! a reconnection hint, lets a request whose body is still arriving
//! finish, writes the index snapshot and exits 0 within
//! `TFPILOT_SHUTDOWN_SECS`; bad values of the stop's and the logs'
//! variables are refused at start, naming the variable.

use crate::support::binary::cli;
use crate::support::{root, wait_healthy, wait_until};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A `tfpilot serve` process; killed on drop if still running.
pub struct Served {
    pub child: Child,
    pub base: String,
    pub port: u16,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `tfpilot serve` on `data` with `envs`, its standard error into
/// `data/tfpilot.log` and its standard output into `data/tfpilot.out`;
/// returns once it is healthy.
pub async fn serve(data: &Path, envs: &[(&str, &str)]) -> Served {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_tfpilot"))
        .arg("serve")
        .env("TFPILOT_BIND", format!("127.0.0.1:{port}"))
        .env("TFPILOT_PUBLIC_URL", &base)
        .env("TFPILOT_DATA_DIR", data)
        .env("TFPILOT_REGISTRY", root().join("modules-registry.toml"))
        .env("TFPILOT_WORKFLOWS_DIR", root().join("infra-workflows"))
        .env("TFPILOT_SITE_ROOT", data.join("site"))
        .envs(envs.iter().copied())
        .stdout(std::fs::File::create(data.join("tfpilot.out")).unwrap())
        .stderr(std::fs::File::create(data.join("tfpilot.log")).unwrap())
        .spawn()
        .unwrap();
    wait_healthy(&base).await;
    Served { child, base, port }
}

/// Sends SIGTERM to `served` and waits (60 s at most) for its exit status.
pub async fn terminate(served: &mut Served) -> (std::process::ExitStatus, Duration) {
    let term = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let sent = Instant::now();
    let status = wait_until(Duration::from_secs(60), "tfpilot to stop", || {
        let exited = served.child.try_wait().unwrap();
        async move { exited.ok_or_else(|| "still running".to_owned()) }
    })
    .await;
    (status, sent.elapsed())
}

/// An admin's API token on a fresh data dir.
pub fn admin_token(data: &Path) -> String {
    cli(data, &[], &["users", "add", "ada", "--role", "admin"], None);
    cli(data, &[], &["tokens", "create", "--user", "ada"], None)
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_streams_with_a_retry_hint_finishes_requests_and_exits_0() {
    let data = tempfile::tempdir().unwrap();
    let token = admin_token(data.path());
    let limit = 10;
    let mut served = serve(
        data.path(),
        &[
            ("TFPILOT_SHUTDOWN_SECS", &limit.to_string()),
            // The periodic snapshot is written at start only: the one that
            // holds the request filed below is the stop's.
            ("TFPILOT_INDEX_SNAPSHOT_SECS", "3600"),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let mut stream = http
        .get(format!("{}/api/v1/events", served.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    // A request whose body is still arriving when the stop comes.
    let body = serde_json::json!({
        "project": "sandbox", "environment": "dev", "module": "sqs-queue",
        "config": {"name": "stopping-queue"}
    })
    .to_string();
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", served.port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    slow.write_all(first.as_bytes()).await.unwrap();
    slow.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let stopping = tokio::spawn(async move {
        let (status, took) = terminate(&mut served).await;
        (status, took, served)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    slow.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), slow.read_to_end(&mut answer))
        .await
        .expect("the in-flight request is answered")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    let mut events = String::new();
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            events.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(ended.is_ok(), "the event stream did not end: {events}");
    let last = events.trim_end().rsplit("\n\n").next().unwrap_or_default();
    assert_eq!(last.trim(), "retry: 1000", "{events}");

    let (status, took, _served) = stopping.await.unwrap();
    let logs = std::fs::read_to_string(data.path().join("tfpilot.log")).unwrap();
    // The server's own measure, from the stop signal to the snapshot.
    let took_ms = logs
        .lines()
        .find(|l| l.contains("server.stopped"))
        .and_then(|l| l.split("took_ms=").nth(1))
        .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap_or_else(|| panic!("no took_ms: {logs}"))
        .to_owned();
    eprintln!(
        "shutdown took {:.2} s (SIGTERM to exit, of which 0.30 s is the in-flight request's \
         body still arriving; the server logged took_ms={took_ms})",
        took.as_secs_f64()
    );
    assert!(status.success(), "exit status {status}");
    assert!(took < Duration::from_secs(limit), "took {took:?}");
    assert!(logs.contains("server.stopping"), "{logs}");
    assert!(
        logs.contains("server.stopped") && logs.contains("took_ms"),
        "{logs}"
    );
    assert!(!logs.contains("unfinished"), "{logs}");
    let created: serde_json::Value =
        serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let id = created["request"]["id"].as_str().unwrap();
    let snapshot = data.path().join("store/requests/index/snapshot.json");
    let snapshot = std::fs::read_to_string(&snapshot).unwrap();
    assert!(snapshot.contains(id), "the stop's snapshot holds {id}");
}

#[test]
fn bad_shutdown_limits_and_log_formats_are_refused_naming_the_variable() {
    let data = tempfile::tempdir().unwrap();
    let cases = [
        ("TFPILOT_SHUTDOWN_SECS", "0", "positive number of seconds"),
        ("TFPILOT_SHUTDOWN_SECS", "-3", "positive number of seconds"),
        ("TFPILOT_SHUTDOWN_SECS", "20s", "positive number of seconds"),
        ("TFPILOT_LOG_FORMAT", "xml", "text or json"),
    ];
    for (var, value, rule) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_tfpilot"))
            .arg("serve")
            .env("TFPILOT_BIND", "127.0.0.1:0")
            .env("TFPILOT_DATA_DIR", data.path())
            .env("TFPILOT_REGISTRY", root().join("modules-registry.toml"))
            .env(var, value)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{var}={value} was accepted");
        assert!(
            stderr.contains(var) && stderr.contains(value) && stderr.contains(rule),
            "{var}={value}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_limit_the_stop_exits_anyway_naming_what_did_not_finish() {
    let data = tempfile::tempdir().unwrap();
    let token = admin_token(data.path());
    let mut served = serve(data.path(), &[("TFPILOT_SHUTDOWN_SECS", "1")]).await;
    // A request whose body never comes.
    let mut stuck = tokio::net::TcpStream::connect(("127.0.0.1", served.port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/requests HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"project\":"
    );
    stuck.write_all(head.as_bytes()).await.unwrap();
    stuck.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, took) = terminate(&mut served).await;
    eprintln!(
        "shutdown past its 1 s limit took {:.2} s",
        took.as_secs_f64()
    );
    assert!(status.success(), "exit status {status}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let logs = std::fs::read_to_string(data.path().join("tfpilot.log")).unwrap();
    let stopped = logs
        .lines()
        .find(|l| l.contains("server.stopped"))
        .unwrap_or_else(|| panic!("no server.stopped line: {logs}"));
    assert!(
        stopped.contains("WARN")
            && stopped.contains("TFPILOT_SHUTDOWN_SECS")
            && stopped.contains("open HTTP connections"),
        "{stopped}"
    );
    drop(stuck);
}

/// The advance leases (`locks/advance/<id>.json`) under `dir`, as
/// (holder, expires_at).
fn advance_leases(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.parent().is_some_and(|p| p.ends_with("locks/advance"))
                && path.extension().is_some_and(|e| e == "json")
            {
                let record: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                out.push((
                    record["holder"].as_str().unwrap_or_default().to_owned(),
                    record["expires_at"].as_u64().unwrap_or_default(),
                ));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_hands_back_the_requests_it_was_driving() {
    let data = tempfile::tempdir().unwrap();
    let token = admin_token(data.path());
    // A hold that outlives the test: only a handed-back one lets the next
    // server drive the requests in time.
    let envs = [
        ("TFPILOT_LEASE_SECS", "600"),
        ("TFPILOT_RECONCILE_SECS", "1"),
        ("TFPILOT_TERRAFORM", "/nonexistent/terraform"),
    ];
    let mut served = serve(data.path(), &envs).await;
    let http = reqwest::Client::new();
    // More than the 8 driven at once: some are under way at the stop,
    // others still wait their turn.
    let filed = futures::future::join_all((0..12).map(|n| {
        http.post(format!("{}/api/v1/requests", served.base))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "project": "sandbox", "environment": "dev", "module": "sqs-queue",
                "config": {"name": format!("handed-back-{n}")}
            }))
            .send()
    }))
    .await;
    let mut ids = Vec::new();
    for answer in filed {
        let answer = answer.unwrap();
        assert_eq!(answer.status(), 201);
        let body: serde_json::Value = answer.json().await.unwrap();
        ids.push(body["request"]["id"].as_str().unwrap().to_owned());
    }
    let (status, _) = terminate(&mut served).await;
    assert!(status.success(), "{status}");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let leases = advance_leases(data.path());
    assert!(!leases.is_empty(), "some request was being driven");
    for (holder, expires_at) in &leases {
        assert!(
            holder == "released" || *expires_at <= now_ms,
            "a lease left held by {holder} until {expires_at} (now {now_ms})"
        );
    }

    // The next server drives every request at once, not after 600 s.
    let served = serve(data.path(), &envs).await;
    let base = served.base.clone();
    wait_until(
        Duration::from_secs(60),
        "every request to get its PR",
        || {
            let (http, base, token, ids) = (http.clone(), base.clone(), token.clone(), ids.clone());
            async move {
                for id in ids {
                    let doc: serde_json::Value = http
                        .get(format!("{base}/api/v1/requests/{id}"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .map_err(|e| e.to_string())?
                        .json()
                        .await
                        .map_err(|e| e.to_string())?;
                    if doc["request"]["pr"].is_null() {
                        return Err(format!("{id} has no PR yet"));
                    }
                }
                Ok(())
            }
        },
    )
    .await;
}
