//! Bench: the Alertmanager receiver (`POST /api/v1/alerts/alertmanager`).
//!
//! 1. **Fired → queued**: the real Alertmanager (Debian's, from
//!    `TFPILOT_TEST_ALERTMANAGER`, default `/usr/bin/prometheus-alertmanager`)
//!    with `group_wait: 1s` sends to tfpilot; each sample fires one alert
//!    through Alertmanager's API and waits until the job log lists its job.
//!    The figure includes Alertmanager's one-second group wait.
//! 2. **Throughput**: eight clients post payloads of 20 alerts each, every
//!    alert new; alerts stored per second, for alerts no policy matches
//!    (stored as "no policy matched") and for alerts a policy matches
//!    (queued jobs; `TFPILOT_WORKERS=0`, so nothing runs them).
//!
//! Run with `cargo bench -p server --bench alerts` (`TFPILOT_BENCH_ALERTS`
//! sets the alerts per throughput run, default 4000); with
//! `TFPILOT_BENCH_REPORT` set, the summary is also written to that file.

mod common;
use common::percentile;

use app::domain::policy::{Role, TokenScope};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SAMPLES: usize = 20;

/// An admin token and an automation token for the store under `data`.
async fn tokens(data: &Path) -> (String, String) {
    let store =
        std::sync::Arc::new(server::store::fs::FsStore::open(data.join("store/requests")).unwrap());
    let users = server::auth::Users::new(store.clone());
    users.add("ada", Role::Admin, None).await.unwrap();
    users.add("alertmanager", Role::Admin, None).await.unwrap();
    let tokens = server::auth::Tokens::new(store);
    let (_, admin) = tokens.create("ada", "bench").await.unwrap();
    let (_, bot) = tokens
        .create_scoped("alertmanager", "bench", Some(TokenScope::Automation))
        .await
        .unwrap();
    (admin, bot)
}

async fn start(data: &Path) -> (String, String, String) {
    let (admin, bot) = tokens(data).await;
    let base = common::serve(
        data,
        &[
            ("TFPILOT_WORKERS", PathBuf::from("0")),
            ("TFPILOT_JOBS_MAX_QUEUED", PathBuf::from("1000000")),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let policy = json!({
        "name": "bench-notify",
        "condition": {"labels": {"alertname": "BenchMatched"}, "status": "any"},
        "action": {"kind": "notify", "message": "${label.sample}"}
    });
    let res = http
        .post(format!("{base}/api/v1/policies"))
        .bearer_auth(&admin)
        .json(&policy)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    (base, admin, bot)
}

/// A running Alertmanager and its directory (removed when dropped).
struct Alertmanager {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn alertmanager(webhook: &str, token: &str) -> (Alertmanager, String) {
    let bin = std::env::var("TFPILOT_TEST_ALERTMANAGER")
        .unwrap_or_else(|_| "/usr/bin/prometheus-alertmanager".into());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alertmanager.yml");
    std::fs::write(
        &file,
        format!(
            "route:\n  receiver: tfpilot\n  group_by: ['sample']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: tfpilot\n    webhook_configs:\n      - url: '{webhook}'\n        http_config:\n          authorization:\n            credentials: '{token}'\n"
        ),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .arg(format!("--config.file={}", file.display()))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let url = format!("http://127.0.0.1:{port}");
    let am = Alertmanager { child, _dir: dir };
    for _ in 0..300 {
        if reqwest::get(format!("{url}/-/ready"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (am, url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("Alertmanager was not ready within 30 s");
}

/// Fired through Alertmanager → listed in the job log, per sample.
async fn fired_to_queued() -> Vec<Duration> {
    let data = tempfile::tempdir().unwrap();
    let (base, admin, bot) = start(data.path()).await;
    let (_am, am_url) = alertmanager(&format!("{base}/api/v1/alerts/alertmanager"), &bot).await;
    let http = reqwest::Client::new();
    let mut samples = Vec::new();
    for i in 0..SAMPLES {
        let sample = format!("s{i}");
        let fired = Instant::now();
        let res = http
            .post(format!("{am_url}/api/v2/alerts"))
            .json(&json!([{"labels": {"alertname": "BenchMatched", "sample": sample}}]))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        loop {
            let page: Value = http
                .get(format!("{base}/api/v1/jobs?policy=bench-notify&limit=5"))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let listed = page["items"].as_array().is_some_and(|jobs| {
                jobs.iter()
                    .any(|j| j["alert"]["labels"]["sample"] == sample.as_str())
            });
            if listed {
                samples.push(fired.elapsed());
                break;
            }
            assert!(
                fired.elapsed() < Duration::from_secs(30),
                "sample {i} never queued"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    samples
}

/// Alerts stored per second by eight clients posting 20 alerts a payload.
async fn throughput(total: usize, alertname: &str) -> f64 {
    let data = tempfile::tempdir().unwrap();
    let (base, _, bot) = start(data.path()).await;
    let per_payload = 20;
    let clients = 8;
    let payloads = total / per_payload;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (base, bot, alertname) = (base.clone(), bot.clone(), alertname.to_owned());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut stored = 0u64;
            for p in (c..payloads).step_by(clients) {
                let alerts: Vec<Value> = (0..per_payload)
                    .map(|a| {
                        let n = p * per_payload + a;
                        json!({"status": "firing", "labels": {"alertname": alertname, "sample": format!("t{n}")},
                               "annotations": {}, "fingerprint": format!("{n:016x}"),
                               "startsAt": "2026-12-05T10:00:00Z"})
                    })
                    .collect();
                let body = json!({"version": "4", "groupKey": format!("g{p}"), "status": "firing",
                                  "receiver": "tfpilot", "alerts": alerts});
                let res = http
                    .post(format!("{base}/api/v1/alerts/alertmanager"))
                    .bearer_auth(&bot)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
                let receipt: Value = res.json().await.unwrap();
                stored += receipt["new"].as_u64().unwrap_or(0);
            }
            stored
        }));
    }
    let mut stored = 0;
    for t in tasks {
        stored += t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(
        stored as usize,
        payloads * per_payload,
        "every alert stored once"
    );
    stored as f64 / secs
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let total: usize = std::env::var("TFPILOT_BENCH_ALERTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    let mut samples = fired_to_queued().await;
    let p50 = percentile(&mut samples, 0.5);
    let p90 = percentile(&mut samples, 0.9);
    let unmatched = throughput(total, "BenchUnmatched").await;
    let matched = throughput(total, "BenchMatched").await;
    let line = format!(
        "alerts: fired (real Alertmanager, group_wait 1 s) → job queued p50 {:.0} ms, p90 {:.0} ms ({SAMPLES} alerts); \
         receiver {unmatched:.0} alerts/s stored (no policy matched), {matched:.0} alerts/s stored as queued jobs \
         ({total} alerts each, 8 clients, 20 alerts a payload, embedded store)",
        p50.as_secs_f64() * 1000.0,
        p90.as_secs_f64() * 1000.0,
    );
    println!("{line}");
    if let Ok(path) = std::env::var("TFPILOT_BENCH_REPORT") {
        let _ = std::fs::write(path, format!("{line}\n"));
    }
}
