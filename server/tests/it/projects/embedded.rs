//! In the embedded mode a project created at runtime gets its local repo
//! at once, and its requests are filed, planned and approved by its own
//! members — an approver there who is only a requester elsewhere.

use super::send;
use crate::support::{TestApp, WAIT};
use app::domain::policy::Role;
use reqwest::Method;
use serde_json::json;
use server::exec::fake::{FakeExecutor, Outcome};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_project_has_its_repo_and_its_own_approvers() {
    let exec = Arc::new(FakeExecutor::new().with_auto_complete(|_| Outcome::success()));
    let app = TestApp::builder().executor(exec).spawn().await;
    let ada = app.token("ada", Role::Admin).await;
    let rita = app.token("rita", Role::Requester).await;
    let carl = app.token("carl", Role::Requester).await;
    let new = json!({"key": "payments", "title": "Payments", "environments": ["dev", "prod"],
                     "members": {"carl": "approver"}});
    let (status, body) = send(&app, Method::POST, &ada, "/api/v1/projects", Some(&new)).await;
    assert_eq!(status, 201, "{body}");
    assert!(
        app.data.path().join("git/payments.git").is_dir(),
        "the local repo is created with the project"
    );

    let here = app
        .file_in(
            &rita,
            "payments",
            "dev",
            "sqs-queue",
            json!({"name": "orders"}),
        )
        .await;
    let there = app
        .file(&rita, "dev", "sqs-queue", json!({"name": "jobs"}))
        .await;
    app.wait_for_status(&rita, &here, "plan_ready", WAIT).await;
    app.wait_for_status(&rita, &there, "plan_ready", WAIT).await;

    let allowed = |view: serde_json::Value| -> Vec<String> {
        view["allowed_actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["decision"] == "allowed")
            .map(|a| a["action"].as_str().unwrap().to_owned())
            .collect()
    };
    let view = app.get_as(&carl, &format!("/api/v1/requests/{here}")).await;
    let mine = allowed(view.json().await.unwrap());
    assert!(mine.contains(&"approve".to_owned()), "{mine:?}");
    let view = app
        .get_as(&carl, &format!("/api/v1/requests/{there}"))
        .await;
    let theirs = allowed(view.json().await.unwrap());
    assert!(!theirs.contains(&"approve".to_owned()), "{theirs:?}");
    let (status, body) = send(
        &app,
        Method::POST,
        &carl,
        &format!("/api/v1/requests/{there}/approve"),
        None,
    )
    .await;
    assert_eq!(status, 403, "carl is a requester in sandbox: {body}");
    let (status, body) = send(
        &app,
        Method::POST,
        &carl,
        &format!("/api/v1/requests/{here}/approve"),
        None,
    )
    .await;
    assert_eq!(status, 202, "carl approves in payments: {body}");
}
