//! Bench: the release `tfpilot` binary under sustained load, on loopback.
//!
//! `cargo xtask load` builds the binary, starts moto and runs this with
//! `TFPILOT_BENCH_S3_ENDPOINT` and `TFPILOT_LOAD_BINARY` set. It seeds
//! 10,000 requests into fresh buckets, starts `tfpilot serve` on them in
//! production storage mode (terraform pointed at a missing binary, so
//! plans fail at once instead of competing for the CPU), then holds 500
//! SSE clients, 1,000 API reads/s and 20 creates/s for
//! `TFPILOT_LOAD_SECS` (default 60) and prints per route the count,
//! errors, p50/p99/max; the server's RSS and CPU; the events each SSE
//! client received against the requests created; and the goals (0 errors,
//! API p99 <= 50 ms, every client receives every change), met or not.
//! It is a measurement: it exits 0 either way. With `TFPILOT_BENCH_REPORT`
//! set, the report is also written to that file.

#[path = "../common/mod.rs"]
mod common;
mod process;
mod report;
mod seed;
mod sse;
mod traffic;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SEEDED: u64 = 10_000;
const SSE_CLIENTS: usize = 500;
const READS_PER_S: u64 = 1_000;
const CREATES_PER_S: u64 = 20;
/// How long the SSE clients keep reading after the last answer, at most,
/// for the changes still on their way.
const DRAIN: Duration = Duration::from_secs(30);

fn var(name: &str, why: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: {why}"))
}

/// The soft open-files limit of this process (the server inherits it).
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(run());
}

