//! Adopting an existing resource through the API: the 422s of a module
//! that cannot adopt and of an import id that is empty or spans lines, and
//! an adopt request through real terraform in the embedded mode — a plan
//! of "1 to import, 0 to add", applied, and the import block gone from the
//! next revision's commit.

use crate::flow::act;
use crate::support::{TestApp, WAIT, root};
use app::domain::ids::ProjectKey;
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::git::GitHost;
use server::git::local::{LocalGit, MAIN};

/// The shipped registry with three changes: `sns-topic` cannot adopt,
/// `s3-bucket` is imported by its optional KMS key, `sqs-queue` by its
/// name and an `Owner` tag.
fn variant_registry(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(root().join("modules-registry.toml")).unwrap();
    let text = text
        .replace(
            "[modules.sns-topic.import]\nto = \"terraform_data.this\"\nid = \"{{ config.name }}\"\n",
            "",
        )
        .replace(
            "[modules.s3-bucket.import]\nto = \"terraform_data.this\"\nid = \"{{ config.name }}\"",
            "[modules.s3-bucket.import]\nto = \"terraform_data.this\"\nid = \"{{ config.kms_key_arn }}\"",
        )
        .replace(
            "[modules.sqs-queue.import]\nto = \"terraform_data.this\"\nid = \"{{ config.name }}\"",
            "[modules.sqs-queue.import]\nto = \"terraform_data.this\"\nid = \"{{ config.name }}/{{ config.tags.Owner | default('x') }}\"",
        );
    assert!(!text.contains("[modules.sns-topic.import]"));
    let path = dir.join("registry.toml");
    std::fs::write(&path, text).unwrap();
    path
}

