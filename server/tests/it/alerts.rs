//! The real Alertmanager against tfpilot's reading of its webhook: what
//! Alertmanager 0.25 sends (version 4, grouped, with the bearer token from
//! `http_config.authorization.credentials`) reads as alerts with their
//! labels, annotations, fingerprint and start.

use crate::support::alertmanager::Alertmanager;
use app::domain::remediation::{AlertStatus, webhook};
use axum::http::HeaderMap;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Received = Arc<Mutex<Vec<(Option<String>, Value)>>>;

/// A receiver that keeps what it is sent, with its Authorization header.
async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let keep = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let keep = keep.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                keep.lock().unwrap().push((auth, body.0));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanagers_webhook_reads_as_alerts_with_the_bearer_token() {
    let (url, got) = receiver().await;
    let am = Alertmanager::start(&url, "tfp_example_token", "1h").await;
    am.fire(
        &[
            ("alertname", "QueueBacklog"),
            ("severity", "critical"),
            ("tfpilot_request", "01kabcdefghjkmnp"),
        ],
        &[("new_max", "25")],
    )
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let (auth, body) = loop {
        if let Some(first) = got.lock().unwrap().first().cloned() {
            break first;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing delivered in 20 s: {}",
            am.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(auth.as_deref(), Some("Bearer tfp_example_token"));
    let read = webhook::read(&body).unwrap_or_else(|e| panic!("{e:?}: {body}"));
    assert_eq!(read.status, AlertStatus::Firing);
    assert_eq!(read.receiver, "tfpilot");
    assert_eq!(read.alerts.len(), 1);
    let alert = &read.alerts[0];
    assert_eq!(alert.labels["tfpilot_request"], "01kabcdefghjkmnp");
    assert_eq!(alert.annotations["new_max"], "25");
    assert_eq!(alert.fingerprint.len(), 16, "{alert:?}");
    assert!(alert.starts_at.starts_with("20"), "{alert:?}");
}
