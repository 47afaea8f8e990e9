//! `tfpilot serve` in production storage mode against a real S3-compatible
//! server: the CLI creates a user and a token in the bucket, and requests
//! filed over HTTP land under `requests/`; without a master key the
//! integrations answer 409 naming `TFPILOT_MASTER_KEY`.

use crate::support::{WAIT, root, s3, status_reached, wait_until};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tfpilot(envs: &[(String, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tfpilot"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(envs.iter().map(|(k, v)| (k, v)));
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stores_requests_in_the_s3_bucket() {
    let client = s3::moto_client().await;
    let requests_bucket = s3::fresh_bucket(&client, "serve-requests").await;
    let chat_bucket = s3::fresh_bucket(&client, "serve-chat").await;
    let state_bucket = s3::fresh_bucket(&client, "serve-state").await;
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let envs: Vec<(String, String)> = [
        ("TFPILOT_REQUESTS_BUCKET", requests_bucket.clone()),
        ("TFPILOT_CHAT_LOGS_BUCKET", chat_bucket),
        ("TFPILOT_STATE_BUCKET", state_bucket.clone()),
        ("TFPILOT_S3_ENDPOINT", s3::endpoint()),
        ("TFPILOT_BIND", format!("127.0.0.1:{port}")),
        ("TFPILOT_DATA_DIR", data.path().display().to_string()),
        (
            "TFPILOT_REGISTRY",
            root().join("modules-registry.toml").display().to_string(),
        ),
        (
            "TFPILOT_SITE_ROOT",
            data.path().join("site").display().to_string(),
        ),
        (
            "TFPILOT_WORKFLOWS_DIR",
            root().join("infra-workflows").display().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();

    let added = tfpilot(&envs)
        .args(["users", "add", "alice", "--role", "requester"])
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let created = tfpilot(&envs)
        .args(["tokens", "create", "--user", "alice"])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let token = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("tfp_"), "the token is printed: {token}");
    assert!(
        tfpilot(&envs)
            .args(["users", "add", "bob", "--role", "approver"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let bob = tfpilot(&envs)
        .args(["tokens", "create", "--user", "bob"])
        .output()
        .unwrap();
    let bob = String::from_utf8(bob.stdout).unwrap().trim().to_owned();
    let missing = tfpilot(&envs)
        .args(["tokens", "create", "--user", "nobody"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("user `nobody` does not exist"));

    let _server = Killed(
        tfpilot(&envs)
            .arg("serve")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    crate::support::wait_healthy(&base).await;
    let ready: Value = http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["store"]["backend"], format!("s3://{requests_bucket}"));

    // Production without TFPILOT_MASTER_KEY: serving, integrations unavailable.
    assert!(
        tfpilot(&envs)
            .args(["users", "add", "root", "--role", "admin"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let root_token = tfpilot(&envs)
        .args(["tokens", "create", "--user", "root"])
        .output()
        .unwrap();
    let root_token = String::from_utf8(root_token.stdout)
        .unwrap()
        .trim()
        .to_owned();
    let integrations = http
        .get(format!("{base}/api/v1/integrations"))
        .bearer_auth(&root_token)
        .send()
        .await
        .unwrap();
    assert_eq!(integrations.status(), 409);
    let refusal: Value = integrations.json().await.unwrap();
    assert!(
        refusal["error"]["message"]
            .as_str()
            .unwrap()
            .contains("TFPILOT_MASTER_KEY"),
        "{refusal}"
    );
    assert!(!data.path().join("master.key").exists());

    let body = json!({"project": "sandbox", "environment": "prod", "module": "sqs-queue", "config": {"name": "orders"}});
    let anonymous = http
        .post(format!("{base}/api/v1/requests"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let res = http
        .post(format!("{base}/api/v1/requests"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let object = client
        .get_object()
        .bucket(&requests_bucket)
        .key(format!("requests/{id}.json"))
        .send()
        .await
        .expect("the request is in the bucket");
    assert_eq!(
        object.server_side_encryption().map(|s| s.as_str()),
        Some("AES256")
    );
    let doc: Value =
        serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(doc["created_by"], "alice");

    // The local runner keeps its state in the state bucket, locked with
    // `use_lockfile`.
    let body = json!({"project": "sandbox", "environment": "dev", "module": "s3-bucket", "config": {"name": "state-in-s3"}});
    let res = http
        .post(format!("{base}/api/v1/requests"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let status = |want: &'static str| {
        let (http, base, bob, id) = (http.clone(), base.clone(), bob.clone(), id.clone());
        async move {
            let what = format!("request {id} to reach status {want}");
            wait_until(WAIT, &what, || async {
                let view: Value = http
                    .get(format!("{base}/api/v1/requests/{id}"))
                    .bearer_auth(&bob)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                status_reached(view, &id, want)
            })
            .await;
        }
    };
    status("plan_ready").await;
    for action in ["approve", "merge", "apply"] {
        let res = http
            .post(format!("{base}/api/v1/requests/{id}/{action}"))
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202, "{action}");
    }
    status("applied").await;
    let state = client
        .get_object()
        .bucket(&state_bucket)
        .key("sandbox/dev/terraform.tfstate")
        .send()
        .await
        .expect("the state is in the state bucket");
    let state = state.body.collect().await.unwrap().into_bytes();
    assert!(
        String::from_utf8_lossy(&state).contains(&format!("module.s3-bucket_{id}")),
        "the applied resource is in the S3 state"
    );
    let keys: Vec<String> = client
        .list_objects_v2()
        .bucket(&state_bucket)
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    assert_eq!(
        keys,
        ["sandbox/dev/terraform.tfstate"],
        "the lock file is released"
    );
}
