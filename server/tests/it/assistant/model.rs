//! With a model: its answer is checked like a typed one, cached, and
//! replaced by the rules' whenever it cannot be used.

use super::{draft, requester, with_model};
use crate::metrics::series;
use crate::support::model::{FakeModel, Reply};
use serde_json::{Value, json};
use std::time::Duration;

fn sqs(name: &str) -> Value {
    json!({"module": "sqs-queue", "inputs": {"name": name, "fifo": null, "message_retention_seconds": 1209600}})
}

#[tokio::test]
async fn the_models_answer_is_used_then_served_from_the_cache() {
    let model = FakeModel::start().await;
    model.script(Reply::Answer(sqs("orders-dlq")));
    let app = with_model(&model, &[]).await;
    let token = requester(&app).await;
    let text = "a place where failed order messages wait, called orders-dlq, kept two weeks";
    let (status, body) = draft(&app, &token, &json!({"text": text})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "model");
    assert_eq!(body["module"], "sqs-queue");
    assert_eq!(body["config"]["name"], "orders-dlq");
    assert_eq!(body["config"]["message_retention_seconds"], 1209600);
    assert!(
        body["config"].get("fifo").is_none(),
        "null means not said: {body}"
    );
    assert_eq!(model.calls(), 1);

    // What the model was sent: the text, the schema in strict form, no HCL.
    let sent = &model.requests()[0];
    assert_eq!(sent["messages"][1]["content"], text);
    assert_eq!(sent["response_format"]["json_schema"]["strict"], true);
    let everything = sent.to_string();
    assert!(!everything.contains("module \\\""), "no HCL block is sent");
    assert!(!everything.contains("source ="), "no HCL is sent");

    // The same words, typed differently: the cache answers, the model is not asked.
    let again = "  A place where failed ORDER messages wait,   called orders-dlq, kept two weeks ";
    let (status, cached) = draft(&app, &token, &json!({"text": again})).await;
    assert_eq!(status, 200);
    assert_eq!(cached["source"], "cache");
    assert_eq!(cached["config"], body["config"]);
    assert_eq!(model.calls(), 1, "a cache hit makes no call");

    // Another environment is another key.
    model.script(Reply::Answer(sqs("orders-dlq")));
    let (_, other) = draft(&app, &token, &json!({"text": text, "environment": "prod"})).await;
    assert_eq!(other["source"], "model");
    assert_eq!(model.calls(), 2);
}

