//! The whole life of a request on a project whose `executor = "tfc"`:
//! tfpilot's embedded repos and PRs, runs in the fake's HCP Terraform
//! workspaces (real terraform on the uploaded archives), a local project
//! beside it still on local terraform.

use crate::flow::{act, status_of, wait_archived};
use crate::support::tfc::{Fake, Policy, TOKEN};
use crate::support::{TestApp, WAIT};
use app::domain::policy::Role;
use serde_json::{Value, json};

const CONFIG: &str = r#"
[projects.payments]
title = "Payments"
environments = ["dev", "prod"]
executor = "tfc"

[projects.payments.tfc]
organization = "acme"
workspaces = { dev = "payments-dev", prod = "payments-prod" }

[projects.sandbox]
title = "Sandbox"
environments = ["dev", "prod"]
"#;

/// A server whose `payments` project runs on `fake`; the temp dir holds
/// its config, and the id is the dev workspace's.
pub async fn on_tfc(fake: &Fake) -> (TestApp, tempfile::TempDir, String) {
    let dev = fake.add_workspace("acme", "payments-dev", "envs/dev");
    fake.add_workspace("acme", "payments-prod", "envs/prod");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tfpilot.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let url = fake.url();
    let app = TestApp::builder()
        .env(&[
            ("TFPILOT_CONFIG", config.to_str().unwrap()),
            ("TFPILOT_TFC_URL", url.as_str()),
            ("TFPILOT_TFC_TOKEN", TOKEN),
        ])
        .spawn()
        .await;
    (app, dir, dev)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tfc_a_request_goes_from_plan_to_destroyed_in_hcp_terraform() {
    let fake = Fake::start().await;
    let (app, _config, dev) = on_tfc(&fake).await;
    fake.set_cost("payments-dev", "0.00", "0.00");
    fake.set_policy("payments-dev", Policy::Pass);
    fake.set_opa("payments-dev", 0);
    let alice = app.token("alice", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;

    let id = app
        .file_in(
            &alice,
            "payments",
            "dev",
            "s3-bucket",
            json!({"name": "tfc-flow-bucket"}),
        )
        .await;
    let ready = app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    let plan_run = &ready["request"]["runs"]["plan"]["attempts"][0];
    let url = plan_run["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "{}/app/acme/workspaces/payments-dev/runs/",
            fake.url()
        )),
        "the run links to HCP Terraform: {url}"
    );
    let plan: Value = app
        .get_as(&alice, &format!("/api/v1/requests/{id}/plan"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plan["summary"]["add"], 1, "{plan:#}");
    assert!(
        plan["changes"][0]["address"]
            .as_str()
            .unwrap()
            .contains(&format!("module.s3-bucket_{id}"))
    );
    let runs = fake.runs();
    let planned = runs
        .iter()
        .find(|r| {
            r.message
                .starts_with(&format!("tfpilot plan {id} attempt 1"))
        })
        .expect("a plan run in the workspace");
    assert!(planned.plan_only, "PR plans are plan-only");
    let log = app
        .get_as(&alice, &format!("/api/v1/requests/{id}/log?kind=plan"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        log.contains("1 to add"),
        "the log is HCP Terraform's: {log}"
    );

    // The request page shows the workspace's checks beside the plan.
    let cookie = app.signed_in("carol", Role::Requester).await;
    let (status, html) = app.page_as(&cookie, &format!("/requests/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"checks\""), "{html}");
    assert!(html.contains("data-kind=\"cost\""), "{html}");
    assert!(html.contains("data-kind=\"policy\""), "{html}");
    assert!(html.contains("OPA policies"), "{html}");

    assert_eq!(act(&app, &bob, &id, "approve").await.status(), 202);
    assert_eq!(act(&app, &bob, &id, "merge").await.status(), 202);
    assert_eq!(status_of(&app, &bob, &id).await["status"], "merged");
    assert_eq!(act(&app, &bob, &id, "apply").await.status(), 202);
    let applied = app.wait_for_status(&bob, &id, "applied", WAIT).await;
    let apply = &applied["request"]["runs"]["apply"]["attempts"][0];
    assert_eq!(apply["conclusion"], "success", "{apply:#}");
    assert!(apply["ran_at"].as_str().is_some(), "{apply:#}");
    let state = std::fs::read_to_string(fake.state_file(&dev)).unwrap();
    assert!(
        state.contains(&format!("module.s3-bucket_{id}")),
        "the resource is in the workspace's state"
    );

    assert_eq!(act(&app, &alice, &id, "destroy").await.status(), 202);
    app.wait_for_status(&alice, &id, "destroyed", WAIT).await;
    wait_archived(app.requests_store().as_ref(), &id).await;
    let state = std::fs::read_to_string(fake.state_file(&dev)).unwrap();
    assert!(
        !state.contains(&format!("module.s3-bucket_{id}")),
        "the resource is destroyed in the workspace"
    );
    let kinds: Vec<String> = fake
        .runs()
        .iter()
        .filter(|r| r.message.contains(&id))
        .map(|r| r.message.split_whitespace().nth(1).unwrap().to_owned())
        .collect();
    assert!(
        kinds.iter().any(|k| k == "apply") && kinds.iter().any(|k| k == "destroy"),
        "{kinds:?}"
    );

    // The other project still runs on local terraform.
    let local = app
        .file(
            &alice,
            "dev",
            "s3-bucket",
            json!({"name": "local-beside-tfc"}),
        )
        .await;
    app.wait_for_status(&alice, &local, "plan_ready", WAIT)
        .await;
    assert!(
        fake.runs().iter().all(|r| !r.message.contains(&local)),
        "no run of the local project reached HCP Terraform"
    );
}
