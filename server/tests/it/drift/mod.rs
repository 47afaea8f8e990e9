//! Drift with the local executor and real terraform, offline: two applied
//! requests, one resource removed from the state out of band, a drift run
//! that finds exactly that request, a revert that fixes it; and the
//! endpoint's bad input.

mod adopt;
mod clock;
mod fake;

use crate::flow::{act, status_of};
use crate::support::{TestApp, WAIT, wait_until};
use app::domain::policy::Role;
use serde_json::{Value, json};

async fn applied(app: &TestApp, bob: &str, id: &str) {
    app.wait_for_status(bob, id, "plan_ready", WAIT).await;
    for action in ["approve", "merge", "apply"] {
        let res = act(app, bob, id, action).await;
        assert_eq!(res.status(), 202, "{action}: {}", res.text().await.unwrap());
    }
    app.wait_for_status(bob, id, "applied", WAIT).await;
}

/// Removes request `id`'s resources from the dev state, as
/// `terraform state rm` would.
fn state_rm(app: &TestApp, id: &str) {
    let path = app.data.path().join("exec/state/sandbox/dev.tfstate");
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let resources = state["resources"].as_array_mut().unwrap();
    let before = resources.len();
    resources.retain(|r| !r["module"].as_str().unwrap_or("").ends_with(id));
    assert_eq!(
        resources.len(),
        before - 1,
        "one resource of {id} in the state"
    );
    state["serial"] = json!(state["serial"].as_u64().unwrap() + 1);
    std::fs::write(&path, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
}

/// Runs a drift check of sandbox/dev as `token` and waits for its end.
async fn drift_run(app: &TestApp, token: &str) -> Value {
    let res = app
        .post_as(token, "/api/v1/drift/sandbox/dev", &json!({}))
        .await;
    assert_eq!(res.status(), 202);
    let queued: Value = res.json().await.unwrap();
    let run = queued["run"].as_str().unwrap().to_owned();
    wait_until(WAIT, &format!("drift run {run} to end"), || async {
        let got: Value = app
            .get_as(token, "/api/v1/drift/sandbox/dev")
            .await
            .json()
            .await
            .unwrap();
        if got["run"] == run.as_str() && got["state"] == "done" {
            return Ok(got);
        }
        Err(format!("{got:#}"))
    })
    .await
}

async fn drifted_ids(app: &TestApp, token: &str) -> Vec<String> {
    let list: Value = app
        .get_as(token, "/api/v1/requests?drift=yes")
        .await
        .json()
        .await
        .unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_drift_run_finds_exactly_the_drifted_request_and_revert_fixes_it() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;
    let a = app
        .file(&alice, "dev", "s3-bucket", json!({"name": "drift-a"}))
        .await;
    applied(&app, &bob, &a).await;
    let b = app
        .file(&alice, "dev", "s3-bucket", json!({"name": "drift-b"}))
        .await;
    applied(&app, &bob, &b).await;

    let clean = drift_run(&app, &bob).await;
    assert_eq!(clean["drifted"], json!([]), "{clean:#}");

    state_rm(&app, &a);
    let found = drift_run(&app, &bob).await;
    assert_eq!(found["drifted"], json!([a]), "{found:#}");
    assert_eq!(found["unmanaged"], json!([]));
    let view = status_of(&app, &bob, &a).await;
    assert_eq!(view["status"], "applied", "drift never changes the status");
    let changes = &view["request"]["drift"]["changes"];
    assert_eq!(
        changes,
        &json!([{"address": format!("module.s3-bucket_{a}.terraform_data.this"), "action": "create"}])
    );
    assert!(status_of(&app, &bob, &b).await["request"]["drift"].is_null());
    let wait_row = || async {
        wait_until(WAIT, "the drift=yes filter", || async {
            let ids = drifted_ids(&app, &bob).await;
            if ids == [a.clone()] {
                Ok(())
            } else {
                Err(format!("{ids:?}"))
            }
        })
        .await
    };
    wait_row().await;
    // The same drift found again: nothing new is written.
    let version = view["request"]["version"].clone();
    drift_run(&app, &bob).await;
    assert_eq!(
        status_of(&app, &bob, &a).await["request"]["version"],
        version
    );

    // Revert: the request's own config applied again.
    let viewer = app.token("vic", Role::Viewer).await;
    assert_eq!(act(&app, &viewer, &a, "reapply").await.status(), 403);
    let res = act(&app, &bob, &a, "reapply").await;
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
    wait_until(WAIT, "the revert to apply and clear the drift", || async {
        let view = status_of(&app, &bob, &a).await;
        if view["status"] == "applied" && view["request"]["drift"].is_null() {
            return Ok(());
        }
        Err(format!("{view:#}"))
    })
    .await;
    let after = drift_run(&app, &bob).await;
    assert_eq!(after["drifted"], json!([]), "{after:#}");
    assert!(drifted_ids(&app, &bob).await.is_empty());
}

#[tokio::test]
async fn the_drift_endpoint_refuses_viewers_and_unknown_targets() {
    let app = TestApp::spawn().await;
    let viewer = app.token("vic", Role::Viewer).await;
    let requester = app.token("rita", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;
    let post = |token: String, path: &'static str| {
        let app = &app;
        async move { app.post_as(&token, path, &json!({})).await }
    };
    for token in [&viewer, &requester] {
        let res = post(token.clone(), "/api/v1/drift/sandbox/dev").await;
        assert_eq!(res.status(), 403);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["rule"], "role.approver", "{body}");
    }
    for path in ["/api/v1/drift/nope/dev", "/api/v1/drift/sandbox/staging"] {
        assert_eq!(post(bob.clone(), path).await.status(), 404, "{path}");
    }
    assert_eq!(
        app.get_as(&viewer, "/api/v1/drift/sandbox/dev")
            .await
            .status(),
        404,
        "no drift run yet"
    );
    let res = app.get_as(&bob, "/api/v1/requests?drift=maybe").await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "drift");
}
