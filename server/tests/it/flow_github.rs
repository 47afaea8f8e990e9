//! The core flow in production mode: the GitHub host and the Actions
//! executor talking to the stateful fake, which runs real terraform and
//! sends signed webhooks back to the server.

use crate::flow::{HAND_WRITTEN, act, status_of, wait_archived};
use crate::support::github::{Fake, SECRET, TOKEN};
use crate::support::{TestApp, WAIT, wait_until};
use app::domain::policy::Role;
use serde_json::{Value, json};

const REPO: &str = "acme/infra";

/// A fake with `acme/infra` and a server configured for it; webhooks go
/// to the server. `reconcile` is the polling period in seconds.
async fn production(reconcile: &str) -> (Fake, TestApp) {
    let fake = Fake::start().await;
    fake.create_repo(REPO).await;
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("tfpilot.toml");
    std::fs::write(
        &config,
        format!(
            "[projects.sandbox]\ntitle = \"Sandbox\"\nrepo = \"{REPO}\"\nenvironments = [\"dev\", \"prod\"]\n"
        ),
    )
    .unwrap();
    let api = fake.api_url();
    let app = TestApp::spawn_with(
        data,
        &[
            ("TFPILOT_CONFIG", config.to_str().unwrap()),
            ("TFPILOT_GITHUB_TOKEN", TOKEN),
            ("TFPILOT_GITHUB_API_URL", &api),
            ("TFPILOT_GITHUB_WEBHOOK_SECRET", SECRET),
            ("TFPILOT_RECONCILE_SECS", reconcile),
        ],
    )
    .await;
    fake.deliver_to(app.url("/api/v1/webhooks/github"));
    (fake, app)
}

