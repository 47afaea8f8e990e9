//! The release `tfpilot serve` as its own process in production storage
//! mode, and what `/proc` says about it (RSS, CPU time).

use crate::seed::Seeded;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Starts `binary serve` on the seeded buckets, its data dir `data`,
/// terraform pointed at a missing binary (plans fail at once).
pub fn start(binary: &Path, endpoint: &str, seeded: &Seeded, data: &Path, log: PathBuf) -> Server {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let out = std::fs::File::create(&log).expect("create the server log");
    let err = out.try_clone().expect("share the server log");
    let child = Command::new(binary)
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("TFPILOT_REQUESTS_BUCKET", &seeded.requests_bucket)
        .env("TFPILOT_CHAT_LOGS_BUCKET", &seeded.chat_bucket)
        .env("TFPILOT_STATE_BUCKET", &seeded.state_bucket)
        .env("TFPILOT_S3_ENDPOINT", endpoint)
        .env("TFPILOT_BIND", format!("127.0.0.1:{port}"))
        .env("TFPILOT_PUBLIC_URL", &base)
        .env("TFPILOT_DATA_DIR", data)
        .env("TFPILOT_REGISTRY", root.join("modules-registry.toml"))
        .env("TFPILOT_WORKFLOWS_DIR", root.join("infra-workflows"))
        .env("TFPILOT_SITE_ROOT", data.join("site"))
        .env("TFPILOT_TERRAFORM", data.join("no-terraform"))
        .env("TFPILOT_METRICS_PUBLIC", "true")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    Server { child, base, log }
}

impl Server {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `/readyz` answers 200 with at least `requests` in the
    /// index; the time it took.
    pub async fn ready(&mut self, http: &reqwest::Client, requests: u64) -> Duration {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the server") {
                panic!("tfpilot exited with {status}; see {}", self.log.display());
            }
            let indexed = match http.get(format!("{}/readyz", self.base)).send().await {
                Ok(r) if r.status().is_success() => r
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v["index"]["requests"].as_u64()),
                _ => None,
            };
            if indexed.is_some_and(|n| n >= requests) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "tfpilot was not ready within 600 s; see {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The server's store operations so far, by bucket and operation, from
/// its `/metrics` page.
pub async fn store_operations(
    http: &reqwest::Client,
    base: &str,
) -> std::collections::BTreeMap<String, f64> {
    let page = match http.get(format!("{base}/metrics")).send().await {
        Ok(res) => res.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    page.lines()
        .filter_map(|line| line.strip_prefix("tfpilot_store_operations_total{"))
        .filter_map(|rest| {
            let (labels, value) = rest.rsplit_once("} ")?;
            Some((labels.replace('"', ""), value.trim().parse().ok()?))
        })
        .collect()
}

/// The resident set of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time (user + system) process `pid` has used.
pub fn cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command (which may hold spaces): state is field 3,
    // utime 14 and stime 15.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Clock ticks are 100 per second on Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// Samples `pid`'s RSS every second until `stop` turns true.
pub fn sample_rss(
    pid: u32,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Vec<u64>> {
    tokio::spawn(async move {
        let mut samples = Vec::new();
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = every.tick() => samples.extend(rss_kib(pid)),
                _ = stop.wait_for(|s| *s) => {
                    samples.extend(rss_kib(pid));
                    return samples;
                }
            }
        }
    })
}
