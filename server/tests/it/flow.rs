//! The core flow end to end in the embedded mode, without a browser: local
//! Git, real terraform on the sandbox modules.

use crate::support::{TestApp, WAIT, root, wait_until};
use app::domain::ids::ProjectKey;
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::git::local::{LocalGit, MAIN};
use server::git::{FileChange, GitHost};
use std::time::Duration;

pub const HAND_WRITTEN: &str = "# Hand-written infrastructure: tfpilot must not touch a byte of it.\nlocals {\n  team = \"platform\"   # odd spacing kept\n}\n";

pub async fn status_of(app: &TestApp, token: &str, id: &str) -> Value {
    app.get_as(token, &format!("/api/v1/requests/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

/// Waits until the request moved from `requests/` to `history/` (the
/// status reads `destroyed` a moment before the archive lands).
pub async fn wait_archived(store: &dyn server::store::ObjectStore, id: &str) {
    let what = format!("request {id} to be archived");
    wait_until(Duration::from_secs(30), &what, || async {
        if store.get(&format!("history/{id}.json")).await.is_ok()
            && store.get(&format!("requests/{id}.json")).await.is_err()
        {
            return Ok(());
        }
        Err("not yet in history/, or still in requests/".to_owned())
    })
    .await;
}

pub async fn act(app: &TestApp, token: &str, id: &str, action: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/requests/{id}/{action}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bucket_goes_from_request_to_destroyed() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;

    // A hand-written file shares the block's file in the repo.
    let project = ProjectKey::parse("sandbox").unwrap();
    let git = LocalGit::new(
        app.data.path().join("git"),
        root().join("infra-workflows/template"),
        Some(root().join("infra-workflows/sandbox")),
        app.requests_store(),
    );
    let main = git.ensure_repo(&project).await.unwrap();
    let change = FileChange {
        path: "envs/dev/tfpilot.s3.tf".into(),
        content: Some(HAND_WRITTEN.into()),
    };
    git.commit(&project, MAIN, &main, &[change], "hand-written")
        .await
        .unwrap();

    let body = json!({"project": "sandbox", "environment": "dev", "module": "s3-bucket", "config": {"name": "flow-bucket-1"}});
    let created: Value = app
        .post_as(&alice, "/api/v1/requests", &body)
        .await
        .json()
        .await
        .unwrap();
    let id = created["request"]["id"].as_str().unwrap().to_owned();

    let ready = app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    let pr = &ready["request"]["pr"];
    assert_eq!(pr["branch"], format!("request/{id}"));
    let block_file = git
        .read_file(&project, &format!("request/{id}"), "envs/dev/tfpilot.s3.tf")
        .await
        .unwrap()
        .unwrap();
    assert!(
        block_file.starts_with(HAND_WRITTEN),
        "the hand-written bytes come first, unchanged"
    );
    assert!(block_file.contains(&format!("# --- tfpilot:begin:{id} ---")));
    let plan: Value = app
        .get_as(&alice, &format!("/api/v1/requests/{id}/plan"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plan["summary"]["add"], 1, "{plan:#}");
    assert_eq!(plan["summary"]["destroy"], 0);
    assert!(
        plan["changes"][0]["address"]
            .as_str()
            .unwrap()
            .contains(&format!("module.s3-bucket_{id}"))
    );

    let log = app
        .get_as(&alice, &format!("/api/v1/requests/{id}/log?kind=plan"))
        .await;
    assert_eq!(log.status(), 200);
    assert!(
        log.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let log = log.text().await.unwrap();
    assert!(
        log.contains("$ terraform plan") && log.contains("1 to add"),
        "{log}"
    );
    let bad = app
        .get_as(&alice, &format!("/api/v1/requests/{id}/log?kind=nope"))
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json::<Value>().await.unwrap()["error"]["field"], "kind");
    assert_eq!(
        app.get_as(&alice, &format!("/api/v1/requests/{id}/log?kind=destroy"))
            .await
            .status(),
        409,
        "no destroy run yet (the request is there: not a 404)"
    );

    let refused = act(&app, &alice, &id, "approve").await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"]["rule"],
        "role.approver"
    );
    assert_eq!(
        act(&app, &bob, &id, "merge").await.status(),
        409,
        "not approved yet"
    );

    assert_eq!(act(&app, &bob, &id, "approve").await.status(), 202);
    assert_eq!(status_of(&app, &bob, &id).await["status"], "approved");
    assert_eq!(act(&app, &bob, &id, "merge").await.status(), 202);
    assert_eq!(status_of(&app, &bob, &id).await["status"], "merged");
    assert_eq!(act(&app, &bob, &id, "apply").await.status(), 202);
    app.wait_for_status(&bob, &id, "applied", WAIT).await;
    let state_file = app.data.path().join("exec/state/sandbox/dev.tfstate");
    let state = std::fs::read_to_string(&state_file).unwrap();
    assert!(
        state.contains(&format!("module.s3-bucket_{id}")),
        "the resource is in the state"
    );

    assert_eq!(act(&app, &alice, &id, "destroy").await.status(), 202);
    let archived = app.wait_for_status(&alice, &id, "destroyed", WAIT).await;
    assert_eq!(archived["request"]["cleanup_pr"]["state"], "merged");
    let store = app.requests_store();
    wait_archived(store.as_ref(), &id).await;
    let after = git
        .read_file(&project, MAIN, "envs/dev/tfpilot.s3.tf")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after, HAND_WRITTEN,
        "the block is gone and every other byte is unchanged"
    );
    let state = std::fs::read_to_string(&state_file).unwrap();
    assert!(
        !state.contains(&format!("module.s3-bucket_{id}")),
        "the resource is destroyed"
    );
    let page: Value = app
        .get_as(&alice, "/api/v1/requests")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] != id.as_str()),
        "dropped from the index"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn production_needs_the_allow_lists_and_an_approver_merges_the_cleanup() {
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(
        data,
        &[
            ("TFPILOT_PROD_ALLOWED_USERS", "pat"),
            ("TFPILOT_DESTROY_PROD_ALLOWED_USERS", "dora"),
        ],
    )
    .await;
    let alice = app.token("alice", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;
    let pat = app.token("pat", Role::Approver).await;
    let dora = app.token("dora", Role::Admin).await;

    let body = json!({"project": "sandbox", "environment": "prod", "module": "sqs-queue", "config": {"name": "orders"}});
    let created: Value = app
        .post_as(&alice, "/api/v1/requests", &body)
        .await
        .json()
        .await
        .unwrap();
    let id = created["request"]["id"].as_str().unwrap().to_owned();
    app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;

    let refused = act(&app, &bob, &id, "approve").await;
    assert_eq!(refused.status(), 403);
    let err: Value = refused.json().await.unwrap();
    assert_eq!(err["error"]["rule"], "prod.allow_list");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("prod allow-list")
    );
    for step in ["approve", "merge", "apply"] {
        assert_eq!(act(&app, &pat, &id, step).await.status(), 202, "{step}");
        if step == "merge" {
            assert_eq!(status_of(&app, &pat, &id).await["status"], "merged");
        }
    }
    app.wait_for_status(&pat, &id, "applied", WAIT).await;

    let refused = act(&app, &pat, &id, "destroy").await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"]["rule"],
        "prod.destroy_allow_list"
    );
    assert_eq!(act(&app, &dora, &id, "destroy").await.status(), 202);
    let waiting = wait_until(WAIT, "the cleanup PR", || async {
        let view = status_of(&app, &dora, &id).await;
        match view["request"]["cleanup_pr"]["state"].as_str() {
            Some(_) => Ok(view),
            None => Err(format!("{}", view["status"])),
        }
    })
    .await;
    assert_eq!(waiting["status"], "destroying");
    assert_eq!(
        waiting["request"]["cleanup_pr"]["state"], "open",
        "production cleanup waits for an approver"
    );
    assert_eq!(act(&app, &pat, &id, "merge").await.status(), 202);
    app.wait_for_status(&pat, &id, "destroyed", WAIT).await;
    let project = ProjectKey::parse("sandbox").unwrap();
    let git = LocalGit::new(
        app.data.path().join("git"),
        root().join("infra-workflows/template"),
        Some(root().join("infra-workflows/sandbox")),
        app.requests_store(),
    );
    let file = git
        .read_file(&project, MAIN, "envs/prod/tfpilot.sqs.tf")
        .await
        .unwrap();
    assert_eq!(file, None, "the file held only the block, so it is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_plan_can_be_retried_and_fixed_by_a_new_revision() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    // Valid for the registry, refused by the module: FIFO topics take no email.
    let body = json!({"project": "sandbox", "environment": "dev", "module": "sns-topic",
        "config": {"name": "alerts", "fifo": true, "email_subscriptions": ["ops@example.com"]}});
    let created: Value = app
        .post_as(&alice, "/api/v1/requests", &body)
        .await
        .json()
        .await
        .unwrap();
    let id = created["request"]["id"].as_str().unwrap().to_owned();
    let failed = app.wait_for_status(&alice, &id, "failed", WAIT).await;
    assert_eq!(failed["failed_step"], "plan");
    let events: Vec<String> = failed["request"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        events
            .iter()
            .any(|d| d.contains("failed: terraform plan failed")),
        "{events:#?}"
    );

    assert_eq!(act(&app, &alice, &id, "retry").await.status(), 202);
    let again = wait_until(WAIT, "the retried plan to fail", || async {
        let view = status_of(&app, &alice, &id).await;
        if view["status"] == "failed" && view["request"]["runs"]["plan"]["current_attempt"] == 2 {
            return Ok(view);
        }
        Err(format!("{view:#}"))
    })
    .await;
    assert_eq!(
        again["request"]["runs"]["plan"]["attempts"][1]["conclusion"],
        "failure"
    );
    let first_pr = again["request"]["pr"]["number"].as_u64().unwrap();

    let fixed = json!({"config": {"name": "alerts", "fifo": true, "email_subscriptions": []}});
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/requests/{id}")))
        .bearer_auth(&alice)
        .json(&fixed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let immutable = json!({"config": {"name": "alerts", "fifo": false}});
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/requests/{id}")))
        .bearer_auth(&alice)
        .json(&immutable)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "fifo is immutable");
    let ready = app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    assert_eq!(ready["request"]["revision"], 2);
    assert_eq!(ready["request"]["pr"]["branch"], format!("request/{id}-r2"));
    assert_ne!(
        ready["request"]["pr"]["number"].as_u64().unwrap(),
        first_pr,
        "a new PR supersedes the old"
    );
}
