//! `GET /metrics`: every family after a request is filed and planned,
//! route templates (never raw ids) as labels, who may read it, and the
//! real `promtool check metrics` reading the page.

mod access;
mod promtool;

use crate::support::{TestApp, WAIT};
use app::domain::policy::{Role, TokenScope};
use serde_json::json;
use server::exec::fake::{FakeExecutor, Outcome};
use std::sync::Arc;

/// Every family, with its Prometheus type.
const FAMILIES: &[(&str, &str)] = &[
    ("tfpilot_http_requests_total", "counter"),
    ("tfpilot_http_request_duration_seconds", "histogram"),
    ("tfpilot_requests", "gauge"),
    ("tfpilot_step_duration_seconds", "histogram"),
    ("tfpilot_runs_total", "counter"),
    ("tfpilot_store_operations_total", "counter"),
    ("tfpilot_store_errors_total", "counter"),
    ("tfpilot_cas_conflicts_total", "counter"),
    ("tfpilot_cas_retries_total", "counter"),
    ("tfpilot_upstream_calls_total", "counter"),
    ("tfpilot_rate_limit_waits_total", "counter"),
    ("tfpilot_rate_limit_wait_seconds_total", "counter"),
    ("tfpilot_sse_clients", "gauge"),
    ("tfpilot_outbox_pending", "gauge"),
    ("tfpilot_jobs_open", "gauge"),
    ("tfpilot_index_requests", "gauge"),
    ("tfpilot_index_refresh_lag_seconds", "gauge"),
];

/// The value of one series of this process's recorder (installed by the
/// call), `0` when it has none yet. Counters only grow, so a test reads
/// one before and after what it does.
pub fn series(name_and_labels: &str) -> f64 {
    server::meters::handle()
        .render()
        .lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// A token of scope `metrics` for a new user `login` of `role`.
pub async fn metrics_token(app: &TestApp, login: &str, role: Role) -> String {
    let store = app.requests_store();
    server::auth::Users::new(store.clone())
        .add(login, role, None)
        .await
        .expect("add user");
    let (_, token) = server::auth::Tokens::new(store)
        .create_scoped(login, "prometheus", Some(TokenScope::Metrics))
        .await
        .expect("token");
    token
}

/// A server on the fake executor (every run succeeds) with one request
/// filed, planned and read over the API: its id.
pub async fn planned_app() -> (TestApp, String) {
    let exec = Arc::new(FakeExecutor::new().with_auto_complete(|_| Outcome::success()));
    let app = TestApp::builder().executor(exec).spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    let id = app
        .file(&alice, "dev", "sqs-queue", json!({"name": "metered"}))
        .await;
    app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    (app, id)
}

/// The page as `token` reads it: status, content type and text.
pub async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String, String) {
    let mut req = app.client.get(app.url("/metrics"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, res.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_family_is_there_after_a_request_is_filed_and_planned() {
    let (app, id) = planned_app().await;
    let scraper = metrics_token(&app, "prometheus", Role::Viewer).await;
    let (status, kind, text) = scrape(&app, Some(&scraper)).await;
    assert_eq!(status, 200, "{text}");
    assert!(kind.starts_with("text/plain"), "{kind}");
    for (family, kind) in FAMILIES {
        assert!(
            text.contains(&format!("# TYPE {family} {kind}\n")),
            "{family} is not a {kind}:\n{text}"
        );
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "{family} has no help:\n{text}"
        );
    }
    // Routes are templates: the request read over the API is counted
    // under `/api/v1/requests/{id}`, and no id is ever a label.
    let series = [
        r#"tfpilot_http_requests_total{method="GET",route="/api/v1/requests/{id}",status="200"}"#,
        r#"tfpilot_http_requests_total{method="POST",route="/api/v1/requests",status="201"}"#,
        r#"tfpilot_http_request_duration_seconds_bucket{method="GET",route="/api/v1/requests/{id}",le="#,
        r#"tfpilot_runs_total{executor="fake",kind="plan",conclusion="success"}"#,
        r#"tfpilot_step_duration_seconds_bucket{step="create_to_pr",le="#,
        r#"tfpilot_step_duration_seconds_bucket{step="plan",le="#,
        r#"tfpilot_requests{status="plan_ready"}"#,
        r#"tfpilot_requests{status="applied"}"#,
        r#"tfpilot_store_operations_total{bucket="requests",operation="put"}"#,
        r#"tfpilot_store_errors_total{bucket="requests",kind="conflict"}"#,
        r#"tfpilot_cas_conflicts_total{record="request"}"#,
        r#"tfpilot_upstream_calls_total{service="github",outcome="rate_limited"}"#,
        r#"tfpilot_rate_limit_waits_total{service="slack"}"#,
    ];
    for series in series {
        assert!(text.contains(series), "no {series}:\n{text}");
    }
    assert!(!text.contains(&id), "a request id is a label:\n{text}");
    assert!(
        !text.contains("summary"),
        "latencies are histograms:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_open_event_stream_is_counted() {
    let app = TestApp::spawn().await;
    let scraper = metrics_token(&app, "prometheus", Role::Viewer).await;
    let alice = app.token("alice", Role::Requester).await;
    let stream = app
        .client
        .get(app.url("/api/v1/events"))
        .bearer_auth(&alice)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    // Other tests of this process open streams too: at least this one.
    let (_, _, text) = scrape(&app, Some(&scraper)).await;
    let open: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("tfpilot_sse_clients "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no tfpilot_sse_clients:\n{text}"));
    assert!(open >= 1.0, "{open}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_apply_is_counted_and_timed() {
    let (app, id) = planned_app().await;
    let bob = app.token("bob", Role::Approver).await;
    for step in ["approve", "merge", "apply"] {
        let res = app
            .post_as(&bob, &format!("/api/v1/requests/{id}/{step}"), &json!({}))
            .await;
        assert_eq!(res.status(), 202, "{step}");
    }
    app.wait_for_status(&bob, &id, "applied", WAIT).await;
    let runs = r#"tfpilot_runs_total{executor="fake",kind="apply",conclusion="success"}"#;
    let timed = r#"tfpilot_step_duration_seconds_count{step="apply"}"#;
    assert!(series(runs) >= 1.0, "{runs}");
    assert!(series(timed) >= 1.0, "{timed}");
}
