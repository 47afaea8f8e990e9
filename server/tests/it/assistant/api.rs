//! The rules alone (no model configured), and the answers to bad input.

use super::{DRAFT, draft, requester};
use crate::support::TestApp;
use app::domain::policy::Role;
use serde_json::json;

#[tokio::test]
async fn a_description_in_peoples_words_lands_on_its_module_and_inputs() {
    let app = TestApp::spawn().await;
    let token = requester(&app).await;
    let (status, body) = draft(
        &app,
        &token,
        &json!({"text": "I need somewhere to drop our nightly Postgres dumps for 90 days, in dev"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "rules");
    assert_eq!(body["module"], "s3-bucket");
    assert_eq!(body["project"], "sandbox");
    assert_eq!(body["environment"], "dev");
    assert_eq!(body["config"]["expiration_days"], 90);
    let why = body["explanation"].as_str().expect("explanation");
    assert!(why.contains("dumps → S3 bucket"), "{why}");
    assert!(why.contains("expiration_days = 90"), "{why}");
    assert!(!why.contains("offline"), "{why}");
    let missing: Vec<&str> = body["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(missing.contains(&"name"), "{missing:?}");
    assert!(!missing.contains(&"expiration_days"), "{missing:?}");
    assert_eq!(
        body["questions"].as_array().map(Vec::len),
        Some(missing.len())
    );
}

#[tokio::test]
async fn the_chosen_module_and_place_are_kept() {
    let app = TestApp::spawn().await;
    let token = requester(&app).await;
    let (status, body) = draft(
        &app,
        &token,
        &json!({"text": "called orders-dlq", "project": "sandbox", "environment": "prod", "module": "sqs-queue"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["module"], "sqs-queue");
    assert_eq!(body["environment"], "prod");
    assert_eq!(body["config"]["name"], "orders-dlq");
}

#[tokio::test]
async fn text_that_matches_no_module_is_offered_the_three_closest() {
    let app = TestApp::spawn().await;
    let token = requester(&app).await;
    let (status, body) = draft(&app, &token, &json!({"text": "zzz qqq xyzzy"})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["module"].is_null(), "{body}");
    assert_eq!(body["closest"].as_array().map(Vec::len), Some(3), "{body}");
    let why = body["explanation"].as_str().expect("explanation");
    assert!(why.starts_with("Nothing in the catalogue matches"), "{why}");
    let first = body["closest"][0]["title"].as_str().expect("a title");
    assert!(why.contains(first), "{why}");
}

#[tokio::test]
async fn bad_input_gets_a_sentence_naming_the_field() {
    let app = TestApp::spawn().await;
    let token = requester(&app).await;
    let cases = [
        (json!({"text": "   "}), 422, "text"),
        (json!({"text": "x".repeat(4001)}), 422, "text"),
        (
            json!({"text": "a bucket", "project": "nope"}),
            422,
            "project",
        ),
        (
            json!({"text": "a bucket", "environment": "qa9"}),
            422,
            "environment",
        ),
        (
            json!({"text": "a bucket", "module": "lambda"}),
            422,
            "module",
        ),
        (json!({"text": "a bucket", "extra": 1}), 400, ""),
        (json!({"words": "a bucket"}), 400, ""),
    ];
    for (body, want, field) in cases {
        let (status, answer) = draft(&app, &token, &body).await;
        assert_eq!(status, want, "{body} → {answer}");
        let message = answer["error"]["message"].as_str().expect("a sentence");
        assert!(!message.is_empty());
        if !field.is_empty() {
            assert_eq!(answer["error"]["fields"][0]["field"], field, "{answer}");
        }
    }
    let (status, answer) = draft(&app, &token, &json!({"text": "x".repeat(4001)})).await;
    assert_eq!(status, 422);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("at most 4000"),
        "{answer}"
    );
    // 4,000 characters exactly are read.
    let (status, _) = draft(&app, &token, &json!({"text": "é".repeat(4000)})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn only_requesters_and_above_may_draft() {
    let app = TestApp::spawn().await;
    let viewer = app.token("vic", Role::Viewer).await;
    let (status, body) = draft(&app, &viewer, &json!({"text": "a bucket"})).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["rule"].as_str().is_some(), "{body}");
    let res = app
        .client
        .post(app.url(DRAFT))
        .json(&json!({"text": "a bucket"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401);
    for role in [Role::Approver, Role::Admin] {
        let token = app.token(&format!("{role:?}").to_lowercase(), role).await;
        let (status, _) = draft(&app, &token, &json!({"text": "a bucket"})).await;
        assert_eq!(status, 200, "{role:?}");
    }
}
