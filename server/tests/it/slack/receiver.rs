//! The Events API receiver: signatures (ok, wrong, stale, missing), Slack not configured, url_verification, retried events deduplicated across a restart, bots' and unrelated messages ignored, and a quick ack.

use super::app::{SECRET, SlackApp, TEAM};
use crate::support::TestApp;
use crate::support::slack::events::EVENTS_PATH;
use crate::support::slack::{BOT_ID, BOT_USER_ID, FakeSlack, MessageEvent};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The error message of an `{"error": {"code", "message"}}` answer.
pub async fn error_of(res: reqwest::Response, status: u16) -> String {
    assert_eq!(res.status(), status);
    let body: Value = res.json().await.expect("a JSON error");
    assert!(body["error"]["code"].is_string(), "{body}");
    body["error"]["message"]
        .as_str()
        .expect("an error message")
        .to_owned()
}

/// A `help` mention in a new thread of the team channel; its thread ts.
fn help(s: &SlackApp, event_id: &str) -> (Value, String) {
    let ts = s.ts();
    let text = format!("<@{BOT_USER_ID}> help");
    (
        s.slack
            .mention_event(event_id, "U0ALICE", TEAM, &text, &ts, None),
        ts,
    )
}

/// How many of tfpilot's messages in `thread` contain `needle`, once
/// tfpilot had a moment to answer whatever it was sent.
async fn count_after_a_while(s: &SlackApp, thread: &str, needle: &str) -> usize {
    tokio::time::sleep(Duration::from_millis(700)).await;
    s.thread(TEAM, thread)
        .iter()
        .filter(|m| m.text.contains(needle))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signatures_are_checked_and_a_good_one_is_acked_at_once() {
    let s = SlackApp::start(&[]).await;
    let base = s.app.url("");
    let (event, thread) = help(&s, "EvSigned1");
    let started = Instant::now();
    let res = s.slack.send_event(&base, SECRET, &event).await;
    assert_eq!(res.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(3), "ack too slow");
    s.wait_in_thread(TEAM, &thread, "I file infrastructure requests")
        .await;

    let (event, _) = help(&s, "EvSigned2");
    let body = serde_json::to_vec(&event).unwrap();
    let post = |secret: &'static str, at: i64| {
        s.slack.post_signed(
            &base,
            EVENTS_PATH,
            secret,
            "application/json",
            body.clone(),
            at,
            &[],
        )
    };
    let wrong = error_of(post("not-the-secret", now()).await, 401).await;
    assert!(wrong.contains("X-Slack-Signature"), "{wrong}");
    assert!(wrong.contains("TFPILOT_SLACK_SIGNING_SECRET"), "{wrong}");
    let stale = error_of(post(SECRET, now() - 301 - 5).await, 401).await;
    assert!(stale.contains("more than 5 minutes"), "{stale}");
    let future = error_of(post(SECRET, now() + 600).await, 401).await;
    assert!(future.contains("more than 5 minutes"), "{future}");

    let bare = s
        .app
        .client
        .post(s.app.url(EVENTS_PATH))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let missing = error_of(bare, 401).await;
    assert!(
        missing.contains("no X-Slack-Request-Timestamp header"),
        "{missing}"
    );
    let no_signature = s
        .app
        .client
        .post(s.app.url(EVENTS_PATH))
        .header("X-Slack-Request-Timestamp", now().to_string())
        .body(body)
        .send()
        .await
        .unwrap();
    let missing = error_of(no_signature, 401).await;
    assert!(missing.contains("no X-Slack-Signature header"), "{missing}");
    // None of the refused ones was answered.
    assert_eq!(s.slack.messages_in(TEAM).len(), 1, "only the first help");
}

