//! With a model, a question in words the chat parser does not know is
//! routed to one of the read-only tools (tool calling, `tool_choice:
//! "auto"`), then answered by the same service as the asker; a message
//! that is no question stays a request.

use super::{requester, with_model};
use crate::support::TestApp;
use crate::support::model::{FakeModel, Reply};
use app::domain::policy::Role;
use serde_json::{Value, json};

const ASK: &str = "/api/v1/assistant/ask";

#[tokio::test]
async fn a_model_routes_free_questions_to_the_read_only_tools() {
    let model = FakeModel::start().await;
    let app = with_model(&model, &[]).await;
    let rita = requester(&app).await;
    let id = app
        .file(&rita, "dev", "sqs-queue", json!({"name": "routed"}))
        .await;

    model.script(Reply::Call("my_requests".into(), json!({})));
    let res = app
        .post_as(
            &rita,
            ASK,
            &json!({"text": "show me everything I've got going on"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["items"][0]["id"], id, "{body}");
    let sent = &model.requests()[0];
    assert_eq!(sent["tool_choice"], "auto");
    let names: Vec<&str> = sent["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "requests_waiting_for_my_approval",
            "my_requests",
            "request_status",
            "who_approved",
            "failed_requests"
        ]
    );

    model.script(Reply::Call(
        "request_status".into(),
        json!({"id": &id[..8]}),
    ));
    let res = app
        .post_as(
            &rita,
            ASK,
            &json!({"text": "how's that queue of mine doing?"}),
        )
        .await;
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["items"][0]["id"], id, "{body}");

    // No tool chosen, or a tool that is not there: not a question.
    model.script(Reply::Text("no".into()));
    let res = app
        .post_as(&rita, ASK, &json!({"text": "a bucket for the logs"}))
        .await;
    assert_eq!(res.status(), 422);
    model.script(Reply::Call("drop_database".into(), json!({})));
    let res = app
        .post_as(&rita, ASK, &json!({"text": "get rid of everything"}))
        .await;
    assert_eq!(res.status(), 422);
    // The parser's own forms never reach the model.
    let calls = model.calls();
    let res = app
        .post_as(&rita, ASK, &json!({"text": "my requests"}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(model.calls(), calls);
}

#[tokio::test]
async fn without_a_model_free_questions_are_not_questions() {
    let app = TestApp::spawn().await;
    let rita = requester(&app).await;
    let res = app
        .post_as(
            &rita,
            ASK,
            &json!({"text": "show me everything I've got going on"}),
        )
        .await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn the_describe_box_answers_a_question_the_model_routes() {
    let model = FakeModel::start().await;
    let app = with_model(&model, &[]).await;
    let approver = app.token("pat", Role::Approver).await;
    let id = app
        .file(&approver, "dev", "sqs-queue", json!({"name": "boxed"}))
        .await;
    let cookie = app.signed_in("rita", Role::Requester).await;
    model.script(Reply::Call("who_approved".into(), json!({"id": id})));
    let (status, html) = app
        .page_as(
            &cookie,
            "/requests/new?describe=did+anyone+sign+off+on+that+one",
        )
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("aria-label=\"Answer\""), "{html}");
    assert!(!html.contains("Suggested: "));
    // A request in words still gets a proposal (the model chose no tool,
    // then proposed a module).
    model.script(Reply::Text("no".into()));
    model.script(Reply::Answer(
        json!({"module": "sqs-queue", "inputs": {"name": "jobs"}}),
    ));
    let (_, html) = app
        .page_as(&cookie, "/requests/new?describe=a+queue+for+jobs")
        .await;
    assert!(html.contains("Suggested: "), "{html}");
    assert!(html.contains("data-source=\"model\""), "{html}");
}
