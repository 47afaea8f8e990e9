//! Who reads `/metrics`: admins and tokens of scope `metrics` (which do
//! nothing else), or anyone with `TFPILOT_METRICS_PUBLIC=true`.

use super::{metrics_token, scrape};
use crate::support::TestApp;
use app::domain::policy::{Role, TokenScope};
use serde_json::json;

async fn scoped(app: &TestApp, login: &str, role: Role, scope: TokenScope) -> String {
    let store = app.requests_store();
    server::auth::Users::new(store.clone())
        .add(login, role, None)
        .await
        .expect("add user");
    server::auth::Tokens::new(store)
        .create_scoped(login, "test", Some(scope))
        .await
        .expect("token")
        .1
}

fn rule(text: &str) -> String {
    let body: serde_json::Value = serde_json::from_str(text).expect("a JSON error");
    body["error"]["rule"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_an_admin_or_a_metrics_token() {
    let app = TestApp::spawn().await;
    let (status, _, text) = scrape(&app, None).await;
    assert_eq!(status, 401, "{text}");
    let admin = app.token("root", Role::Admin).await;
    assert_eq!(scrape(&app, Some(&admin)).await.0, 200);
    let scraper = metrics_token(&app, "prometheus", Role::Viewer).await;
    assert_eq!(scrape(&app, Some(&scraper)).await.0, 200);
    // Any other scope: 403 naming the rule.
    let viewer = app.token("vic", Role::Viewer).await;
    let (status, _, text) = scrape(&app, Some(&viewer)).await;
    assert_eq!(
        (status, rule(&text).as_str()),
        (403, "metrics.scope"),
        "{text}"
    );
    let approver = scoped(&app, "pat", Role::Admin, TokenScope::Approver).await;
    let (status, _, text) = scrape(&app, Some(&approver)).await;
    assert_eq!(
        (status, rule(&text).as_str()),
        (403, "metrics.scope"),
        "{text}"
    );
    let bot = scoped(&app, "bot", Role::Admin, TokenScope::Automation).await;
    let (status, _, text) = scrape(&app, Some(&bot)).await;
    assert_eq!(
        (status, rule(&text).as_str()),
        (403, "scope.automation"),
        "{text}"
    );
    let (status, _, text) = scrape(&app, Some("tfp_nope_nope")).await;
    assert_eq!(status, 401, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_token_does_nothing_else() {
    let app = TestApp::spawn().await;
    let scraper = metrics_token(&app, "prometheus", Role::Admin).await;
    for path in ["/api/v1/requests", "/api/v1/jobs", "/api/v1/users"] {
        let res = app.get_as(&scraper, path).await;
        assert_eq!(res.status(), 403, "{path}");
        let text = res.text().await.unwrap();
        assert_eq!(rule(&text), "scope.metrics", "{path}: {text}");
    }
    let res = app
        .post_as(
            &scraper,
            "/api/v1/requests",
            &json!({"project": "sandbox", "environment": "dev", "module": "sqs-queue",
                    "config": {"name": "nope"}}),
        )
        .await;
    assert_eq!(res.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_create_metrics_tokens_over_the_api_and_others_may_not() {
    let app = TestApp::spawn().await;
    let admin = app.token("root", Role::Admin).await;
    let res = app
        .post_as(
            &admin,
            "/api/v1/tokens",
            &json!({"name": "prometheus", "scope": "metrics"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["record"]["scope"], "metrics", "{body:#}");
    let token = body["token"].as_str().expect("the token").to_owned();
    assert_eq!(scrape(&app, Some(&token)).await.0, 200);
    let approver = app.token("pat", Role::Approver).await;
    let res = app
        .post_as(
            &approver,
            "/api/v1/tokens",
            &json!({"name": "prometheus", "scope": "metrics"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(rule(&res.text().await.unwrap()), "tokens.metrics");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_public_opens_the_page_to_anyone() {
    let app = TestApp::builder()
        .env(&[("TFPILOT_METRICS_PUBLIC", "true")])
        .spawn()
        .await;
    let (status, kind, text) = scrape(&app, None).await;
    assert_eq!(status, 200, "{text}");
    assert!(kind.starts_with("text/plain"), "{kind}");
    assert!(
        text.contains("# TYPE tfpilot_http_requests_total counter"),
        "{text}"
    );
    // Only the page: the API still wants a credential.
    assert_eq!(app.get("/api/v1/requests").await.status(), 401);
}
