//! The receiver: who may post, what a bad payload gets, one job per alert
//! whatever the resends, "no policy matched", and 503 when the queue is full.

use super::{alert, automation_token, payload, put_policy, scale_policy, send};
use crate::support::TestApp;
use app::domain::policy::Role;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_automation_token_files_alerts() {
    let app = TestApp::builder()
        .env(&[("TFPILOT_WORKERS", "0")])
        .spawn()
        .await;
    let bot = automation_token(&app, "alertmanager").await;
    let admin = app.token("root", Role::Admin).await;
    let body = payload(vec![alert("Noise", "fp-auth", json!({}), json!({}))]);

    let anonymous = app
        .client
        .post(app.url("/api/v1/alerts/alertmanager"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(send(&app, "tfp_nope_nope", &body).await.status(), 401);
    let refused = send(&app, &admin, &body).await;
    assert_eq!(refused.status(), 403);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["error"]["rule"], "alerts.automation", "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--scope automation")
    );
    let stored = send(&app, &bot, &body).await;
    assert_eq!(stored.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_payload_is_a_400_naming_the_field() {
    let app = TestApp::builder()
        .env(&[("TFPILOT_WORKERS", "0")])
        .spawn()
        .await;
    let bot = automation_token(&app, "alertmanager").await;
    let good = || payload(vec![alert("A", "fp-1", json!({}), json!({}))]);
    let mut no_fingerprint = good();
    no_fingerprint["alerts"][0]
        .as_object_mut()
        .unwrap()
        .remove("fingerprint");
    let mut empty_fingerprint = good();
    empty_fingerprint["alerts"][0]["fingerprint"] = json!("");
    let mut odd_status = good();
    odd_status["alerts"][0]["status"] = json!("exploding");
    let mut labels_not_strings = good();
    labels_not_strings["alerts"][0]["labels"] = json!({"n": 3});
    let mut old_version = good();
    old_version["version"] = json!("3");
    let mut no_group = good();
    no_group.as_object_mut().unwrap().remove("groupKey");
    let mut alert_not_object = good();
    alert_not_object["alerts"] = json!(["x"]);
    let cases = [
        (no_fingerprint, "alerts[0].fingerprint"),
        (empty_fingerprint, "alerts[0].fingerprint"),
        (odd_status, "alerts[0].status"),
        (labels_not_strings, "alerts[0].labels.n"),
        (old_version, "version"),
        (no_group, "groupKey"),
        (alert_not_object, "alerts[0]"),
    ];
    for (body, field) in cases {
        let res = send(&app, &bot, &body).await;
        assert_eq!(res.status(), 400, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["field"], field, "{err}");
        assert!(!err["error"]["message"].as_str().unwrap().is_empty());
    }
    let not_json = app
        .client
        .post(app.url("/api/v1/alerts/alertmanager"))
        .bearer_auth(&bot)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_alert_is_one_job_and_a_resend_files_nothing() {
    let app = TestApp::builder()
        .env(&[("TFPILOT_WORKERS", "0")])
        .spawn()
        .await;
    let bot = automation_token(&app, "alertmanager").await;
    let reader = app.token("vic", Role::Viewer).await;
    put_policy(&app, scale_policy()).await;
    let labels = json!({"tfpilot_request": "0000000000000000"});
    let backlog = alert(
        "QueueBacklog",
        "fp-a",
        labels.clone(),
        json!({"new_max": "7"}),
    );
    let unmatched = alert("DiskFull", "fp-b", json!({}), json!({}));
    let body = payload(vec![backlog.clone(), unmatched]);

    let first: Value = send(&app, &bot, &body).await.json().await.unwrap();
    assert_eq!(
        (
            first["received"].as_u64(),
            first["new"].as_u64(),
            first["duplicates"].as_u64(),
            first["unmatched"].as_u64()
        ),
        (Some(2), Some(2), Some(0), Some(1)),
        "{first}"
    );
    let again: Value = send(&app, &bot, &body).await.json().await.unwrap();
    assert_eq!(
        (again["new"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(2)),
        "{again}"
    );

    // The same alert resolved, or firing again later, is another alert.
    let mut resolved = backlog.clone();
    resolved["status"] = json!("resolved");
    let mut refired = backlog;
    refired["startsAt"] = json!("2026-01-02T00:00:00Z");
    let later: Value = send(&app, &bot, &payload(vec![resolved, refired]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(later["new"], 2, "{later}");

    let log: Value = app
        .get_as(&reader, "/api/v1/jobs")
        .await
        .json()
        .await
        .unwrap();
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{log:#}");
    let skipped: Vec<&Value> = items.iter().filter(|j| j["status"] == "skipped").collect();
    assert_eq!(
        skipped.len(),
        2,
        "DiskFull and the resolved one match no policy"
    );
    assert!(
        skipped
            .iter()
            .all(|j| j["result"] == "no policy matched" && j["policy"].is_null())
    );
    let queued: Vec<&Value> = items.iter().filter(|j| j["status"] == "queued").collect();
    assert_eq!(queued.len(), 2);
    assert_eq!(queued[0]["policy"], "raise-receives");
    assert_eq!(queued[0]["action"]["inputs"]["dlq_max_receive_count"], "7");
    assert_eq!(queued[0]["alert"]["name"], "QueueBacklog");
    // Newest first, with filters and a cursor.
    let ids: Vec<&str> = items.iter().map(|j| j["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted);
    let page: Value = app
        .get_as(&reader, "/api/v1/jobs?limit=3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get_as(&reader, &format!("/api/v1/jobs?limit=3&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["items"][0]["id"], ids[3]);
    assert!(rest["next_cursor"].is_null());
    let by_policy: Value = app
        .get_as(&reader, "/api/v1/jobs?policy=raise-receives&status=queued")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_policy["items"].as_array().unwrap().len(), 2);
    let by_request: Value = app
        .get_as(&reader, "/api/v1/jobs?request=0000000000000000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_request["items"].as_array().unwrap().len(), 2);
    for (query, field) in [
        ("status=nope", "status"),
        ("limit=0", "limit"),
        ("request=x", "request"),
        ("cursor=-", "cursor"),
    ] {
        let res = app.get_as(&reader, &format!("/api/v1/jobs?{query}")).await;
        assert_eq!(res.status(), 400, "{query}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"]["field"], field);
    }
    assert_eq!(
        app.get_as(&reader, "/api/v1/jobs/0000000000000000")
            .await
            .status(),
        404
    );
    assert_eq!(app.get_as(&reader, "/api/v1/jobs/nope").await.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_503_with_retry_after_and_never_429() {
    let app = TestApp::builder()
        .env(&[("TFPILOT_WORKERS", "0"), ("TFPILOT_JOBS_MAX_QUEUED", "2")])
        .spawn()
        .await;
    let bot = automation_token(&app, "alertmanager").await;
    put_policy(&app, scale_policy()).await;
    let backlog = |fp: &str| {
        alert(
            "QueueBacklog",
            fp,
            json!({"tfpilot_request": "0000000000000000"}),
            json!({"new_max": "7"}),
        )
    };
    let body = payload(vec![backlog("q1"), backlog("q2"), backlog("q3")]);
    let full = send(&app, &bot, &body).await;
    assert_eq!(full.status(), 503);
    assert_eq!(full.headers()["retry-after"], "30");
    let err: Value = full.json().await.unwrap();
    assert!(
        err["error"]["message"].as_str().unwrap().contains("2 of 2"),
        "{err}"
    );
    // What was stored stays stored; unmatched alerts still go in.
    let again = send(&app, &bot, &body).await;
    assert_eq!(again.status(), 503);
    let noise: Value = send(
        &app,
        &bot,
        &payload(vec![alert("Noise", "n1", json!({}), json!({}))]),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(noise["unmatched"], 1, "{noise}");
    let reader = app.token("vic", Role::Viewer).await;
    let log: Value = app
        .get_as(&reader, "/api/v1/jobs?status=queued")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log["items"].as_array().unwrap().len(), 2);
}