#[tokio::test]
async fn without_a_signing_secret_slack_is_not_configured() {
    let app = TestApp::builder().spawn().await;
    let slack = FakeSlack::start().await;
    let event = slack.mention_event("EvNone1", "U0ALICE", TEAM, "help", "1.1", None);
    let res = slack.send_event(&app.url(""), SECRET, &event).await;
    let message = error_of(res, 404).await;
    assert!(message.contains("Slack is not configured"), "{message}");
    let action = slack.block_action("U0ALICE", TEAM, "1.1", None, "tfpilot_submit", "C0-1");
    let res = slack.send_interaction(&app.url(""), SECRET, &action).await;
    let message = error_of(res, 404).await;
    assert!(message.contains("Slack is not configured"), "{message}");
}

#[tokio::test]
async fn url_verification_is_answered_with_its_challenge() {
    let s = SlackApp::start(&[]).await;
    let challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P";
    let body = json!({"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": challenge,
                      "type": "url_verification"});
    let res = s.slack.send_event(&s.app.url(""), SECRET, &body).await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["challenge"], challenge);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retried_event_changes_nothing_even_after_a_restart() {
    let s = SlackApp::start(&[]).await;
    let (event, thread) = help(&s, "EvRetried1");
    s.deliver(&event).await;
    s.wait_in_thread(TEAM, &thread, "I file infrastructure requests")
        .await;
    for n in 1..=2 {
        let res = s
            .slack
            .send_event_retry(&s.app.url(""), SECRET, &event, n)
            .await;
        assert_eq!(res.status(), 200, "retry {n} is acked");
        let ack: Value = res.json().await.unwrap();
        assert_eq!(ack["duplicate"], true, "retry {n}: {ack}");
    }
    assert_eq!(count_after_a_while(&s, &thread, "I file").await, 1);

    // The same event once more to a restarted tfpilot on the same store.
    let (slack, data) = s.stop();
    let s = SlackApp::start_on(slack, data, &[]).await;
    let res = s
        .slack
        .send_event_retry(&s.app.url(""), SECRET, &event, 3)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(count_after_a_while(&s, &thread, "I file").await, 1);
    // The restarted one does answer new events.
    let (event, other) = help(&s, "EvRetried2");
    s.deliver(&event).await;
    s.wait_in_thread(TEAM, &other, "I file infrastructure requests")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bots_and_threads_tfpilot_is_not_in_are_ignored() {
    let s = SlackApp::start(&[]).await;
    let thread = s
        .mention(
            "U0ALICE",
            "I need an s3 bucket called bot-test in dev",
            None,
        )
        .await;
    s.wait_in_thread(TEAM, &thread, "S3 bucket in `sandbox/dev`")
        .await;
    let before = s.thread(TEAM, &thread).len();
    // tfpilot's own message, and another bot's, in that thread.
    for (n, bot) in [BOT_ID, "B0OTHER"].into_iter().enumerate() {
        let ts = s.ts();
        let event = s.slack.message_event(&MessageEvent {
            event_id: &format!("EvBot{n}"),
            user: BOT_USER_ID,
            channel: TEAM,
            channel_type: "channel",
            text: "help",
            ts: &ts,
            thread_ts: Some(&thread),
            bot_id: Some(bot),
        });
        s.deliver(&event).await;
    }
    // A person's message in a thread tfpilot never spoke in, and at the
    // channel's top level.
    let stranger = s.ts();
    s.say_in("U0ALICE", TEAM, "channel", Some(&stranger), "help")
        .await;
    s.say_in("U0ALICE", TEAM, "channel", None, "help").await;
    // A person's "help" in tfpilot's thread is answered: everything sent
    // before it had its chance.
    s.reply("U0ALICE", &thread, "help").await;
    s.wait_in_thread(TEAM, &thread, "I file infrastructure requests")
        .await;
    assert_eq!(count_after_a_while(&s, &thread, "I file").await, 1);
    assert_eq!(s.thread(TEAM, &thread).len(), before + 1);
    let elsewhere: Vec<String> = s
        .slack
        .messages_in(TEAM)
        .into_iter()
        .filter(|m| m.thread_ts.as_deref() != Some(thread.as_str()))
        .map(|m| m.text)
        .collect();
    assert!(elsewhere.is_empty(), "{elsewhere:?}");
}
