//! Adopting drift with the local executor and real terraform, offline: a
//! queue's retention edited in the state out of band, a drift run that
//! finds it, the page's diff, Adopt from the page's form (a new revision
//! whose config has the value that is there), applied, and a clean drift
//! run after; the refusal of drift no input can express.

use super::{applied, drift_run};
use crate::flow::{act, status_of};
use crate::support::{TestApp, WAIT, wait_until};
use app::domain::policy::Role;
use serde_json::{Value, json};

/// Sets `key` of the `input` of request `id`'s `terraform_data.this` in the
/// dev state to `value`, as a change made outside Terraform would.
fn edit_input(app: &TestApp, id: &str, key: &str, value: Value) {
    let path = app.data.path().join("exec/state/sandbox/dev.tfstate");
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let resource = state["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["module"].as_str().unwrap_or("").ends_with(id))
        .expect("the request's resource is in the state");
    let input = &mut resource["instances"][0]["attributes"]["input"];
    // A dynamic attribute is stored with its type: {"value": …, "type": …}.
    let object = if input.get("value").is_some() {
        &mut input["value"]
    } else {
        input
    };
    assert!(object.get(key).is_some(), "{key} in {object}");
    object[key] = value;
    state["serial"] = json!(state["serial"].as_u64().unwrap() + 1);
    std::fs::write(&path, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
}

async fn adopt(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.post_as(
        token,
        &format!("/api/v1/requests/{id}/adopt-drift"),
        &json!({}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn adopt_files_a_revision_with_what_is_there_and_the_next_drift_run_is_clean() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;
    let id = app
        .file(&alice, "dev", "sqs-queue", json!({"name": "adopt-q"}))
        .await;
    applied(&app, &bob, &id).await;
    assert_eq!(adopt(&app, &bob, &id).await.status(), 409, "no drift yet");

    edit_input(&app, &id, "message_retention_seconds", json!(86400));
    let found = drift_run(&app, &bob).await;
    assert_eq!(found["drifted"], json!([id]), "{found:#}");
    let view = status_of(&app, &bob, &id).await;
    let change = &view["request"]["drift"]["changes"][0];
    assert_eq!(change["action"], "update", "{change:#}");
    assert_eq!(change["attributes"][0]["name"], "input", "{change:#}");

    // The page: the badge, the difference down to the key, Adopt offered.
    let cookie = app.signed_in("bea", Role::Approver).await;
    let (code, html) = app.page_as(&cookie, &format!("/requests/{id}")).await;
    assert_eq!(code, 200);
    assert!(html.contains("data-testid=\"drifted\""), "badge");
    let section = html
        .split("data-testid=\"drift\"")
        .nth(1)
        .expect("a drift section");
    assert!(
        section.contains("input.message_retention_seconds"),
        "{section}"
    );
    assert!(
        section.contains("86400") && section.contains("345600"),
        "{section}"
    );
    assert!(section.contains("data-action=\"adopt-drift\""), "{section}");
    assert!(section.contains("Revert drift (apply again)"), "{section}");

    // A viewer may not; an approver adopts from the page's form.
    let viewer = app.token("vic", Role::Viewer).await;
    assert_eq!(adopt(&app, &viewer, &id).await.status(), 403);
    let res = app
        .client
        .post(app.url(&format!("/requests/{id}/act")))
        .header("cookie", &cookie)
        .header("origin", app.url(""))
        .form(&[("action", "adopt-drift")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("/requests/{id}"), "no error");
    let view = status_of(&app, &bob, &id).await;
    assert_eq!(view["request"]["revision"], 2, "{view:#}");
    assert_eq!(
        view["request"]["config"]["message_retention_seconds"],
        86400
    );
    let audit: Value = app
        .get_as(&bob, &format!("/api/v1/audit?request={id}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        audit
            .to_string()
            .contains("message_retention_seconds 345600 → 86400"),
        "{audit:#}"
    );
    // Adopting again while the revision waits is refused.
    let res = adopt(&app, &bob, &id).await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["rule"], "drift.not_applied", "{body}");

    // Planned, approved and applied as usual: the drift is gone.
    app.wait_for_status(&bob, &id, "plan_ready", WAIT).await;
    for action in ["approve", "merge", "apply"] {
        let res = act(&app, &bob, &id, action).await;
        assert_eq!(res.status(), 202, "{action}: {}", res.text().await.unwrap());
    }
    wait_until(
        WAIT,
        "the adopted revision to apply and clear the drift",
        || async {
            let view = status_of(&app, &bob, &id).await;
            if view["status"] == "applied" && view["request"]["drift"].is_null() {
                return Ok(());
            }
            Err(format!("{view:#}"))
        },
    )
    .await;
    let after = drift_run(&app, &bob).await;
    assert_eq!(after["drifted"], json!([]), "{after:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drift_no_input_expresses_is_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;
    let id = app
        .file(
            &alice,
            "dev",
            "sqs-queue",
            json!({"name": "refuse-q", "dlq_max_receive_count": 5}),
        )
        .await;
    applied(&app, &bob, &id).await;
    edit_input(&app, &id, "dlq_name", json!("someone-elses-dlq"));
    let found = drift_run(&app, &bob).await;
    assert_eq!(found["drifted"], json!([id]), "{found:#}");

    let res = adopt(&app, &alice, &id).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "drift", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("The drift cannot be adopted: `input.dlq_name` of `module.sqs-queue_")
            && message.contains("no input of the module sets it"),
        "{message}"
    );
    let view = status_of(&app, &bob, &id).await;
    assert_eq!(view["request"]["revision"], 1, "nothing filed");

    // The page says why instead of offering the button.
    let cookie = app.signed_in("alice-web", Role::Requester).await;
    let (_, html) = app.page_as(&cookie, &format!("/requests/{id}")).await;
    let section = html.split("data-testid=\"drift\"").nth(1).expect("section");
    assert!(
        !section.contains("data-action=\"adopt-drift\""),
        "{section}"
    );
    assert!(
        section.contains("no input of the module sets it"),
        "{section}"
    );
}
