//! The request page (`/requests/{id}`): facts, the change in plain words, plan view, block, actions
//! with the caller's reasons, timeline; and the `act` server function the
//! page's buttons post to.

use crate::support::{TestApp, WAIT};
use app::domain::policy::Role;
use serde_json::{Value, json};

/// Files a dev s3-bucket as a browser does: with the session cookie.
async fn file_in_browser(app: &TestApp, cookie: &str, config: Value) -> String {
    let res = app
        .client
        .post(app.url("/api/v1/requests"))
        .header("cookie", cookie)
        .header("origin", app.url(""))
        .json(
            &json!({"project": "sandbox", "environment": "dev", "module": "s3-bucket",
                       "config": config}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The text of the first element carrying `data-testid="<id>"`.
fn testid<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("data-testid=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id} in {html}"));
    let rest = &html[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest[open..].find('<').unwrap();
    &rest[open..open + close]
}

/// Posts the `act` server function as the page's form does.
async fn act_as(app: &TestApp, cookie: &str, id: &str, action: &str) -> reqwest::Response {
    app.client
        .post(app.url("/sfn/act"))
        .header("cookie", cookie)
        .header("origin", app.url(""))
        .header("accept", "application/json")
        .json(&json!({"id": id, "action": action, "addresses": []}))
        .send()
        .await
        .unwrap()
}

/// Posts the page's action form as a browser without JavaScript does.
async fn act_without_js(app: &TestApp, cookie: &str, id: &str, action: &str) -> String {
    let res = app
        .client
        .post(app.url(&format!("/requests/{id}/act")))
        .header("cookie", cookie)
        .header("origin", app.url(""))
        .form(&[("action", action)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    res.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_request_page_shows_plan_block_actions_and_timeline() {
    let app = TestApp::spawn().await;
    let ana = app.token("ana", Role::Viewer).await;
    let requester = app.signed_in("rita", Role::Requester).await;
    let id = file_in_browser(&app, &requester, json!({"name": "page-bucket"})).await;
    app.wait_for_status(&ana, &id, "plan_ready", WAIT).await;
    let refused = act_as(&app, &requester, &id, "approve").await;
    assert_eq!(refused.status(), 403, "a refusal keeps its status");
    let (status, html) = app.page_as(&requester, &format!("/requests/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("S3 bucket page-bucket"));
    assert_eq!(testid(&html, "status"), "plan ready");
    assert_eq!(testid(&html, "environment"), "dev");
    assert_eq!(
        testid(&html, "explanation"),
        "Creates 1 Terraform data resource for the S3 bucket `page-bucket` in dev with versioning on; AES256 encryption. Nothing is changed or destroyed.",
        "the change in plain words, above the plan"
    );
    assert!(html.find("data-testid=\"explanation\"") < html.find("id=\"plan-title\""));
    assert_eq!(testid(&html, "plan-add"), "1");
    assert_eq!(testid(&html, "plan-destroy"), "0");
    assert!(
        html.contains("data-action=\"create\""),
        "the planned change"
    );
    assert!(html.contains("Raw plan output"), "the log is folded away");
    assert!(
        html.contains(&format!("# --- tfpilot:begin:{id} ---")),
        "the rendered block"
    );
    // A requester may re-plan but not approve; the page says why.
    assert!(html.contains("<button type=\"submit\" data-action=\"plan\""));
    let forbidden = html.split("data-testid=\"forbidden\"").nth(1).unwrap();
    assert!(forbidden.contains("data-action=\"approve\""), "{forbidden}");
    assert!(forbidden.contains("approver"), "{forbidden}");
    // The timeline has the creation and the refused approve.
    assert!(html.contains("data-action=\"request.create\""));
    assert!(html.contains("data-action=\"auth.denied\""));

    // A refused action through the page's server function is a sentence.
    let text = refused.text().await.unwrap();
    assert!(text.contains("approver"), "{text}");

    // Without JavaScript the form comes back to the page, with the reason.
    let back = act_without_js(&app, &requester, &id, "approve").await;
    assert!(
        back.starts_with(&format!("/requests/{id}?error=")) && back.contains("approver"),
        "{back}"
    );
    let (_, html) = app.page_as(&requester, &back).await;
    assert!(
        html.contains("data-testid=\"action-error\""),
        "the reason is shown"
    );

    // An approver approves from the page.
    let approver = app.signed_in("amy", Role::Approver).await;
    let res = act_as(&app, &approver, &id, "approve").await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    app.wait_for_status(&ana, &id, "approved", WAIT).await;
    let (_, html) = app.page_as(&approver, &format!("/requests/{id}")).await;
    assert!(testid(&html, "approval").starts_with("Approved by amy"));
    assert!(html.contains("<button type=\"submit\" data-action=\"merge\""));
    // ... and merges without JavaScript.
    let back = act_without_js(&app, &approver, &id, "merge").await;
    assert_eq!(back, format!("/requests/{id}"));
    app.wait_for_status(&ana, &id, "merged", WAIT).await;

    // Unknown actions and ids are sentences, not 500s.
    let res = act_as(&app, &approver, &id, "launch").await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("is not an action"));
    let res = act_as(&app, &approver, "nope", "approve").await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("is not a request id"));
    let res = act_as(&app, "tfpilot_session=forged", &id, "approve").await;
    assert_eq!(res.status(), 401, "signed out");
}

#[tokio::test]
async fn prod_approval_shows_the_allow_list_reason() {
    let app = TestApp::spawn_with(
        tempfile::tempdir().unwrap(),
        &[("TFPILOT_PROD_ALLOWED_USERS", "pat")],
    )
    .await;
    let ana = app.token("ana", Role::Requester).await;
    let id = app
        .file(&ana, "prod", "s3-bucket", json!({"name": "prod-page"}))
        .await;
    app.wait_for_status(&ana, &id, "plan_ready", WAIT).await;
    let amy = app.signed_in("amy", Role::Approver).await;
    let (_, html) = app.page_as(&amy, &format!("/requests/{id}")).await;
    let forbidden = html.split("data-testid=\"forbidden\"").nth(1).unwrap();
    let approve = forbidden
        .split("data-action=\"approve\"")
        .nth(1)
        .unwrap()
        .split("</li>")
        .next()
        .unwrap();
    assert!(approve.contains("allow-list"), "{approve}");
    let pat = app.signed_in("pat", Role::Approver).await;
    let (_, html) = app.page_as(&pat, &format!("/requests/{id}")).await;
    assert!(html.contains("<button type=\"submit\" data-action=\"approve\""));
}

#[tokio::test]
async fn sensitive_inputs_never_reach_the_page() {
    let app = TestApp::spawn().await;
    let ana = app.token("ana", Role::Requester).await;
    let secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-HUNTER2";
    let id = app
        .file(
        &ana,
        "dev",
        "ecs-service",
        json!({"name": "api", "cluster_arn": "arn:aws:ecs:eu-west-1:123456789012:cluster/main",
               "image": "nginx:1.27", "subnet_ids": ["subnet-0abc1234"], "security_group_ids": ["sg-0abc1234"],
               "secret_environment": {"DB_PASSWORD": secret}}),
    )
    .await;
    let cookie = app.signed_in("rita", Role::Requester).await;
    let (status, html) = app.page_as(&cookie, &format!("/requests/{id}")).await;
    assert_eq!(status, 200);
    assert!(!html.contains("HUNTER2"), "the secret is not on the page");
    assert!(html.contains("(sensitive)"));
}

#[tokio::test]
async fn a_request_is_changed_through_the_resumed_chat() {
    let app = TestApp::spawn().await;
    let viewer = app.token("vic", Role::Viewer).await;
    let rita = app.signed_in("rita", Role::Requester).await;
    let id = file_in_browser(
        &app,
        &rita,
        json!({"name": "change-me", "expiration_days": 30}),
    )
    .await;
    app.wait_for_status(&viewer, &id, "plan_ready", WAIT).await;
    // The page resumes the chat with the request's answers.
    let (status, html) = app
        .page_as(&rita, &format!("/requests/new?from={id}"))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("You are changing this S3 bucket"), "{html}");
    assert!(html.contains("Submit the new revision"));
    assert!(
        !html.contains("ManagedBy=tfpilot"),
        "computed tags are not offered as the requester's answers: {html}"
    );
    // Its submit files revision 2 (an immutable name change is refused).
    let sfn = |config: Value| {
        app.client
            .post(app.url("/sfn/update"))
            .header("cookie", &rita)
            .header("origin", app.url(""))
            .json(
                &json!({"draft": {"id": id, "project": "sandbox", "environment": "dev",
                                    "module": "s3-bucket", "config": config},
                          "transcript": [{"from": "user", "text": "90 days"}]}),
            )
            .send()
    };
    let renamed = sfn(json!({"name": "other-name", "expiration_days": 90}))
        .await
        .unwrap();
    assert_eq!(renamed.status(), 422);
    assert!(renamed.text().await.unwrap().contains("name"));
    let changed = sfn(json!({"name": "change-me", "expiration_days": 90}))
        .await
        .unwrap();
    assert!(
        changed.status().is_success(),
        "{}",
        changed.text().await.unwrap()
    );
    let doc = app.wait_for_status(&viewer, &id, "plan_ready", WAIT).await;
    assert_eq!(doc["request"]["revision"], 2);
    assert_eq!(doc["request"]["config"]["expiration_days"], 90);
}
