//! Bad input to Slack's two URLs, signed correctly: malformed JSON, no or broken `payload`, a payload that is not `block_actions`, an unknown action_id, a request that does not exist, a body over 256 KiB; each a 4xx with a sentence.

use super::app::{SECRET, SlackApp, TEAM};
use super::receiver::error_of;
use crate::support::slack::events::{EVENTS_PATH, INTERACTIONS_PATH, form_payload};
use app::domain::ids::RequestId;
use serde_json::json;

const FORM: &str = "application/x-www-form-urlencoded";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl SlackApp {
    /// POSTs `body` to `path`, correctly signed.
    async fn raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
        self.slack
            .post_signed(
                &self.app.url(""),
                path,
                SECRET,
                content_type,
                body,
                now(),
                &[],
            )
            .await
    }
}

#[tokio::test]
async fn bad_bodies_get_a_4xx_with_a_sentence() {
    let s = SlackApp::start(&[]).await;

    let res = s
        .raw(
            EVENTS_PATH,
            "application/json",
            b"{\"type\": \"event_".to_vec(),
        )
        .await;
    let message = error_of(res, 400).await;
    assert!(
        message.contains("the body is not an Events API payload"),
        "{message}"
    );
    let res = s
        .raw(
            EVENTS_PATH,
            "application/json",
            br#"{"type":"event_callback","event_id":"Ev1"}"#.to_vec(),
        )
        .await;
    let message = error_of(res, 400).await;
    assert!(message.contains("event"), "{message}");

    let res = s
        .raw(INTERACTIONS_PATH, FORM, b"token=x&trigger=y".to_vec())
        .await;
    let message = error_of(res, 400).await;
    assert!(message.contains("`payload` field"), "{message}");
    let res = s
        .raw(INTERACTIONS_PATH, FORM, b"payload=%7Bnot+json".to_vec())
        .await;
    let message = error_of(res, 400).await;
    assert!(
        message.contains("the payload is not an interaction"),
        "{message}"
    );

    let modal = json!({"type": "view_submission", "user": {"id": "U0ALICE"},
                       "view": {"id": "V1", "state": {"values": {}}}});
    let res = s
        .raw(INTERACTIONS_PATH, FORM, form_payload(&modal).into_bytes())
        .await;
    let message = error_of(res, 400).await;
    assert!(
        message.contains("`view_submission` is not handled; only `block_actions` is"),
        "{message}"
    );

    let res = s
        .click("U0ALICE", TEAM, "1.1", None, "tfpilot_launch", "x")
        .await;
    let message = error_of(res, 400).await;
    assert!(
        message.contains("unknown action_id `tfpilot_launch`"),
        "{message}"
    );
    let res = s
        .click("U0ALICE", TEAM, "1.1", None, "tfpilot_approve", "../etc")
        .await;
    let message = error_of(res, 400).await;
    assert!(message.contains("not a request id"), "{message}");
    let res = s
        .click(
            "U0ALICE",
            TEAM,
            "1.1",
            None,
            "tfpilot_submit",
            "no/such draft",
        )
        .await;
    let message = error_of(res, 400).await;
    assert!(message.contains("not a draft id"), "{message}");

    let ghost = RequestId::generate(1_700_000_000_000, 7).to_string();
    for action in ["tfpilot_approve", "tfpilot_reject"] {
        let res = s.click("U0ALICE", TEAM, "1.1", None, action, &ghost).await;
        let message = error_of(res, 404).await;
        assert_eq!(message, format!("request {ghost} does not exist"));
    }
    // Nothing was said anywhere.
    assert!(s.slack.calls_to("chat.postMessage").is_empty());
    assert!(s.responses().is_empty());
}

#[tokio::test]
async fn a_body_over_256_kib_is_413() {
    let s = SlackApp::start(&[]).await;
    let big = json!({"type": "event_callback", "event_id": "EvBig",
                     "event": {"type": "app_mention", "text": "x".repeat(257 * 1024)}});
    let res = s
        .raw(
            EVENTS_PATH,
            "application/json",
            serde_json::to_vec(&big).unwrap(),
        )
        .await;
    let message = error_of(res, 413).await;
    assert!(message.contains("larger than"), "{message}");
    assert!(message.contains("256 KiB"), "{message}");
    let payload = format!("payload={}", "a".repeat(257 * 1024));
    let res = s.raw(INTERACTIONS_PATH, FORM, payload.into_bytes()).await;
    let message = error_of(res, 413).await;
    assert!(message.contains("larger than"), "{message}");
    assert!(message.contains("256 KiB"), "{message}");
    // Just under the limit is read (and refused for what it says).
    let payload = format!("payload={}", "a".repeat(255 * 1024));
    let res = s.raw(INTERACTIONS_PATH, FORM, payload.into_bytes()).await;
    error_of(res, 400).await;
}
