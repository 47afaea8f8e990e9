//! The fake Slack's deliveries to an app: signed as Slack signs (checked with `verify`), with retry headers, form-encoded interactions, and the documented JSON shapes.

use crate::support::slack::{self, FakeSlack, MessageEvent};
use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use server::slack::signing::verify;
use std::sync::{Arc, Mutex};

const SECRET: &str = "signing-secret-1";

type Seen = Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>;

/// An app that records what reaches it and answers 200.
async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
            let record = record.clone();
            async move {
                record
                    .lock()
                    .unwrap()
                    .push((uri.path().to_owned(), headers, body));
                "ok"
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, seen)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn check_signed(headers: &HeaderMap, body: &[u8]) {
    verify(
        SECRET,
        header(headers, "X-Slack-Request-Timestamp"),
        header(headers, "X-Slack-Signature"),
        body,
        now(),
    )
    .expect("signed like Slack");
}

#[tokio::test]
async fn events_are_signed_json_and_retries_say_so() {
    let fake = FakeSlack::start().await;
    let (app, seen) = receiver().await;
    let mention = fake.mention_event("Ev1", "U1", "C1", "<@U0TFPILOT> a bucket", "1.1", None);
    assert_eq!(fake.send_event(&app, SECRET, &mention).await.status(), 200);
    assert_eq!(
        fake.send_event_retry(&app, SECRET, &mention, 1)
            .await
            .status(),
        200
    );
    let seen = seen.lock().unwrap();
    let (path, headers, body) = &seen[0];
    assert_eq!(path, "/api/v1/slack/events");
    assert_eq!(header(headers, "content-type"), Some("application/json"));
    check_signed(headers, body);
    assert_eq!(serde_json::from_slice::<Value>(body).unwrap(), mention);
    assert_eq!(header(headers, "X-Slack-Retry-Num"), None);
    let (_, retry, body) = &seen[1];
    check_signed(retry, body);
    assert_eq!(header(retry, "X-Slack-Retry-Num"), Some("1"));
    assert_eq!(header(retry, "X-Slack-Retry-Reason"), Some("http_timeout"));
}

#[tokio::test]
async fn event_shapes_follow_the_events_api() {
    let fake = FakeSlack::start().await;
    let mention = fake.mention_event("Ev1", "U1", "C1", "<@U0TFPILOT> hi", "1.2", Some("1.1"));
    assert_eq!(mention["type"], "event_callback");
    assert_eq!(mention["event_id"], "Ev1");
    assert_eq!(mention["team_id"], slack::TEAM_ID);
    assert_eq!(mention["api_app_id"], slack::APP_ID);
    assert!(mention["event_time"].is_i64() && mention["token"].is_string());
    let event = &mention["event"];
    assert_eq!(
        (
            event["type"].as_str(),
            event["user"].as_str(),
            event["channel"].as_str()
        ),
        (Some("app_mention"), Some("U1"), Some("C1"))
    );
    assert_eq!(
        (event["ts"].as_str(), event["thread_ts"].as_str()),
        (Some("1.2"), Some("1.1"))
    );

    let dm = fake.message_event(&MessageEvent {
        event_id: "Ev2",
        user: "U1",
        channel: "D1",
        channel_type: "im",
        text: "hello",
        ts: "2.1",
        ..MessageEvent::default()
    });
    assert_eq!(dm["event"]["type"], "message");
    assert_eq!(dm["event"]["channel_type"], "im");
    assert!(dm["event"].get("bot_id").is_none() && dm["event"].get("thread_ts").is_none());
    let own = fake.message_event(&MessageEvent {
        event_id: "Ev3",
        channel: "C1",
        channel_type: "channel",
        text: "plan ready",
        ts: "3.1",
        thread_ts: Some("1.1"),
        bot_id: Some(slack::BOT_ID),
        ..MessageEvent::default()
    });
    assert_eq!(own["event"]["bot_id"], slack::BOT_ID);
    assert_eq!(own["event"]["thread_ts"], "1.1");
    assert!(own["event"].get("user").is_none());
}

#[tokio::test]
async fn interactions_are_signed_forms_of_block_actions() {
    let fake = FakeSlack::start().await;
    let (app, seen) = receiver().await;
    let web = server::slack::SlackWeb::new(
        &fake.api_url(),
        server::config::SecretString::new(slack::TOKEN.into()),
    )
    .unwrap();
    use server::slack::SlackApi as _;
    let card = server::slack::Message::text("C1", "approve?")
        .in_thread("1.1")
        .with_blocks(json!([{"type": "actions", "elements": []}]));
    let posted = web.post_message(&card).await.unwrap();
    let action = fake.block_action("U2", "C1", &posted.ts, Some("1.1"), "approve", "req-1");
    assert_eq!(action["type"], "block_actions");
    assert_eq!(action["user"]["id"], "U2");
    assert_eq!(action["channel"]["id"], "C1");
    assert_eq!(action["container"]["message_ts"], posted.ts);
    assert_eq!(action["container"]["thread_ts"], "1.1");
    assert_eq!(action["message"]["text"], "approve?");
    assert_eq!(action["message"]["blocks"], card.blocks.unwrap());
    let button = &action["actions"][0];
    assert_eq!(
        (
            button["action_id"].as_str(),
            button["value"].as_str(),
            button["type"].as_str()
        ),
        (Some("approve"), Some("req-1"), Some("button"))
    );
    assert!(button["block_id"].is_string());
    let response_url = action["response_url"].as_str().unwrap();
    assert!(response_url.starts_with(&fake.base), "{response_url}");

    assert_eq!(
        fake.send_interaction(&app, SECRET, &action).await.status(),
        200
    );
    let seen = seen.lock().unwrap();
    let (path, headers, body) = &seen[0];
    assert_eq!(path, "/api/v1/slack/interactions");
    assert_eq!(
        header(headers, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    check_signed(headers, body);
    let form =
        reqwest::Url::parse(&format!("http://x/?{}", String::from_utf8_lossy(body))).unwrap();
    let (key, payload) = form.query_pairs().next().unwrap();
    assert_eq!(key, "payload");
    assert_eq!(serde_json::from_str::<Value>(&payload).unwrap(), action);
}

#[tokio::test]
async fn a_stale_or_foreign_signature_is_what_tests_of_refusals_can_send() {
    let fake = FakeSlack::start().await;
    let (app, seen) = receiver().await;
    let body = br#"{"type":"event_callback"}"#.to_vec();
    fake.post_signed(
        &app,
        "/x",
        "other-secret",
        "application/json",
        body.clone(),
        now() - 600,
        &[],
    )
    .await;
    let seen = seen.lock().unwrap();
    let (_, headers, got) = &seen[0];
    let ts = header(headers, "X-Slack-Request-Timestamp");
    let sig = header(headers, "X-Slack-Signature");
    assert!(verify(SECRET, ts, sig, got, now()).is_err());
    assert!(verify("other-secret", ts, sig, got, now() - 600).is_ok());
}
