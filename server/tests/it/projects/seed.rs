//! tfpilot.toml's projects are seeded into the store: the file's settings
//! win across restarts while members stay; and a project created on one
//! server is served by another on the same data after its reload.

use super::{listed, send};
use crate::support::{TestApp, wait_until};
use app::domain::policy::Role;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const PAYMENTS: &str =
    "[projects.payments]\ntitle = \"Payments\"\nenvironments = [\"dev\", \"prod\"]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn configured_projects_keep_their_members_and_follow_the_file() {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("tfpilot.toml");
    std::fs::write(&config, PAYMENTS).unwrap();
    let config = config.to_str().unwrap().to_owned();
    let app = TestApp::spawn_with(data, &[("TFPILOT_CONFIG", &config)]).await;
    let ada = app.token("ada", Role::Admin).await;
    app.token("amy", Role::Requester).await;
    let (status, body) = send(&app, Method::GET, &ada, "/api/v1/projects/payments", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["managed_by_config"], true);
    assert_eq!(body["created_by"], "tfpilot.toml");
    assert_eq!(
        listed(&app, &ada).await,
        ["payments"],
        "the file names no sandbox"
    );

    let change = json!({"title": "Renamed"});
    let (status, body) = send(
        &app,
        Method::PATCH,
        &ada,
        "/api/v1/projects/payments",
        Some(&change),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["field"], "title");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tfpilot.toml"),
        "{body}"
    );
    let change = json!({"members": {"amy": "approver"}, "visibility": "members",
                        "prod_allowed_users": ["amy"]});
    let (status, body) = send(
        &app,
        Method::PATCH,
        &ada,
        "/api/v1/projects/payments",
        Some(&change),
    )
    .await;
    assert_eq!(status, 200, "data may change: {body}");

    // Restart with a changed file.
    let TestApp { data, .. } = app;
    std::fs::write(
        &config,
        PAYMENTS
            .replace("\"Payments\"", "\"Payments team\"")
            .replace("\"prod\"]", "\"prod\", \"qa\"]"),
    )
    .unwrap();
    let app = TestApp::spawn_with(data, &[("TFPILOT_CONFIG", &config)]).await;
    let (status, body) = send(&app, Method::GET, &ada, "/api/v1/projects/payments", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["title"], "Payments team", "the file's settings win");
    assert_eq!(body["environments"], json!(["dev", "prod", "qa"]));
    assert_eq!(body["members"], json!({"amy": "approver"}), "members stay");
    assert_eq!(body["visibility"], "members");
    assert_eq!(body["prod_allowed_users"], json!(["amy"]));
    assert_eq!(body["updated_by"], "tfpilot.toml");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_project_created_on_one_server_is_served_by_another() {
    let first = TestApp::spawn().await;
    let shared = first.data.path().to_str().unwrap().to_owned();
    let second = TestApp::builder()
        .env(&[
            ("TFPILOT_DATA_DIR", &shared),
            ("TFPILOT_INDEX_REFRESH_SECS", "1"),
        ])
        .spawn()
        .await;
    let ada = first.token("ada", Role::Admin).await;
    let new = json!({"key": "payments", "environments": ["dev"], "visibility": "members"});
    let (status, body) = send(&first, Method::POST, &ada, "/api/v1/projects", Some(&new)).await;
    assert_eq!(status, 201, "{body}");
    let rita = first.token("rita", Role::Requester).await;
    let filed = json!({"project": "payments", "environment": "dev", "module": "sqs-queue",
                       "config": {"name": "orders"}});
    wait_until(
        Duration::from_secs(20),
        "the second server to serve payments",
        || async {
            let (status, body) = send(
                &second,
                Method::POST,
                &ada,
                "/api/v1/requests",
                Some(&filed),
            )
            .await;
            if status == 201 {
                Ok(())
            } else {
                Err(format!("{status} {body}"))
            }
        },
    )
    .await;
    // Its access rules came along: rita is no member.
    let (status, _) = send(
        &second,
        Method::GET,
        &rita,
        "/api/v1/projects/payments",
        None,
    )
    .await;
    assert_eq!(status, 404);
}
