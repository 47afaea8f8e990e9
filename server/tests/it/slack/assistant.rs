//! The assistant in a Slack thread: the first words go through the same
//! drafting as `POST /api/v1/assistant/draft` (a model when configured),
//! the thread says why, drops what does not check, asks only what is left,
//! and offers the three closest modules when nothing matches.

use super::app::{SlackApp, TEAM};
use crate::support::model::{FakeModel, Reply};
use app::domain::policy::Role;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_model_reads_the_first_message_and_the_chat_asks_the_rest() {
    let model = FakeModel::start().await;
    // First asked whether the words are a question (no tool), then for a draft.
    model.script(Reply::Text("no".into()));
    model.script(Reply::Answer(json!({"module": "s3-bucket", "inputs": {
        "name": "pg-dumps", "expiration_days": 99999, "versioning": null,
    }})));
    let vars = model.env();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let s = SlackApp::start(&vars).await;
    s.person("alice", Role::Requester, Some("U0ALICE")).await;
    let thread = s
        .mention(
            "U0ALICE",
            "somewhere for the nightly database dumps, called pg-dumps, in dev, kept forever",
            None,
        )
        .await;
    let first = s
        .wait_in_thread(TEAM, &thread, "S3 bucket in `sandbox/dev`")
        .await;
    assert!(
        first.text.contains("the model chose S3 bucket"),
        "{}",
        first.text
    );
    s.wait_in_thread(TEAM, &thread, "From your description: name = pg-dumps")
        .await;
    let dropped = s
        .wait_in_thread(TEAM, &thread, "I could not use expiration_days")
        .await;
    assert!(dropped.text.contains("must be at most"), "{}", dropped.text);
    // The next question is the first input still open.
    s.wait_in_thread(TEAM, &thread, "keep previous versions")
        .await;
    assert_eq!(model.calls(), 2, "asked once to route, once to draft");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn words_that_match_no_module_get_the_three_closest() {
    let s = SlackApp::start(&[]).await;
    s.person("alice", Role::Requester, Some("U0ALICE")).await;
    let thread = s.mention("U0ALICE", "xyzzy plugh in dev", None).await;
    let offer = s
        .wait_in_thread(TEAM, &thread, "Nothing in the catalogue matches that yet")
        .await;
    assert_eq!(offer.text.matches("\n• `").count(), 3, "{}", offer.text);
    // Naming one of them goes on as before.
    s.reply("U0ALICE", &thread, "sqs-queue").await;
    s.wait_in_thread(TEAM, &thread, "SQS queue in `sandbox/dev`")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_question_only_a_model_recognises_is_answered_in_the_thread() {
    let model = FakeModel::start().await;
    model.script(Reply::Call(
        "requests_waiting_for_my_approval".into(),
        json!({}),
    ));
    let vars = model.env();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let s = SlackApp::start(&vars).await;
    s.person("bob", Role::Approver, Some("U0BOB")).await;
    let thread = s
        .mention("U0BOB", "anything on my plate to sign off?", None)
        .await;
    s.wait_in_thread(TEAM, &thread, "Nothing is waiting for your approval")
        .await;
    assert_eq!(model.calls(), 1, "answered, not drafted");
}
