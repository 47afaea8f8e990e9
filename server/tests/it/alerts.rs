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

/// The jobs the log lists for `request`.
async fn jobs_of(app: &crate::support::TestApp, token: &str, request: &str) -> Vec<Value> {
    let page: Value = app
        .get_as(token, &format!("/api/v1/jobs?request={request}"))
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().cloned().unwrap_or_default()
}

/// Waits until `request` has a job in `status`; the job.
async fn wait_for_job(
    app: &crate::support::TestApp,
    token: &str,
    request: &str,
    status: &str,
) -> Value {
    crate::support::wait_until(
        Duration::from_secs(60),
        &format!("a {status} job for {request}"),
        || async {
            let jobs = jobs_of(app, token, request).await;
            match jobs.iter().find(|j| j["status"] == status) {
                Some(j) => Ok(j.clone()),
                None => Err(format!("{jobs:?}")),
            }
        },
    )
    .await
}

/// How many notifications Alertmanager says it sent to webhooks.
async fn webhook_notifications(am: &Alertmanager) -> f64 {
    let text = reqwest::get(format!("{}/metrics", am.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| {
            l.starts_with("alertmanager_notifications_total")
                && l.contains("integration=\"webhook\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_alert_from_alertmanager_applies_a_dev_revision_waits_in_prod_and_a_resend_files_nothing()
 {
    use crate::support::{TestApp, WAIT};
    use app::domain::policy::Role;
    use serde_json::json;
    use server::exec::fake::{FakeExecutor, Outcome};

    let exec = std::sync::Arc::new(FakeExecutor::new().with_auto_complete(|_| Outcome::success()));
    let app = TestApp::builder().executor(exec).spawn().await;
    let bot = crate::jobs::automation_token(&app, "alertmanager").await;
    crate::jobs::put_policy(&app, crate::jobs::scale_policy()).await;
    let alice = app.token("alice", Role::Requester).await;
    let pat = app.token("pat", Role::Approver).await;
    let config = |name: &str| json!({"name": name, "dlq_max_receive_count": 3});
    let dev = app.file(&alice, "dev", "sqs-queue", config("orders")).await;
    app.wait_for_status(&alice, &dev, "plan_ready", WAIT).await;
    for action in ["approve", "merge", "apply"] {
        assert_eq!(
            crate::flow::act(&app, &pat, &dev, action).await.status(),
            202
        );
    }
    app.wait_for_status(&alice, &dev, "applied", WAIT).await;
    let prod = app
        .file(&alice, "prod", "sqs-queue", config("payments"))
        .await;
    app.wait_for_status(&alice, &prod, "plan_ready", WAIT).await;

    // Alertmanager re-sends every group every 2 s: tfpilot must file each alert once.
    let am = Alertmanager::start(&app.url("/api/v1/alerts/alertmanager"), &bot, "2s").await;
    for (id, new_max) in [(&dev, "9"), (&prod, "7")] {
        am.fire(
            &[
                ("alertname", "QueueBacklog"),
                ("severity", "critical"),
                ("tfpilot_request", id),
            ],
            &[("new_max", new_max)],
        )
        .await;
    }

    let job = wait_for_job(&app, &alice, &dev, "succeeded").await;
    assert_eq!(job["policy"], "raise-receives");
    assert_eq!(job["steps"]["revision_filed"], 2, "{job}");
    let view = app.wait_for_status(&alice, &dev, "applied", WAIT).await;
    assert_eq!(view["request"]["revision"], 2);
    assert_eq!(view["request"]["config"]["dlq_max_receive_count"], 9);
    assert_eq!(view["request"]["approval"]["by"], "policy:raise-receives");

    let job = wait_for_job(&app, &alice, &prod, "waiting_approval").await;
    assert!(
        job["result"].as_str().unwrap().contains("production"),
        "{job}"
    );
    let view = app.wait_for_status(&alice, &prod, "plan_ready", WAIT).await;
    assert_eq!(
        view["request"]["config"]["dlq_max_receive_count"], 7,
        "the prod revision is planned"
    );
    assert!(
        view["request"]["approval"].is_null(),
        "and waits for a person: {view}"
    );

    // Alertmanager has sent the groups again since; still one job each.
    let sent_before = webhook_notifications(&am).await;
    crate::support::wait_until(
        Duration::from_secs(30),
        "Alertmanager to send the groups again",
        || async {
            let sent = webhook_notifications(&am).await;
            if sent >= sent_before + 2.0 {
                Ok(())
            } else {
                Err(format!("{sent} sent"))
            }
        },
    )
    .await;
    assert_eq!(
        jobs_of(&app, &alice, &dev).await.len(),
        1,
        "a resend files nothing"
    );
    assert_eq!(
        jobs_of(&app, &alice, &prod).await.len(),
        1,
        "a resend files nothing"
    );
}
