//! `TFPILOT_LOG_FORMAT=json` on the real binary: every output line is a
//! JSON object; an HTTP request's lines carry its `X-Request-Id`, the
//! `traceparent`'s trace id and the actor; filing a request logs the
//! `request.created` lifecycle event with its coordinates.

use crate::shutdown::{admin_token, serve, terminate};
use crate::support::wait_until;
use serde_json::{Value, json};
use std::time::Duration;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// The JSON objects of `text`, one a line; panics naming a line that is not one.
fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(v) if v.is_object() => v,
            _ => panic!("not a JSON object: {l}"),
        })
        .collect()
}

/// The fields of `line`'s `http` span, if it ran in one.
fn http_span(line: &Value) -> Option<&Value> {
    line["spans"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == "http")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id_trace_id_actor_and_lifecycle_events() {
    let data = tempfile::tempdir().unwrap();
    let token = admin_token(data.path());
    let mut served = serve(
        data.path(),
        &[("TFPILOT_LOG_FORMAT", "json"), ("TFPILOT_LOG", "info")],
    )
    .await;
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{}/api/v1/requests", served.base))
        .bearer_auth(&token)
        .header("x-request-id", "abc123")
        .header("traceparent", format!("00-{TRACE}-00f067aa0ba902b7-01"))
        .json(&json!({
            "project": "sandbox", "environment": "dev", "module": "sqs-queue",
            "config": {"name": "logged-queue"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["x-request-id"], "abc123");
    let id = res.json::<Value>().await.unwrap()["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A request id that is not a sane token is replaced by a fresh one.
    let res = http
        .get(format!("{}/api/v1/requests/{id}", served.base))
        .bearer_auth(&token)
        .header("x-request-id", "has spaces in it")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let fresh = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(
        fresh.len() == 32 && fresh.bytes().all(|b| b.is_ascii_hexdigit()),
        "{fresh}"
    );
    let log = data.path().join("tfpilot.log");
    wait_until(Duration::from_secs(30), "the request.created line", || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        async move {
            text.contains("\"request.created\"")
                .then_some(())
                .ok_or_else(|| "not yet".to_owned())
        }
    })
    .await;
    let (status, _) = terminate(&mut served).await;
    assert!(status.success(), "{status}");

    let logs = std::fs::read_to_string(&log).unwrap();
    let out = std::fs::read_to_string(data.path().join("tfpilot.out")).unwrap();
    let mut all = lines(&logs);
    all.extend(lines(&out));
    let answered = all
        .iter()
        .find(|l| {
            l["message"] == "http request"
                && http_span(l).is_some_and(|s| s["request_id"] == "abc123")
        })
        .unwrap_or_else(|| panic!("no http line of request abc123: {logs}"));
    let span = http_span(answered).unwrap();
    assert_eq!(span["trace_id"], TRACE, "{answered}");
    assert_eq!(span["actor"], "ada", "{answered}");
    assert_eq!(span["method"], "POST", "{answered}");
    assert_eq!(span["route"], "/api/v1/requests", "{answered}");
    assert_eq!(answered["status"], 201, "{answered}");
    let read = all
        .iter()
        .filter_map(http_span)
        .find(|s| s["request_id"] == fresh.as_str())
        .unwrap_or_else(|| panic!("no line of request {fresh}: {logs}"));
    assert_eq!(
        read["route"], "/api/v1/requests/{id}",
        "ids stay out: {read}"
    );
    let created = all
        .iter()
        .find(|l| l["event"] == "request.created")
        .unwrap();
    assert_eq!(created["request"], id.as_str(), "{created}");
    assert_eq!(created["project"], "sandbox", "{created}");
    assert_eq!(created["environment"], "dev", "{created}");
    for event in [
        "server.started",
        "index.loaded",
        "server.stopping",
        "server.stopped",
    ] {
        assert!(
            all.iter().any(|l| l["event"] == event),
            "no {event} line: {logs}"
        );
    }
}