async fn run() {
    let endpoint = var(
        "TFPILOT_BENCH_S3_ENDPOINT",
        "run `cargo xtask load`, which starts moto",
    );
    let binary = PathBuf::from(var(
        "TFPILOT_LOAD_BINARY",
        "run `cargo xtask load`, which builds the release binary",
    ));
    let secs: u64 = std::env::var("TFPILOT_LOAD_SECS")
        .ok()
        .map(|s| s.parse().expect("TFPILOT_LOAD_SECS is a whole number"))
        .unwrap_or(60);
    let needed = SSE_CLIENTS as u64 * 2 + 512;
    if let Some(limit) = open_files_limit() {
        assert!(
            limit >= needed,
            "the open-files limit is {limit}; {needed} are needed for {SSE_CLIENTS} streams (raise `ulimit -n`)"
        );
    }

    let seeded = seed::seed(&endpoint, SEEDED).await;
    let data = tempfile::tempdir().expect("a data dir");
    let log = match std::env::var("TFPILOT_BENCH_REPORT") {
        Ok(report) => PathBuf::from(report).with_file_name("load-server.log"),
        Err(_) => std::env::temp_dir().join(format!("tfpilot-load-{}.log", std::process::id())),
    };
    let mut server = process::start(&binary, &endpoint, &seeded, data.path(), log);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client");
    let took = server.ready(&http, SEEDED).await;
    println!("tfpilot ready with {SEEDED} requests indexed in {took:.1?}");

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let streams = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("an HTTP client");
    let (ready, mut readies) = tokio::sync::mpsc::channel(SSE_CLIENTS);
    let seen: Vec<sse::Seen> = (0..SSE_CLIENTS).map(|_| Default::default()).collect();
    let clients: Vec<_> = seen
        .iter()
        .map(|seen| {
            tokio::spawn(sse::client(
                streams.clone(),
                format!("{}/api/v1/events", server.base),
                seeded.token.clone(),
                ready.clone(),
                stopped.clone(),
                seen.clone(),
            ))
        })
        .collect();
    drop(ready);
    let connecting = Instant::now();
    let mut opened = 0;
    while let Ok(Some(ok)) = tokio::time::timeout(Duration::from_secs(60), readies.recv()).await {
        opened += usize::from(ok);
    }
    println!(
        "{opened} of {SSE_CLIENTS} SSE clients connected in {:.1?}",
        connecting.elapsed()
    );

    let pid = server.pid();
    let rss = process::sample_rss(pid, stopped.clone());
    let cpu = (process::cpu(pid), process::cpu(std::process::id()));
    let recorder = Arc::new(traffic::Recorder::default());
    let plan = traffic::Plan {
        base: server.base.clone(),
        token: seeded.token.clone(),
        ids: Arc::new(seeded.ids),
        reads_per_s: READS_PER_S,
        creates_per_s: CREATES_PER_S,
        secs,
        run: format!("{}", std::process::id()),
    };
    let store_before = process::store_operations(&http, &server.base).await;
    println!("holding {READS_PER_S} reads/s and {CREATES_PER_S} creates/s for {secs} s …");
    let started = Instant::now();
    traffic::drive(http.clone(), plan, recorder.clone()).await;
    let held = started.elapsed();
    // Until every open client has every created request, at most DRAIN.
    let drained = Instant::now();
    let created: Vec<String> = recorder.created.lock().unwrap().clone();
    while drained.elapsed() < DRAIN
        && !seen.iter().all(|seen| {
            let seen = seen.lock().unwrap();
            seen.is_empty() || created.iter().all(|id| seen.contains(id))
        })
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drain = drained.elapsed();
    let store_after = process::store_operations(&http, &server.base).await;
    let store_ops = store_after
        .into_iter()
        .map(|(what, after)| {
            let before = store_before.get(&what).copied().unwrap_or(0.0);
            (what, (after - before).max(0.0) as u64)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let used = |before: Option<Duration>, p: u32| {
        process::cpu(p)
            .zip(before)
            .map(|(after, before)| after.saturating_sub(before))
            .unwrap_or_default()
    };
    let (server_cpu, generator_cpu) = (used(cpu.0, pid), used(cpu.1, std::process::id()));
    let _ = stop.send(true);
    let mut received = Vec::new();
    for client in clients {
        received.push(client.await.expect("an SSE client"));
    }
    let rss = rss.await.unwrap_or_default();
    // The created requests no client saw, and where they stand now.
    let unseen_ids: Vec<String> = created
        .iter()
        .filter(|id| {
            received
                .iter()
                .filter(|c| c.opened)
                .all(|c| !c.ids.contains(id.as_str()))
        })
        .take(10)
        .cloned()
        .collect();
    let logged = seed::in_change_log(&endpoint, &seeded.requests_bucket, &unseen_ids).await;
    let mut unseen = Vec::new();
    for (id, logged) in unseen_ids.iter().zip(logged) {
        let now = reqwest::Client::new()
            .get(format!("{}/api/v1/requests/{id}", server.base))
            .bearer_auth(&seeded.token)
            .send()
            .await;
        let doc = match now {
            Ok(res) => res.json::<serde_json::Value>().await.unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        };
        unseen.push(format!(
            "{id} (in {logged} change log records; created {}, now version {} at {}, {})",
            doc["request"]["created_at"].as_str().unwrap_or("?"),
            doc["request"]["version"],
            doc["request"]["updated_at"].as_str().unwrap_or("?"),
            doc["status"].as_str().unwrap_or("?")
        ));
    }
    let lines = std::fs::read_to_string(&server.log).unwrap_or_default();
    let outcome = report::Outcome {
        setup: format!(
            "tfpilot load: release binary, {SEEDED} requests on moto (S3), {SSE_CLIENTS} SSE clients, \
             {READS_PER_S} API reads/s + {CREATES_PER_S} creates/s for {secs} s, loopback; \
             terraform points at a missing binary, so each created request's plan fails at once"
        ),
        routes: recorder.take(),
        sends: secs * (READS_PER_S + CREATES_PER_S),
        late: recorder.late.load(std::sync::atomic::Ordering::Relaxed),
        max_late: Duration::from_micros(
            recorder
                .max_late_us
                .load(std::sync::atomic::Ordering::Relaxed),
        ),
        created: std::mem::take(&mut *recorder.created.lock().unwrap()),
        clients: received,
        drain,
        rss,
        held,
        store_ops,
        server_cpu,
        generator_cpu,
        unseen,
        server_log: format!(
            "server log: {} lines in {}",
            lines.lines().count(),
            server.log.display()
        ),
    };
    let text = report::render(outcome);
    println!();
    print!("{text}");
    if let Ok(path) = std::env::var("TFPILOT_BENCH_REPORT") {
        let _ = std::fs::write(path, &text);
    }
}