async fn create(app: &TestApp, token: &str, name: &str) -> String {
    let body = json!({"project": "sandbox", "environment": "dev", "module": "s3-bucket", "config": {"name": name}});
    let created: Value = app
        .post_as(token, "/api/v1/requests", &body)
        .await
        .json()
        .await
        .unwrap();
    created["request"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created:#}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bucket_goes_from_request_to_destroyed_through_github_and_actions() {
    // Polling is slow: webhooks drive the request.
    let (fake, app) = production("3600").await;
    let git = fake.repo(REPO);
    git.push_file(
        "main",
        "envs/dev/tfpilot.s3.tf",
        HAND_WRITTEN,
        "hand-written",
    )
    .await;
    let alice = app.token("alice", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;

    let id = create(&app, &alice, "gh-flow-bucket").await;
    let ready = app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    assert!(
        ready["request"]["pr"]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://github.example/acme/infra/pull/")
    );
    let plan: Value = app
        .get_as(&alice, &format!("/api/v1/requests/{id}/plan"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plan["summary"]["add"], 1, "{plan:#}");
    assert!(plan["log"].as_str().unwrap().contains("Plan: 1 to add"));
    // The change in words, from the Actions run's plan; the PR's
    // description, written before it, says what is asked for.
    assert_eq!(
        ready["explanation"],
        "Creates 1 Terraform data resource for the S3 bucket `gh-flow-bucket` in dev with versioning on; AES256 encryption. Nothing is changed or destroyed."
    );
    let pull = fake
        .pulls(REPO)
        .into_iter()
        .find(|p| p.body.contains(&id))
        .expect("the request's PR");
    assert!(
        pull.body
            .starts_with("Asks for 1 S3 bucket `gh-flow-bucket` in dev with versioning on;"),
        "{}",
        pull.body
    );

    let log = app
        .get_as(&alice, &format!("/api/v1/requests/{id}/log"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        log.contains("Plan: 1 to add"),
        "the artifact's plan.txt: {log}"
    );

    assert_eq!(act(&app, &bob, &id, "approve").await.status(), 202);
    assert_eq!(act(&app, &bob, &id, "merge").await.status(), 202);
    assert_eq!(status_of(&app, &bob, &id).await["status"], "merged");
    assert_eq!(act(&app, &bob, &id, "apply").await.status(), 202);
    app.wait_for_status(&bob, &id, "applied", WAIT).await;
    let state_file = fake.dir.path().join("state/acme/infra/dev.tfstate");
    assert!(
        std::fs::read_to_string(&state_file)
            .unwrap()
            .contains(&format!("module.s3-bucket_{id}")),
        "applied by the Actions run"
    );

    assert_eq!(act(&app, &alice, &id, "destroy").await.status(), 202);
    let archived = app.wait_for_status(&alice, &id, "destroyed", WAIT).await;
    assert_eq!(archived["request"]["cleanup_pr"]["state"], "merged");
    wait_archived(app.requests_store().as_ref(), &id).await;
    let main = git.blob_bytes("main:envs/dev/tfpilot.s3.tf").await.unwrap();
    assert_eq!(
        String::from_utf8(main).unwrap(),
        HAND_WRITTEN,
        "the block is gone and every other byte is unchanged"
    );
    assert!(
        !std::fs::read_to_string(&state_file)
            .unwrap()
            .contains(&format!("module.s3-bucket_{id}")),
        "destroyed by the Actions run"
    );

    // Nothing was done twice.
    let pulls = fake.pulls(REPO);
    assert_eq!(pulls.len(), 2, "the request PR and the cleanup PR");
    assert!(pulls.iter().all(|p| p.merged_sha.is_some()));
    let mut titles: Vec<String> = fake
        .runs(REPO)
        .iter()
        .map(|r| r.display_title.clone())
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            format!("tfpilot apply {id} attempt 1"),
            format!("tfpilot destroy {id} attempt 1"),
            format!("tfpilot plan {id} attempt 1"),
        ]
    );
    let branches = git.branches().await;
    assert!(branches.contains(&format!("request/{id}")));
    assert!(branches.contains(&format!("cleanup/{id}")));
    assert!(
        fake.deliveries()
            .iter()
            .any(|(e, a, sent)| e == "workflow_run" && a == "completed" && *sent),
        "webhooks were delivered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lost_webhooks_are_repaired_by_polling() {
    let (fake, app) = production("1").await;
    fake.drop_webhooks(true);
    let alice = app.token("alice", Role::Requester).await;
    let id = create(&app, &alice, "gh-lost-hooks").await;
    let ready = app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    assert_eq!(
        ready["request"]["runs"]["plan"]["attempts"][0]["summary"]["add"],
        1
    );
    let lost = fake.deliveries();
    assert!(
        lost.iter()
            .any(|(e, a, sent)| e == "workflow_run" && a == "completed" && !sent),
        "the completion webhook was lost: {lost:?}"
    );
    assert_eq!(
        fake.runs(REPO).len(),
        1,
        "polling found the run, no second dispatch"
    );
}

/// Creates a bucket request and takes it to `merged` (planned, approved).
async fn merged(app: &TestApp, alice: &str, bob: &str, name: &str) -> String {
    let id = create(app, alice, name).await;
    app.wait_for_status(alice, &id, "plan_ready", WAIT).await;
    assert_eq!(act(app, bob, &id, "approve").await.status(), 202);
    assert_eq!(act(app, bob, &id, "merge").await.status(), 202);
    app.wait_for_status(bob, &id, "merged", WAIT).await;
    id
}

/// The request's newest apply attempt once it completed.
async fn completed_apply(app: &TestApp, token: &str, id: &str) -> Value {
    wait_until(WAIT, &format!("the apply of {id} to complete"), || async {
        let view = status_of(app, token, id).await;
        let latest = view["request"]["runs"]["apply"]["attempts"]
            .as_array()
            .and_then(|a| a.iter().max_by_key(|a| a["attempt"].as_u64()))
            .cloned();
        latest
            .filter(|a| a["status"] == "completed")
            .ok_or_else(|| format!("{view:#}"))
    })
    .await
}

fn state_of(fake: &Fake) -> String {
    std::fs::read_to_string(fake.dir.path().join("state/acme/infra/dev.tfstate"))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn actions_applies_run_the_tip_of_main_with_their_scope() {
    let (fake, app) = production("3600").await;
    let git = fake.repo(REPO);
    let alice = app.token("alice", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;
    let id = merged(&app, &alice, &bob, "gh-scoped-apply").await;
    let merge_sha = status_of(&app, &bob, &id).await["request"]["pr"]["merged_sha"]
        .as_str()
        .unwrap()
        .to_owned();
    // Main moves on after the merge (no resource in it): the apply runs
    // the new tip, not the merge commit.
    let tip = git
        .push_file(
            "main",
            "envs/dev/hand.tf",
            HAND_WRITTEN,
            "hand-written locals",
        )
        .await;
    assert_ne!(tip, merge_sha);

    assert_eq!(act(&app, &bob, &id, "apply").await.status(), 202);
    app.wait_for_status(&bob, &id, "applied", WAIT).await;
    let attempt = completed_apply(&app, &bob, &id).await;
    assert_eq!(attempt["conclusion"], "success", "{attempt:#}");
    assert_eq!(attempt["ran_at"], tip.as_str(), "{attempt:#}");
    assert!(state_of(&fake).contains(&format!("module.s3-bucket_{id}")));

    let runs = fake.runs(REPO);
    let apply = runs
        .iter()
        .find(|r| r.workflow == "tfpilot-apply.yml")
        .expect("an apply was dispatched");
    assert_eq!(apply.dispatch_ref, "main");
    assert!(
        !apply.inputs.contains_key("ref"),
        "an apply names no commit: {:?}",
        apply.inputs
    );
    let scope: Value = serde_json::from_str(apply.inputs["scope"].as_str().unwrap()).unwrap();
    assert_eq!(scope["kind"], "apply", "{scope:#}");
    assert!(
        scope["apply"].as_array().unwrap().contains(&json!(id)),
        "{scope:#}"
    );
    // Plans still run their commit (the PR head).
    let plan = runs
        .iter()
        .find(|r| r.workflow == "tfpilot-plan.yml")
        .unwrap();
    assert_eq!(plan.dispatch_ref, "main");
    let head =
        status_of(&app, &bob, &id).await["request"]["runs"]["plan"]["attempts"][0]["head_sha"]
            .clone();
    assert_eq!(plan.inputs["ref"], head);
    assert!(!plan.inputs.contains_key("scope"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hand_written_resource_on_main_blocks_the_actions_apply() {
    let (fake, app) = production("3600").await;
    let git = fake.repo(REPO);
    let alice = app.token("alice", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;
    let id = merged(&app, &alice, &bob, "gh-blocked-apply").await;
    // Someone pushes a resource outside any tfpilot block straight to main.
    let tip = git
        .push_file(
            "main",
            "envs/dev/hand.tf",
            "resource \"terraform_data\" \"hand\" {\n  input = \"by hand\"\n}\n",
            "hand-written resource",
        )
        .await;

    assert_eq!(act(&app, &bob, &id, "apply").await.status(), 202);
    let attempt = completed_apply(&app, &bob, &id).await;
    assert_eq!(attempt["conclusion"], "blocked", "{attempt:#}");
    assert_eq!(
        attempt["blocked"],
        json!([{"address": "terraform_data.hand", "action": "create", "owner": null}]),
        "{attempt:#}"
    );
    assert_eq!(attempt["ran_at"], tip.as_str(), "{attempt:#}");
    let state = state_of(&fake);
    assert!(
        !state.contains(&format!("module.s3-bucket_{id}")) && !state.contains("terraform_data"),
        "nothing was applied: {state}"
    );
    // GitHub saw a failed run; its check ran from the repo's own script.
    let runs = fake.runs(REPO);
    let apply = runs
        .iter()
        .find(|r| r.workflow == "tfpilot-apply.yml")
        .unwrap();
    assert_eq!(apply.conclusion.as_deref(), Some("failure"));
    assert_eq!(apply.dispatch_ref, "main");
    assert!(
        git.blob_bytes(&format!("{tip}:.github/tfpilot/check_plan.py"))
            .await
            .is_some(),
        "the seeded repo carries the check script"
    );
}
