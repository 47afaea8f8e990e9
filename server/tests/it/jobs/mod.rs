//! Alerts and remediation jobs: the receiver (auth, bad payloads, dedupe,
//! a full queue), jobs through the normal pipeline on the fake executor,
//! lease take-over by the clock, and two real processes on one data dir.

mod auth;
mod deadline;
mod handback;
mod page;
mod pipeline;
mod receiver;
mod replicas;
mod takeover;

use crate::support::{TestApp, wait_until};
use app::domain::policy::{Role, TokenScope};
use serde_json::{Value, json};
use std::time::Duration;

/// A token of scope automation for a new user `login` (admins give it).
pub async fn automation_token(app: &TestApp, login: &str) -> String {
    let store = app.requests_store();
    server::auth::Users::new(store.clone())
        .add(login, Role::Admin, None)
        .await
        .expect("add user");
    let (_, token) = server::auth::Tokens::new(store)
        .create_scoped(login, "alertmanager", Some(TokenScope::Automation))
        .await
        .expect("token");
    token
}

/// Creates or replaces a remediation policy over the API, as an admin.
pub async fn put_policy(app: &TestApp, policy: Value) {
    let name = policy["name"].as_str().expect("a name").to_owned();
    let store = app.requests_store();
    // The same admin for every policy of a test.
    let _ = server::auth::Users::new(store.clone())
        .add("policy-admin", Role::Admin, None)
        .await;
    let (_, admin) = server::auth::Tokens::new(store)
        .create("policy-admin", "test")
        .await
        .expect("token");
    let created = app.post_as(&admin, "/api/v1/policies", &policy).await;
    let status = created.status();
    if status == 409 {
        let replaced = app
            .client
            .put(app.url(&format!("/api/v1/policies/{name}")))
            .bearer_auth(&admin)
            .json(&policy)
            .send()
            .await
            .unwrap();
        assert_eq!(replaced.status(), 200, "{}", replaced.text().await.unwrap());
    } else {
        assert_eq!(status, 201, "{}", created.text().await.unwrap());
    }
}

/// A policy setting `dlq_max_receive_count` of the request an alert
/// names, auto-approved in dev.
pub fn scale_policy() -> Value {
    json!({
        "name": "raise-receives",
        "priority": 10,
        "enabled": true,
        "condition": {"labels": {"alertname": "QueueBacklog"}, "status": "firing"},
        "action": {"kind": "update_inputs", "request": "${label.tfpilot_request}",
                   "inputs": {"dlq_max_receive_count": "${annotation.new_max}"}},
        "auto_approve_environments": ["dev"]
    })
}

/// One Alertmanager alert.
pub fn alert(name: &str, fingerprint: &str, labels: Value, annotations: Value) -> Value {
    let mut l = labels;
    l["alertname"] = json!(name);
    json!({
        "status": "firing",
        "labels": l,
        "annotations": annotations,
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example.com/graph",
        "fingerprint": fingerprint
    })
}

/// A version 4 webhook payload of `alerts`.
pub fn payload(alerts: Vec<Value>) -> Value {
    json!({
        "version": "4",
        "groupKey": "{}:{alertname=\"QueueBacklog\"}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "tfpilot",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com",
        "alerts": alerts
    })
}

/// Posts a payload to the receiver with `token`.
pub async fn send(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.post_as(token, "/api/v1/alerts/alertmanager", body)
        .await
}

/// Waits until job `id` reads `status`; the job.
pub async fn wait_job(app: &TestApp, token: &str, id: &str, status: &str) -> Value {
    wait_until(
        Duration::from_secs(60),
        &format!("job {id} to be {status}"),
        || async {
            let job: Value = app
                .get_as(token, &format!("/api/v1/jobs/{id}"))
                .await
                .json()
                .await
                .map_err(|e| e.to_string())?;
            if job["status"] == status {
                Ok(job)
            } else {
                Err(job.to_string())
            }
        },
    )
    .await
}
