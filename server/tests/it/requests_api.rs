//! `/api/v1/requests` and `/api/v1/openapi.json` over HTTP.

use crate::support::TestApp;
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::store::ObjectStore as _;

fn bucket() -> Value {
    json!({
        "project": "sandbox",
        "environment": "dev",
        "module": "s3-bucket",
        "config": {"name": "logs-archive-1", "tags": {"team": "data"}}
    })
}

#[tokio::test]
async fn the_api_needs_a_valid_bearer_token() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/api/v1/requests"))
        .json(&bucket())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    for bad in ["nope", "tfp_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"] {
        assert_eq!(
            app.get_as(bad, "/api/v1/requests").await.status(),
            401,
            "{bad}"
        );
    }
    let res = app
        .client
        .get(app.url("/api/v1/requests"))
        .header("authorization", "Basic eDp5")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn filing_stores_the_request_and_it_can_be_read_and_listed() {
    let app = TestApp::spawn().await;
    let token = app.token("alice", Role::Requester).await;
    let res = app.post_as(&token, "/api/v1/requests", &bucket()).await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let id = created["request"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["status"], "created");
    assert_eq!(created["request"]["version"], 1);
    assert_eq!(created["request"]["created_by"], "alice");
    assert_eq!(
        created["request"]["config"]["versioning"], true,
        "defaults filled"
    );
    assert_eq!(created["request"]["config"]["tags"]["ManagedBy"], "tfpilot");
    assert_eq!(created["request"]["config"]["tags"]["team"], "data");
    let plan = created["allowed_actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "plan")
        .unwrap();
    assert_eq!(plan["decision"], "allowed");

    let stored = app
        .requests_store()
        .get(&format!("requests/{id}.json"))
        .await
        .expect("stored under requests/");
    assert!(serde_json::from_slice::<Value>(&stored.bytes).is_ok());

    let got: Value = app
        .get_as(&token, &format!("/api/v1/requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["request"]["id"], id.as_str());
    let page: Value = app
        .get_as(&token, "/api/v1/requests?environment=dev&status=created")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["id"], id.as_str());
    assert_eq!(page["items"][0]["title"], "S3 bucket logs-archive-1");
    assert_eq!(page["counts"]["created"], 1);
    let none: Value = app
        .get_as(&token, "/api/v1/requests?environment=prod")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    assert_eq!(
        app.get_as(&token, "/api/v1/requests/0000000000000000")
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_as(&token, "/api/v1/requests/not-an-id")
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn bad_input_gets_a_4xx_naming_the_field() {
    let app = TestApp::spawn().await;
    let token = app.token("alice", Role::Requester).await;
    let cases = [
        (
            json!({"project": "nope", "environment": "dev", "module": "s3-bucket", "config": {}}),
            400,
            "project",
        ),
        (
            json!({"project": "sandbox", "environment": "qa", "module": "s3-bucket", "config": {}}),
            400,
            "environment",
        ),
        (
            json!({"project": "sandbox", "environment": "dev", "module": "rocket", "config": {}}),
            400,
            "module",
        ),
        (
            json!({"project": "sandbox", "environment": "dev", "module": "s3-bucket", "config": {"name": "UPPER"}}),
            422,
            "name",
        ),
        (
            json!({"project": "sandbox", "environment": "dev", "module": "s3-bucket", "config": {}}),
            422,
            "name",
        ),
        (
            json!({"project": "sandbox", "environment": "dev", "config": {}}),
            400,
            "module",
        ),
        (
            json!({"project": "sandbox", "environment": "dev", "module": "s3-bucket", "config": {}, "extra": 1}),
            400,
            "extra",
        ),
    ];
    for (body, status, field) in cases {
        let res = app.post_as(&token, "/api/v1/requests", &body).await;
        assert_eq!(res.status(), status, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
        assert!(!err["error"]["message"].as_str().unwrap().is_empty());
    }
    let res = app
        .client
        .post(app.url("/api/v1/requests"))
        .bearer_auth(&token)
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "no content type / broken JSON");
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("cursor=zzz", "cursor"),
        ("status=done", "status"),
    ] {
        let res = app
            .get_as(&token, &format!("/api/v1/requests?{query}"))
            .await;
        assert_eq!(res.status(), 400, "{query}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["field"], field);
    }
    let page: Value = app
        .get_as(&token, "/api/v1/requests")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        0,
        "nothing was stored"
    );
}

#[tokio::test]
async fn viewers_cannot_file_requests() {
    let app = TestApp::spawn().await;
    let token = app.token("vic", Role::Viewer).await;
    let res = app.post_as(&token, "/api/v1/requests", &bucket()).await;
    assert_eq!(res.status(), 403);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["rule"], "role.viewer");
    assert_eq!(
        app.get_as(&token, "/api/v1/requests").await.status(),
        200,
        "viewers can read"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/requests",
        "/api/v1/requests/{id}",
        "/api/v1/modules",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
    let post = &doc["paths"]["/api/v1/requests"]["post"]["responses"];
    for code in ["201", "400", "401", "403", "422"] {
        assert!(post.get(code).is_some(), "POST documents {code}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    // Exact: every status, the configured choices, links, unique ids.
    for code in ["409", "413", "503"] {
        let statuses = &doc["paths"]["/api/v1/requests/{id}/{action}"]["post"]["responses"];
        if code != "413" {
            assert!(statuses.get(code).is_some(), "actions document {code}");
        }
    }
    assert!(post.get("413").is_some() && post.get("503").is_some());
    let new = &doc["components"]["schemas"]["NewRequest"];
    assert_eq!(new["additionalProperties"], false);
    assert_eq!(
        new["properties"]["project"]["enum"],
        serde_json::json!(["sandbox"])
    );
    assert!(
        new["properties"]["module"]["enum"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("sqs-queue"))
    );
    let links = &post["201"]["links"];
    assert_eq!(links["GetRequest"]["operationId"], "getRequestsId");
    assert_eq!(
        links["GetRequest"]["parameters"]["id"],
        "$response.body#/request/id"
    );
    let mut ids = std::collections::BTreeSet::new();
    for item in paths.values() {
        for (_, op) in item.as_object().unwrap() {
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                assert!(ids.insert(id.to_owned()), "operationId {id} is unique");
            }
        }
    }
    assert!(
        doc["paths"]["/api/v1/requests/{id}/plan"]["post"].is_object(),
        "POST …/plan is documented"
    );
    assert_eq!(
        doc["paths"]["/api/v1/audit"]["get"]["parameters"][1]["in"],
        "query"
    );
    // A request's config is described per module, from its inputs.
    let sqs = new["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["properties"]["module"]["const"] == "sqs-queue")
        .expect("an alternative per module");
    assert_eq!(sqs["properties"]["config"]["required"], json!(["name"]));
    assert_eq!(
        sqs["properties"]["config"]["properties"]["name"]["pattern"],
        "^[a-zA-Z0-9_-]{1,70}$"
    );
    let update = &doc["components"]["schemas"]["UpdateBody"]["properties"]["config"];
    assert!(update["anyOf"].as_array().unwrap().len() >= 3);
}

#[tokio::test]
async fn a_plan_or_log_not_there_yet_is_a_409_and_an_unknown_request_a_404() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    let res = app.post_as(&alice, "/api/v1/requests", &bucket()).await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Just filed: its plan has not run (terraform takes seconds to start).
    let plan = app
        .get_as(&alice, &format!("/api/v1/requests/{id}/plan"))
        .await;
    assert_eq!(plan.status(), 409);
    let body: Value = plan.json().await.unwrap();
    assert_eq!(body["error"]["rule"], "plan.not_ready", "{body}");
    let log = app
        .get_as(&alice, &format!("/api/v1/requests/{id}/log?kind=destroy"))
        .await;
    assert_eq!(log.status(), 409);
    let body: Value = log.json().await.unwrap();
    assert_eq!(body["error"]["rule"], "log.not_ready", "{body}");
    for path in ["plan", "log"] {
        let res = app
            .get_as(&alice, &format!("/api/v1/requests/0000000000000000/{path}"))
            .await;
        assert_eq!(res.status(), 404, "{path} of an unknown request");
    }
}

#[tokio::test]
async fn readiness_reports_documents_the_index_skipped() {
    use server::store::Precondition;
    let data = tempfile::tempdir().unwrap();
    let store = server::store::fs::FsStore::open(data.path().join("store/requests")).unwrap();
    store
        .put(
            "requests/0000000000000000.json",
            "{broken".into(),
            Precondition::None,
        )
        .await
        .unwrap();
    let app = TestApp::spawn_in(data).await;
    let res = app.get("/readyz").await;
    assert_eq!(
        res.status(),
        200,
        "a bad document does not make the server unready"
    );
    let body: Value = res.json().await.unwrap();
    let skipped = body["index"]["skipped_documents"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["key"], "requests/0000000000000000.json");
    assert!(
        skipped[0]["error"]
            .as_str()
            .unwrap()
            .contains("not a valid request")
    );
}
