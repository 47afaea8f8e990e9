//! The projects API: create, list, get and patch; the 422/409/403/404
//! answers, each naming its field or rule; project admins manage members
//! only; members-only projects are hidden from everyone else.

use super::{listed, send};
use crate::support::TestApp;
use app::domain::policy::Role;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admins_create_list_get_and_patch_projects() {
    let app = TestApp::spawn().await;
    let ada = app.token("ada", Role::Admin).await;
    let bob = app.token("bob", Role::Requester).await;
    let amy = app.token("amy", Role::Requester).await;

    let new = json!({"key": "payments", "title": "Payments", "environments": ["dev", "prod"]});
    let (status, body) = send(&app, Method::POST, &bob, "/api/v1/projects", Some(&new)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["rule"], "projects.admin");

    let (status, body) = send(&app, Method::POST, &ada, "/api/v1/projects", Some(&new)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["key"], "payments");
    assert_eq!(body["version"], 1);
    assert_eq!(body["created_by"], "ada");
    assert_eq!(body["managed_by_config"], false);
    assert_eq!(body["visibility"], "open");

    let (status, body) = send(&app, Method::POST, &ada, "/api/v1/projects", Some(&new)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["field"], "key");
    for bad in [json!("Pay Ments"), json!(""), json!("-x")] {
        let body = json!({"key": bad, "environments": ["dev"]});
        let (status, answer) =
            send(&app, Method::POST, &ada, "/api/v1/projects", Some(&body)).await;
        assert_eq!(status, 422, "{bad}: {answer}");
        assert_eq!(answer["error"]["field"], "key", "{answer}");
    }
    let body = json!({"key": "core", "environments": []});
    let (status, answer) = send(&app, Method::POST, &ada, "/api/v1/projects", Some(&body)).await;
    assert_eq!(status, 422);
    assert_eq!(answer["error"]["field"], "environments", "{answer}");
    let body = json!({"key": "core", "environments": ["dev"], "executor": "tfc", "colour": "red"});
    let (status, answer) = send(&app, Method::POST, &ada, "/api/v1/projects", Some(&body)).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = answer["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"executor") && fields.contains(&"colour"),
        "{answer}"
    );
    let body = json!({"key": "core", "environments": ["dev"], "repo": "acme/core"});
    let (status, answer) = send(&app, Method::POST, &ada, "/api/v1/projects", Some(&body)).await;
    assert_eq!(status, 422, "a GitHub repo in the embedded mode: {answer}");
    assert_eq!(answer["error"]["field"], "repo");

    assert_eq!(listed(&app, &bob).await, ["payments", "sandbox"]);
    let (status, body) = send(&app, Method::GET, &bob, "/api/v1/projects/payments", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["title"], "Payments");
    assert_eq!(body["environments"], json!(["dev", "prod"]));

    // Members: each must be a user.
    let change = json!({"members": {"amy": "admin", "ghost": "viewer"}});
    let (status, body) = send(
        &app,
        Method::PATCH,
        &ada,
        "/api/v1/projects/payments",
        Some(&change),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "members.ghost", "{body}");
    let change = json!({"members": {"amy": "admin"}, "title": "Payments team", "drift_schedule": "every 6h"});
    let (status, body) = send(
        &app,
        Method::PATCH,
        &ada,
        "/api/v1/projects/payments",
        Some(&change),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["members"], json!({"amy": "admin"}));
    assert_eq!(body["title"], "Payments team");
    assert_eq!(
        body["drift_schedule"],
        json!({"dev": "every 6h", "prod": "every 6h"})
    );
    assert_eq!(body["version"], 2);
    assert_eq!(body["updated_by"], "ada");

    // A project admin manages the members, and nothing else.
    let change = json!({"members": {"bob": "approver"}});
    let (status, body) = send(
        &app,
        Method::PATCH,
        &amy,
        "/api/v1/projects/payments",
        Some(&change),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["members"]["bob"], "approver");
    let change = json!({"title": "Mine now"});
    let (status, body) = send(
        &app,
        Method::PATCH,
        &amy,
        "/api/v1/projects/payments",
        Some(&change),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["rule"], "projects.admin");
    let change = json!({"members": {"bob": null}});
    let (status, body) = send(
        &app,
        Method::PATCH,
        &bob,
        "/api/v1/projects/payments",
        Some(&change),
    )
    .await;
    assert_eq!(
        status, 403,
        "an approver member is no project admin: {body}"
    );
    assert_eq!(body["error"]["rule"], "projects.members");
    let (status, body) = send(
        &app,
        Method::PATCH,
        &amy,
        "/api/v1/projects/sandbox",
        Some(&change),
    )
    .await;
    assert_eq!(status, 403, "amy is admin of payments only: {body}");

    let audit = app
        .get_as(&ada, "/api/v1/audit")
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("project.create"), "{audit}");
    assert!(audit.contains("member bob → approver"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_members_only_project_is_hidden_from_everyone_else() {
    let app = TestApp::spawn().await;
    let ada = app.token("ada", Role::Admin).await;
    let amy = app.token("amy", Role::Viewer).await;
    let bob = app.token("bob", Role::Approver).await;
    let new = json!({"key": "secret", "environments": ["dev"], "visibility": "members",
                     "members": {"amy": "requester"}});
    let (status, body) = send(&app, Method::POST, &ada, "/api/v1/projects", Some(&new)).await;
    assert_eq!(status, 201, "{body}");

    assert_eq!(listed(&app, &ada).await, ["sandbox", "secret"]);
    assert_eq!(listed(&app, &amy).await, ["sandbox", "secret"]);
    assert_eq!(listed(&app, &bob).await, ["sandbox"]);
    let (status, hidden) = send(&app, Method::GET, &bob, "/api/v1/projects/secret", None).await;
    assert_eq!(status, 404);
    let (_, unknown) = send(&app, Method::GET, &bob, "/api/v1/projects/nothing", None).await;
    assert_eq!(
        hidden["error"]["message"]
            .as_str()
            .unwrap()
            .replace("secret", "X"),
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .replace("nothing", "X"),
        "hidden reads as unknown"
    );
    let change = json!({"members": {"bob": "admin"}});
    let (status, _) = send(
        &app,
        Method::PATCH,
        &bob,
        "/api/v1/projects/secret",
        Some(&change),
    )
    .await;
    assert_eq!(status, 404, "nor can it be changed");

    // Open it: everyone sees it.
    let change = json!({"visibility": "open"});
    let (status, _) = send(
        &app,
        Method::PATCH,
        &ada,
        "/api/v1/projects/secret",
        Some(&change),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(listed(&app, &bob).await, ["sandbox", "secret"]);
}
