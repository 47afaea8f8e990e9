//! Bench: latency of `POST /api/v1/assistant/draft` with the rules alone,
//! with a prompt-cache hit, and with a model (a small fake
//! OpenAI-compatible server on loopback that answers at once, so the
//! figure is tfpilot's own cost: schema, request, parsing, checks and the
//! cache write).
//!
//! Run with `cargo bench -p server --bench assistant`
//! (`TFPILOT_BENCH_DRAFTS` sets how many per case, default 200); with
//! `TFPILOT_BENCH_REPORT` set, the summary line is also written there.

mod common;
use common::percentile;

use axum::Router;
use axum::routing::post;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const MODEL: &str = "bench-model";

/// A chat-completions server that proposes an SQS queue named after the
/// call number, in the shape the request asked for.
async fn fake_model(calls: Arc<AtomicUsize>) -> String {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move |axum::Json(body): axum::Json<Value>| {
            let n = calls.fetch_add(1, Ordering::Relaxed);
            async move {
                let answer = json!({"module": "sqs-queue", "inputs": {
                    "name": format!("queue-{n}"), "fifo": null, "visibility_timeout_seconds": 60,
                    "message_retention_seconds": null, "dlq_max_receive_count": null, "tags": null,
                }})
                .to_string();
                let message = if body.get("tools").is_some() {
                    json!({"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                        "function": {"name": "propose_request", "arguments": answer}}]})
                } else {
                    json!({"role": "assistant", "content": answer})
                };
                axum::Json(
                    json!({"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A server on a fresh data dir with `extra` settings, and a requester's token.
async fn server(data: &std::path::Path, extra: &[(&str, PathBuf)]) -> (String, String) {
    let token = common::requester_token(data).await;
    let mut vars = vec![("TFPILOT_RECONCILE_SECS", PathBuf::from("3600"))];
    vars.extend(extra.iter().cloned());
    (common::serve(data, &vars).await, token)
}

/// Times `n` drafts of `text(i)`; the answers' `source` must be `want`.
async fn time(
    http: &reqwest::Client,
    (base, token): &(String, String),
    n: usize,
    text: impl Fn(usize) -> String,
    want: &str,
) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let sent = Instant::now();
        let res = http
            .post(format!("{base}/api/v1/assistant/draft"))
            .bearer_auth(token)
            .json(&json!({"text": text(i)}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        out.push(sent.elapsed());
        assert_eq!(body["source"], want, "{body}");
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn line(what: &str, samples: &mut [Duration]) -> String {
    format!(
        "{what} p50 {:.2} ms, p99 {:.2} ms",
        ms(percentile(samples, 0.5)),
        ms(percentile(samples, 0.99))
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n: usize = std::env::var("TFPILOT_BENCH_DRAFTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let http = reqwest::Client::new();
    let text =
        |i: usize| format!("somewhere to drop our nightly postgres dumps for 90 days, batch {i}");

    let rules_dir = tempfile::tempdir().unwrap();
    let rules = server(rules_dir.path(), &[]).await;
    let mut by_rules = time(&http, &rules, n, text, "rules").await;

    let calls = Arc::new(AtomicUsize::new(0));
    let url = fake_model(calls.clone()).await;
    let model_dir = tempfile::tempdir().unwrap();
    let model = server(
        model_dir.path(),
        &[
            ("TFPILOT_MODEL_URL", PathBuf::from(url)),
            ("TFPILOT_MODEL", PathBuf::from(MODEL)),
        ],
    )
    .await;
    let mut by_model = time(&http, &model, n, text, "model").await;
    let mut by_cache = time(&http, &model, n, text, "cache").await;
    assert_eq!(calls.load(Ordering::Relaxed), n, "cache hits call no model");

    let summary = format!(
        "POST /api/v1/assistant/draft, {n} each: {}; {}; {}",
        line("rules", &mut by_rules),
        line("cache hit", &mut by_cache),
        line("fake model", &mut by_model),
    );
    println!("{summary}");
    if let Some(path) = std::env::var_os("TFPILOT_BENCH_REPORT") {
        std::fs::write(path, format!("{summary}\n")).unwrap();
    }
}
