//! Three real `tfpilot` processes on one store (one data dir; one moto
//! bucket and one data dir): what one writes reaches every replica's event
//! stream within a second (p99 printed), under the same change number
//! everywhere; and a replica killed mid-work leaves its request to the
//! others, finished once — one PR, one run per step, one mail per notice.

mod agree;
mod takeover;

use crate::support::binary::{Binary, cli};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A user with `role` (and an e-mail) made by the CLI on the shared
/// store, and a token of theirs.
fn user(data: &Path, envs: &[(&str, &str)], login: &str, role: &str) -> String {
    let email = format!("{login}@example.com");
    cli(
        data,
        envs,
        &["users", "add", login, "--role", role, "--email", &email],
        None,
    );
    cli(data, envs, &["tokens", "create", "--user", login], None)
        .trim()
        .to_owned()
}

/// Files a dev queue named `name` through `server`; the request id.
async fn file(server: &Binary, token: &str, name: &str) -> String {
    let res = server
        .client
        .post(format!("{}/api/v1/requests", server.url))
        .bearer_auth(token)
        .json(
            &json!({"project": "sandbox", "environment": "dev", "module": "sqs-queue",
                      "config": {"name": name, "dlq_max_receive_count": 3}}),
        )
        .send()
        .await
        .expect("the server answers");
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let body: Value = res.json().await.unwrap();
    body["request"]["id"].as_str().unwrap().to_owned()
}

/// One `request` event as a stream delivered it.
#[derive(Debug, Clone)]
struct Seen {
    id: String,
    number: u64,
    at: Instant,
}

/// An event stream read in the background: every `request` event, with
/// when it arrived, and whether a `resync` came.
struct Stream {
    seen: Arc<Mutex<Vec<Seen>>>,
    resyncs: Arc<Mutex<usize>>,
    task: tokio::task::JoinHandle<()>,
}

impl Stream {
    async fn open(server: &Binary, token: &str, last_event_id: Option<u64>) -> Stream {
        let mut req = server
            .client
            .get(format!("{}/api/v1/events", server.url))
            .bearer_auth(token)
            .timeout(std::time::Duration::from_secs(600));
        if let Some(n) = last_event_id {
            req = req.header("last-event-id", n.to_string());
        }
        let mut res = req.send().await.expect("the stream opens");
        assert_eq!(res.status(), 200);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let resyncs = Arc::new(Mutex::new(0));
        let (into, resynced) = (seen.clone(), resyncs.clone());
        let task = tokio::spawn(async move {
            let mut buffer = String::new();
            while let Ok(Some(chunk)) = res.chunk().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    let field = |name: &str| {
                        block
                            .lines()
                            .find_map(|l| l.strip_prefix(name))
                            .map(|v| v.trim().to_owned())
                    };
                    match field("event:").as_deref() {
                        Some("request") => {
                            let data: Value =
                                serde_json::from_str(&field("data:").unwrap_or_default())
                                    .unwrap_or(Value::Null);
                            let id = data["change"]["row"]["id"]
                                .as_str()
                                .or(data["row"]["id"].as_str())
                                .unwrap_or_default()
                                .to_owned();
                            let number = field("id:").and_then(|n| n.parse().ok()).unwrap_or(0);
                            into.lock().unwrap().push(Seen {
                                id,
                                number,
                                at: Instant::now(),
                            });
                        }
                        Some("resync") => *resynced.lock().unwrap() += 1,
                        _ => {}
                    }
                }
            }
        });
        Stream {
            seen,
            resyncs,
            task,
        }
    }

    /// The first `request` event of `id`, if it came.
    fn first(&self, id: &str) -> Option<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .find(|s| s.id == id)
            .cloned()
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The `q` quantile of `values` (nearest rank).
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
