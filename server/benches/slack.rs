//! Bench: time from a signed Slack @mention to tfpilot's first reply in its thread, against a small fake Slack on loopback.
//!
//! tfpilot runs in-process with Slack on; the fake answers `auth.test`,
//! `users.info` and `chat.postMessage` and notes when each thread's first
//! reply arrives. Each mention, by a linked user, starts a new thread.
//! Run with `cargo bench -p server --bench slack` (`TFPILOT_BENCH_MENTIONS`
//! sets how many, default 200); with `TFPILOT_BENCH_REPORT` set, the
//! summary line is also written to that file.

mod common;
use common::percentile;

use app::domain::policy::Role;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::oneshot;

const SECRET: &str = "bench-signing-secret";
const TOKEN: &str = "xoxb-bench-token";
const BOT: &str = "U0BENCHBOT";
const PERSON: &str = "U0BENCHPERSON";
const CHANNEL: &str = "C0BENCH";

/// Who waits for the first reply in which thread.
type Waiting = Arc<Mutex<HashMap<String, oneshot::Sender<(Instant, String)>>>>;

/// The fake Web API: every method answers `ok`; a post in a thread someone
/// waits on tells them when it arrived.
async fn api(
    State(waiting): State<Waiting>,
    Path(method): Path<String>,
    body: Bytes,
) -> axum::Json<Value> {
    let arrived = Instant::now();
    match method.as_str() {
        "auth.test" => axum::Json(json!({"ok": true, "user_id": BOT, "bot_id": "B0BENCH",
            "team_id": "T0BENCH", "team": "bench", "user": "tfpilot", "url": "https://bench.slack.com/"})),
        "users.info" => axum::Json(
            json!({"ok": true, "user": {"id": PERSON, "team_id": "T0BENCH",
            "name": "person", "deleted": false, "is_bot": false, "profile": {"real_name": "person"}}}),
        ),
        "chat.postMessage" => {
            let msg: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if let Some(thread) = msg["thread_ts"].as_str() {
                let waiter = waiting.lock().unwrap().remove(thread);
                if let Some(tx) = waiter {
                    let text = msg["text"].as_str().unwrap_or_default().to_owned();
                    let _ = tx.send((arrived, text));
                }
            }
            axum::Json(json!({"ok": true, "channel": msg["channel"], "ts": "1800000000.000001"}))
        }
        _ => axum::Json(json!({"ok": true})),
    }
}

/// Starts the fake; its Web API base URL.
async fn fake_slack(waiting: Waiting) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/api/{method}", post(api))
        .with_state(waiting);
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// The `event_callback` of an @mention opening thread `ts`.
fn mention(i: usize, ts: &str) -> Value {
    json!({
        "token": "bench", "team_id": "T0BENCH", "api_app_id": "A0BENCH",
        "type": "event_callback", "event_id": format!("EvBENCH{i:06}"), "event_time": now(),
        "event": {"type": "app_mention", "user": PERSON, "channel": CHANNEL, "ts": ts,
            "event_ts": ts, "team": "T0BENCH",
            "text": format!("<@{BOT}> I need an s3 bucket called bench-logs-{i} in dev with 30 day expiration")},
    })
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mentions: usize = std::env::var("TFPILOT_BENCH_MENTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let waiting: Waiting = Arc::default();
    let api_url = fake_slack(waiting.clone()).await;

    let data = tempfile::tempdir().unwrap();
    let store =
        Arc::new(server::store::fs::FsStore::open(data.path().join("store/requests")).unwrap());
    let users = server::auth::Users::new(store);
    users.add("bench", Role::Requester, None).await.unwrap();
    let link = server::auth::contact::LinkChange {
        slack_user_id: Some(Some(PERSON.into())),
        email: None,
    };
    users.set_links("bench", link).await.unwrap();
    let base = common::serve(
        data.path(),
        &[
            ("TFPILOT_SLACK_API_URL", PathBuf::from(&api_url)),
            ("TFPILOT_SLACK_BOT_TOKEN", PathBuf::from(TOKEN)),
            ("TFPILOT_SLACK_SIGNING_SECRET", PathBuf::from(SECRET)),
            ("TFPILOT_RECONCILE_SECS", PathBuf::from("3600")),
        ],
    )
    .await;

    let http = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(mentions);
    for i in 0..mentions {
        let ts = format!("1700000000.{i:06}");
        let (tx, rx) = oneshot::channel();
        waiting.lock().unwrap().insert(ts.clone(), tx);
        let body = serde_json::to_vec(&mention(i, &ts)).unwrap();
        let stamp = now().to_string();
        let signature = server::slack::signing::signature(SECRET, &stamp, &body);
        let sent = Instant::now();
        let res = http
            .post(format!("{base}/api/v1/slack/events"))
            .header("content-type", "application/json")
            .header("x-slack-request-timestamp", &stamp)
            .header("x-slack-signature", signature)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            200,
            "{}",
            res.text().await.unwrap_or_default()
        );
        let (arrived, reply) = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .expect("a reply in the thread within 30 s")
            .unwrap();
        // The assistant answered the linked person (not a refusal).
        assert!(!reply.contains("not linked"), "{reply}");
        if i == 0 {
            eprintln!("first reply: {reply}");
        }
        latencies.push(arrived - sent);
    }
    let (p50, p90, p99) = (
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.9),
        percentile(&mut latencies, 0.99),
    );
    let summary = format!(
        "Slack @mention → first thread reply (fake Slack, loopback), {mentions} mentions: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
        ms(p50),
        ms(p90),
        ms(p99)
    );
    println!("{summary}");
    if let Some(path) = std::env::var_os("TFPILOT_BENCH_REPORT") {
        std::fs::write(path, format!("{summary}\n")).unwrap();
    }
}
