//! The server answers health, API and page requests.

use crate::support::TestApp;
use serde_json::Value;

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "ok");
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn the_home_page_is_rendered_on_the_server() {
    let app = TestApp::spawn().await;
    let (status, kind, html) = app.page("/").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(html.contains("<h1>Self-service Terraform</h1>"), "{html}");
    assert!(
        html.contains("S3 bucket"),
        "the catalogue is in the server HTML"
    );
    assert!(
        html.contains("SQS queue"),
        "the catalogue is in the server HTML"
    );
    assert!(
        html.contains("/pkg/tfpilot.js"),
        "hydration script is referenced"
    );
    assert!(html.contains("/pkg/tfpilot_bg.wasm"), "wasm is preloaded");
    assert!(
        html.contains("<link rel=\"icon\" href=\"/pkg/favicon.svg\" type=\"image/svg+xml\">"),
        "every page links its icon"
    );
    let res = app.get("/favicon.ico").await;
    assert_eq!(res.status(), 308, "the default icon path points to it");
    assert_eq!(res.headers()["location"], "/pkg/favicon.svg");
}

#[tokio::test]
async fn the_registry_is_served_as_json() {
    let app = TestApp::spawn().await;
    let modules: Vec<Value> = app.get("/api/v1/modules").await.json().await.unwrap();
    let types: Vec<&str> = modules
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    for ty in ["s3-bucket", "sqs-queue", "ecs-service"] {
        assert!(types.contains(&ty), "{types:?}");
    }
    assert!(modules.len() >= 5);
    let s3 = modules.iter().find(|m| m["type"] == "s3-bucket").unwrap();
    assert!(
        s3["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["name"] == "tags")
    );
}

#[tokio::test]
async fn unknown_api_paths_are_json_404s() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/nope").await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no such API endpoint")
    );
}

#[tokio::test]
async fn unknown_pages_are_404_pages() {
    let app = TestApp::spawn().await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found."));
}