#[tokio::test]
async fn sensitive_inputs_are_never_sent_to_the_model_nor_taken_from_it() {
    let model = FakeModel::start().await;
    model.script(Reply::Answer(json!({"module": "ecs-service", "inputs": {
        "name": "billing", "secret_environment": [{"key": "DB_PASSWORD", "value": "arn:aws:ssm:x"}]
    }})));
    let app = with_model(&model, &[]).await;
    let token = requester(&app).await;
    let (status, body) = draft(&app, &token, &json!({"text": "run the billing api"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["config"]["name"], "billing");
    assert!(body["config"].get("secret_environment").is_none(), "{body}");
    let sent = model.requests()[0].to_string();
    assert!(
        !sent.contains("secret_environment"),
        "a sensitive input was sent"
    );
}

#[tokio::test]
async fn a_bad_value_from_the_model_is_dropped_and_asked_again_with_the_reason() {
    let model = FakeModel::start().await;
    model.script(Reply::Answer(json!({"module": "sqs-queue", "inputs": {
        "name": "orders dlq!", "message_retention_seconds": 5
    }})));
    let app = with_model(&model, &[]).await;
    let token = requester(&app).await;
    let (status, body) = draft(&app, &token, &json!({"text": "dead letters for orders"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "model");
    assert!(body["config"].get("name").is_none(), "{body}");
    assert!(
        body["config"].get("message_retention_seconds").is_none(),
        "{body}"
    );
    let dropped: Vec<&str> = body["dropped"]
        .as_array()
        .expect("dropped")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(dropped, ["name", "message_retention_seconds"]);
    let missing = body["missing"].as_array().expect("missing");
    let at = missing
        .iter()
        .position(|m| m == "name")
        .expect("name is asked again");
    let question = body["questions"][at].as_str().expect("a question");
    assert!(
        question.starts_with("name orders dlq!: must match"),
        "{question}"
    );
    let retention = missing
        .iter()
        .position(|m| m == "message_retention_seconds")
        .expect("retention is asked again");
    assert!(
        body["questions"][retention]
            .as_str()
            .unwrap_or_default()
            .contains("must be at least"),
        "{body}"
    );
}

/// Each failure of the model, and what the answer says.
#[tokio::test]
async fn every_failure_of_the_model_falls_back_to_the_rules() {
    let model = FakeModel::start().await;
    let app = with_model(&model, &[("TFPILOT_MODEL_TIMEOUT_SECS", "1")]).await;
    let token = requester(&app).await;
    let text = "somewhere to drop our nightly postgres dumps for 90 days";
    let cases = [
        (Reply::Text("Sure! Here is your bucket: {".into()), true),
        (Reply::Text("[1, 2]".into()), true),
        (Reply::Status(500), true),
        (Reply::Status(503), true),
        (
            Reply::Delay(Duration::from_secs(3), Box::new(Reply::Answer(sqs("late")))),
            true,
        ),
        (
            Reply::Answer(json!({"module": "lambda-function", "inputs": {}})),
            false,
        ),
    ];
    let counted = |outcome: &str| {
        series(&format!(
            r#"tfpilot_upstream_calls_total{{service="model",outcome="{outcome}"}}"#
        ))
    };
    let (oks, errors) = (counted("ok"), counted("error"));
    for (reply, offline) in cases {
        let shown = format!("{reply:?}");
        model.script(reply);
        let (status, body) = draft(&app, &token, &json!({"text": text})).await;
        assert_eq!(status, 200, "{shown}: {body}");
        assert_eq!(body["source"], "rules", "{shown}: {body}");
        assert_eq!(body["module"], "s3-bucket", "{shown}: {body}");
        assert_eq!(body["config"]["expiration_days"], 90, "{shown}");
        let why = body["explanation"].as_str().unwrap_or_default();
        assert_eq!(
            why.ends_with("(offline suggestion)"),
            offline,
            "{shown}: {why}"
        );
    }
    assert_eq!(model.calls(), 6);
    // The 500, the 503 and the timeout are failed calls; the other three
    // answered (their content is what failed).
    assert!(counted("error") >= errors + 3.0);
    assert!(counted("ok") >= oks + 3.0);
    // Nothing of a failure is cached: the same text asks the model again.
    model.script(Reply::Answer(
        json!({"module": "s3-bucket", "inputs": {"expiration_days": 30}}),
    ));
    let (_, body) = draft(&app, &token, &json!({"text": text})).await;
    assert_eq!(body["source"], "model", "{body}");
    assert_eq!(body["config"]["expiration_days"], 30);
}

#[tokio::test]
async fn servers_without_json_schema_are_asked_with_a_function_call() {
    let model = FakeModel::start().await;
    model.refuse_json_schema();
    model.script(Reply::Answer(sqs("jobs")));
    model.script(Reply::Answer(sqs("thumbs")));
    let app = with_model(&model, &[]).await;
    let token = requester(&app).await;
    let (status, body) = draft(&app, &token, &json!({"text": "a job backlog"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "model", "{body}");
    assert_eq!(body["config"]["name"], "jobs");
    let (_, body) = draft(&app, &token, &json!({"text": "a thumbnail backlog"})).await;
    assert_eq!(body["config"]["name"], "thumbs");
    let sent = model.requests();
    assert_eq!(sent.len(), 3, "refused once, then function calls only");
    assert!(sent[0].get("response_format").is_some());
    for later in &sent[1..] {
        assert!(later.get("response_format").is_none());
        assert_eq!(later["tools"][0]["function"]["strict"], true);
        assert_eq!(later["tool_choice"]["function"]["name"], "propose_request");
    }
}

#[tokio::test]
async fn the_api_key_goes_as_a_bearer_token() {
    let model = FakeModel::start().await;
    model.require_key("sk-test-123");
    model.script(Reply::Answer(sqs("keyed")));
    let app = with_model(
        &model,
        &[
            ("TFPILOT_MODEL_API_KEY", "sk-test-123"),
            ("TFPILOT_MODEL_MODE", "tools"),
        ],
    )
    .await;
    let token = requester(&app).await;
    let (_, body) = draft(&app, &token, &json!({"text": "a queue"})).await;
    assert_eq!(body["source"], "model", "{body}");
    assert_eq!(body["config"]["name"], "keyed");
    assert!(
        model.requests()[0].get("tools").is_some(),
        "tools mode from the start"
    );
}

#[tokio::test]
async fn the_cache_is_bounded_and_forgets_the_least_recently_used() {
    let model = FakeModel::start().await;
    let app = with_model(&model, &[("TFPILOT_MODEL_CACHE_MAX", "2")]).await;
    let token = requester(&app).await;
    let ask = |name: &str| json!({"text": format!("a queue called {name}")});
    for name in ["a", "b"] {
        model.script(Reply::Answer(sqs(&format!("q-{name}"))));
        let (_, body) = draft(&app, &token, &ask(name)).await;
        assert_eq!(body["source"], "model");
    }
    let (_, body) = draft(&app, &token, &ask("a")).await;
    assert_eq!(body["source"], "cache", "a is used again");
    model.script(Reply::Answer(sqs("q-c")));
    let (_, body) = draft(&app, &token, &ask("c")).await;
    assert_eq!(body["source"], "model");
    let store = app.requests_store();
    let kept = server::store::list_all(store.as_ref(), "assistant-cache/")
        .await
        .expect("the cache is in the store");
    assert_eq!(kept.len(), 2, "bounded by TFPILOT_MODEL_CACHE_MAX");
    let (_, body) = draft(&app, &token, &ask("a")).await;
    assert_eq!(body["source"], "cache", "a was used more recently than b");
    let calls = model.calls();
    model.script(Reply::Answer(sqs("q-b")));
    let (_, body) = draft(&app, &token, &ask("b")).await;
    assert_eq!(body["source"], "model", "b was forgotten");
    assert_eq!(model.calls(), calls + 1);
}
