//! A token of scope automation is refused on every route of the API but
//! the alert receiver, with the rule named: every secured operation of
//! the OpenAPI document is called with it.

use super::automation_token;
use crate::support::TestApp;
use app::domain::policy::Role;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_automation_token_is_refused_everywhere_but_the_receiver() {
    let app = TestApp::builder()
        .env(&[("TFPILOT_WORKERS", "0")])
        .spawn()
        .await;
    let bot = automation_token(&app, "alertmanager").await;
    let admin = app.token("root", Role::Admin).await;
    let doc: Value = app
        .get_as(&admin, "/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if !secured || path == "/api/v1/alerts/alertmanager" {
                continue;
            }
            let url = app.url(
                &path
                    .replace("{id}", "0000000000000000")
                    .replace("{login}", "root")
                    .replace("{action}", "approve"),
            );
            let req = match method.as_str() {
                "get" => app.client.get(url),
                "post" => app.client.post(url),
                "patch" => app.client.patch(url),
                "delete" => app.client.delete(url),
                "put" => app.client.put(url),
                other => panic!("{other}"),
            };
            let res = req.bearer_auth(&bot).json(&json!({})).send().await.unwrap();
            assert_eq!(res.status(), 403, "{method} {path}");
            let err: Value = res.json().await.unwrap();
            assert_eq!(
                err["error"]["rule"], "scope.automation",
                "{method} {path}: {err}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} operations checked");
    // Only an admin gives the scope, over the API too.
    let ann = app.token("ann", Role::Approver).await;
    let refused = app
        .post_as(
            &ann,
            "/api/v1/tokens",
            &json!({"name": "am", "scope": "automation"}),
        )
        .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"]["rule"],
        "tokens.automation"
    );
    let made: Value = app
        .post_as(
            &admin,
            "/api/v1/tokens",
            &json!({"name": "am", "user": "ann", "scope": "automation"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(made["record"]["scope"], "automation", "{made}");
    let token = made["token"].as_str().unwrap();
    let own = app.get_as(token, "/api/v1/requests").await;
    assert_eq!(
        own.status(),
        403,
        "an approver's automation token reads nothing"
    );
}