async fn file(app: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    let res = app.post_as(token, "/api/v1/requests", body).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn adopt_requests_are_refused_naming_the_module_or_the_inputs() {
    let data = tempfile::tempdir().unwrap();
    let registry = variant_registry(data.path());
    let app = TestApp::spawn_with(data, &[("TFPILOT_REGISTRY", registry.to_str().unwrap())]).await;
    let alice = app.token("alice", Role::Requester).await;
    let new = |module: &str, config: Value, kind: &str| json!({"project": "sandbox", "environment": "dev", "module": module, "config": config, "kind": kind});

    // A module without an import table.
    let (status, body) = file(
        &app,
        &alice,
        &new("sns-topic", json!({"name": "alerts"}), "adopt"),
    )
    .await;
    assert_eq!(status, 422, "{body:#}");
    assert_eq!(body["error"]["field"], "kind");
    let message = body["error"]["message"].as_str().unwrap().to_owned()
        + &body["error"]["fields"].to_string();
    assert!(message.contains("module `sns-topic`"), "{body:#}");

    // An id that renders empty names the input it comes from.
    let (status, body) = file(
        &app,
        &alice,
        &new("s3-bucket", json!({"name": "logs-archive"}), "adopt"),
    )
    .await;
    assert_eq!(status, 422, "{body:#}");
    assert_eq!(body["error"]["field"], "kms_key_arn", "{body:#}");
    assert!(
        body["error"]["fields"].to_string().contains("is empty"),
        "{body:#}"
    );

    // An id with a newline names every input it comes from.
    let tags = json!({"name": "orders", "tags": {"Owner": "team\nplatform"}});
    let (status, body) = file(&app, &alice, &new("sqs-queue", tags, "adopt")).await;
    assert_eq!(status, 422, "{body:#}");
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "tags"], "{body:#}");
    assert!(
        body["error"]["fields"]
            .to_string()
            .contains("contains a newline")
    );

    // An unknown kind is a 400 like any malformed body.
    let (status, body) = file(
        &app,
        &alice,
        &new("s3-bucket", json!({"name": "logs-archive"}), "steal"),
    )
    .await;
    assert_eq!(status, 400, "{body:#}");

    // The same inputs as `create` are fine, and a create request's
    // document has no `kind` at all (older documents read the same).
    let (status, body) = file(
        &app,
        &alice,
        &new("sns-topic", json!({"name": "alerts"}), "create"),
    )
    .await;
    assert_eq!(status, 201, "{body:#}");
    assert!(body["request"].get("kind").is_none(), "{body:#}");
    let good = json!({"name": "orders", "tags": {"Owner": "platform"}});
    let (status, body) = file(&app, &alice, &new("sqs-queue", good, "adopt")).await;
    assert_eq!(status, 201, "{body:#}");
    assert_eq!(body["request"]["kind"], "adopt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_adopted_resource_is_imported_applied_and_its_import_block_dropped_after() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;
    let project = ProjectKey::parse("sandbox").unwrap();
    let git = LocalGit::new(
        app.data.path().join("git"),
        root().join("infra-workflows/template"),
        Some(root().join("infra-workflows/sandbox")),
        app.requests_store(),
    );

    let body = json!({"project": "sandbox", "environment": "dev", "module": "s3-bucket",
        "config": {"name": "adopted-bucket"}, "kind": "adopt"});
    let (status, created) = file(&app, &alice, &body).await;
    assert_eq!(status, 201, "{created:#}");
    let id = created["request"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["request"]["kind"], "adopt");

    let ready = app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    let path = "envs/dev/tfpilot.s3.tf";
    let committed = git
        .read_file(&project, &format!("request/{id}"), path)
        .await
        .unwrap()
        .unwrap();
    let import = format!(
        "import {{\n  to = module.s3-bucket_{id}.terraform_data.this\n  id = \"adopted-bucket\"\n}}\n# --- tfpilot:end:{id} ---"
    );
    assert!(committed.contains(&import), "{committed}");
    let summary = &ready["request"]["runs"]["plan"]["attempts"][0]["summary"];
    assert_eq!(summary["import"], 1, "{ready:#}");
    assert_eq!(summary["add"], 0, "nothing is created: {ready:#}");
    assert_eq!(summary["destroy"], 0);
    let explanation = ready["explanation"].as_str().unwrap();
    assert!(
        explanation.starts_with("Adopts 1 existing resource"),
        "{explanation}"
    );
    assert!(!explanation.contains("Creates"), "{explanation}");
    let log = app
        .get_as(&alice, &format!("/api/v1/requests/{id}/log?kind=plan"))
        .await
        .text()
        .await
        .unwrap();
    assert!(log.contains("1 to import, 0 to add"), "{log}");

    assert_eq!(act(&app, &bob, &id, "approve").await.status(), 202);
    assert_eq!(act(&app, &bob, &id, "merge").await.status(), 202);
    assert_eq!(act(&app, &bob, &id, "apply").await.status(), 202);
    let applied = app.wait_for_status(&bob, &id, "applied", WAIT).await;
    let apply = &applied["request"]["runs"]["apply"]["attempts"][0];
    assert_eq!(apply["summary"]["import"], 1, "{apply:#}");
    let state =
        std::fs::read_to_string(app.data.path().join("exec/state/sandbox/dev.tfstate")).unwrap();
    assert!(
        state.contains(&format!("module.s3-bucket_{id}")),
        "adopted into the state"
    );
    assert!(
        state.contains("\"id\": \"adopted-bucket\""),
        "under its own id: {state}"
    );
    // Until tfpilot commits to the block again, main keeps the import.
    let main = git.read_file(&project, MAIN, path).await.unwrap().unwrap();
    assert!(main.contains(&import));

    // The next revision's commit drops it, and its plan imports nothing.
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/requests/{id}")))
        .bearer_auth(&alice)
        .json(&json!({"config": {"name": "adopted-bucket", "versioning": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ready = app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    assert_eq!(ready["request"]["revision"], 2);
    let revised = git
        .read_file(&project, &format!("request/{id}-r2"), path)
        .await
        .unwrap()
        .unwrap();
    assert!(!revised.contains("import {"), "{revised}");
    assert!(
        revised.contains(&format!("module \"s3-bucket_{id}\"")),
        "{revised}"
    );
    let plan = ready["request"]["runs"]["plan"]["attempts"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(plan["summary"].get("import").is_none(), "{plan:#}");
    assert_eq!(plan["summary"]["add"], 0, "{plan:#}");
    assert_eq!(plan["summary"]["change"], 1, "{plan:#}");
}
