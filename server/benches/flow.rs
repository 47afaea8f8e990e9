//! Bench: create → PR opened on the local Git host, 200 requests, p50 and
//! p99. Terraform is excluded: the executor points at a missing binary, so
//! plans fail at once instead of competing for the CPU.
//! Run with `cargo bench -p server --bench flow`.

mod common;
use common::percentile;

use serde_json::{Value, json};
use std::time::{Duration, Instant};

const REQUESTS: usize = 200;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let data = tempfile::tempdir().unwrap();
    let base = common::serve(data.path(), &[]).await;

    let token = common::requester_token(data.path()).await;

    let http = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(REQUESTS);
    for i in 0..REQUESTS {
        let body = json!({"project": "sandbox", "environment": "dev", "module": "sqs-queue",
            "config": {"name": format!("bench-queue-{i}")}});
        let started = Instant::now();
        let created: Value = http
            .post(format!("{base}/api/v1/requests"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["request"]["id"].as_str().unwrap().to_owned();
        loop {
            let view: Value = http
                .get(format!("{base}/api/v1/requests/{id}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if !view["request"]["pr"].is_null() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        latencies.push(started.elapsed());
    }
    let (p50, p99) = (
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.99),
    );
    println!("== create → PR opened, local Git host, {REQUESTS} requests (terraform excluded) ==");
    println!("p50: {p50:.2?}  p99: {p99:.2?}  (goal: p50 ≤ 100 ms)");
}
