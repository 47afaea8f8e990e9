//! Bounded input and bounded growth: transcripts within limits and stored
//! as one record, repeated refusals folded on write, the request page
//! reading a bounded page of the audit, 413 for chunked bodies over the
//! limit on every kind of route, and checkouts a crash left swept at start.

use crate::support::{TestApp, WAIT};
use app::domain::policy::Role;
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use server::store::journal::{AuditLog, AuditRecord, ChatLogs};
use server::store::list_all;

async fn server_fn(app: &TestApp, cookie: &str, name: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/sfn/{name}")))
        .header(COOKIE, cookie)
        .header("origin", app.url(""))
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A fresh id and its ticket, as the new-request page gets them.
async fn issued(app: &TestApp, cookie: &str) -> (String, String) {
    let res = app
        .client
        .post(app.url("/sfn/new_options"))
        .header(COOKIE, cookie)
        .header("origin", app.url(""))
        .form(&[("module", "sqs-queue")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let options: Value = res.json().await.unwrap();
    (
        options["id"].as_str().unwrap().to_owned(),
        options["ticket"].as_str().unwrap().to_owned(),
    )
}

fn filing(id: &str, ticket: &str, transcript: Vec<Value>) -> Value {
    json!({
        "draft": {"id": id, "ticket": ticket, "project": "sandbox", "environment": "dev",
                  "module": "sqs-queue", "config": {"name": "chatty-queue"}},
        "transcript": transcript,
    })
}

fn line(n: usize, text: &str) -> Value {
    let from = if n.is_multiple_of(2) {
        "assistant"
    } else {
        "user"
    };
    json!({"from": from, "text": text})
}

#[tokio::test]
async fn transcripts_are_bounded_and_kept_as_one_record() {
    let app = TestApp::spawn().await;
    let alice = app.signed_in("alice", Role::Requester).await;
    let reader = app.token("rita", Role::Viewer).await;
    let (id, ticket) = issued(&app, &alice).await;
    let refused = |res: reqwest::Response| async move {
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        assert_eq!(status, 400, "{text}");
        text
    };

    let many: Vec<Value> = (0..501).map(|n| line(n, "yes")).collect();
    let text = refused(server_fn(&app, &alice, "file", filing(&id, &ticket, many)).await).await;
    assert!(
        text.contains("transcript: a transcript has at most 500 lines; this one has 501"),
        "{text}"
    );
    let long = vec![line(0, "ok"), line(1, &"x".repeat(4001))];
    let text = refused(server_fn(&app, &alice, "file", filing(&id, &ticket, long)).await).await;
    assert!(
        text.contains("transcript[1].text: a line has at most 4000 characters"),
        "{text}"
    );
    let bell = vec![
        line(0, "fine\twith a tab\nand a newline"),
        line(1, "ding\u{7}"),
    ];
    let text = refused(server_fn(&app, &alice, "file", filing(&id, &ticket, bell)).await).await;
    assert!(
        text.contains("transcript[1].text: a line may hold no control character"),
        "{text}"
    );
    let missing = app.get_as(&reader, &format!("/api/v1/requests/{id}")).await;
    assert_eq!(missing.status(), 404, "a refused transcript files nothing");

    // At the bounds: one record in the chat-logs bucket, read back whole.
    let mut full: Vec<Value> = (0..500).map(|n| line(n, &format!("line {n}"))).collect();
    full[7] = line(7, &"é".repeat(4000));
    let res = server_fn(&app, &alice, "file", filing(&id, &ticket, full)).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let chat_store = std::sync::Arc::new(
        server::store::fs::FsStore::open(app.data.path().join("store/chat-logs")).unwrap(),
    );
    let keys = list_all(chat_store.as_ref(), &format!("{id}/"))
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "500 lines are one stored record");
    let read = ChatLogs::new(chat_store).read(&id).await.unwrap();
    assert_eq!(read.len(), 500);
    assert_eq!(read[499].text, "line 499");
    assert_eq!(read[0].role, "assistant");
}

/// The `data-count` of each timeline row of `action` on a page.
fn row_counts(html: &str, action: &str) -> Vec<u64> {
    html.split(&format!("data-action=\"{action}\""))
        .skip(1)
        .map(|rest| {
            rest.split("data-count=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn hammered_refusals_are_a_bounded_number_of_records_and_one_row() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    let mallory = app.token("mallory", Role::Requester).await;
    let id = app
        .file(&alice, "dev", "sqs-queue", json!({"name": "hammered"}))
        .await;
    // Settled first, so nothing else is written in between.
    app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    let refuse = |action: &'static str| {
        let (app, mallory, id) = (&app, &mallory, &id);
        async move {
            let res = app
                .post_as(
                    mallory,
                    &format!("/api/v1/requests/{id}/{action}"),
                    &json!({}),
                )
                .await;
            assert_eq!(res.status(), 403, "{action}");
        }
    };
    for _ in 0..500 {
        refuse("approve").await;
    }
    let audit = AuditLog::new(app.requests_store());
    let denied = |records: Vec<AuditRecord>| -> Vec<AuditRecord> {
        records
            .into_iter()
            .filter(|r| r.action == "auth.denied")
            .collect()
    };
    let stored = denied(audit.read(Some(&id)).await.unwrap());
    assert_eq!(stored.iter().map(|r| r.count).sum::<u64>(), 500);
    // One per hour of the clock: two only if the run straddled an hour.
    assert!(
        stored.len() <= 2,
        "{} records for 500 refusals",
        stored.len()
    );
    let viewer = app.signed_in("vera", Role::Viewer).await;
    let (status, html) = app.page_as(&viewer, &format!("/requests/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        row_counts(&html, "auth.denied"),
        [500],
        "one row counting 500"
    );
    assert!(html.contains("×500"));

    // Alternating refusals of two kinds fold too, each into its own record.
    for _ in 0..50 {
        refuse("merge").await;
        refuse("approve").await;
    }
    let stored = denied(audit.read(Some(&id)).await.unwrap());
    assert!(
        stored.len() <= 4,
        "{} records for 600 refusals",
        stored.len()
    );
    let approvals: u64 = stored
        .iter()
        .filter(|r| r.detail.starts_with("approve "))
        .map(|r| r.count)
        .sum();
    assert_eq!(approvals, 550);
    let (_, html) = app.page_as(&viewer, &format!("/requests/{id}")).await;
    let rows = row_counts(&html, "auth.denied");
    assert_eq!(rows.iter().sum::<u64>(), 600, "{rows:?}");
    assert!(rows.len() <= 3, "{rows:?}");
}

#[tokio::test]
async fn the_request_page_shows_the_newest_records_and_says_how_many_are_older() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice", Role::Requester).await;
    let id = app
        .file(&alice, "dev", "sqs-queue", json!({"name": "long-history"}))
        .await;
    app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    let audit = AuditLog::new(app.requests_store());
    for n in 0..260 {
        audit
            .append(&AuditRecord {
                at: "2026-01-01T00:00:00Z".into(),
                actor: "ops".into(),
                action: "note.added".into(),
                request: Some(id.clone()),
                before_version: None,
                after_version: None,
                detail: format!("note {n:03}"),
                count: 1,
                until: None,
                via: None,
            })
            .await
            .unwrap();
    }
    let total = audit.read(Some(&id)).await.unwrap().len();
    assert!(total > 260);
    let viewer = app.signed_in("vera", Role::Viewer).await;
    let (status, html) = app.page_as(&viewer, &format!("/requests/{id}")).await;
    assert_eq!(status, 200);
    let timeline = html
        .split("data-testid=\"timeline\"")
        .nth(1)
        .and_then(|t| t.split("</ol>").next())
        .unwrap();
    assert_eq!(timeline.matches("<li ").count(), 200, "the newest 200");
    assert!(timeline.contains("note 259"), "the newest is shown");
    assert!(
        !timeline.contains("note 000"),
        "older notes stay in the log"
    );
    assert!(!timeline.contains("request.create"));
    assert!(
        html.contains(&format!(
            "{} older entries are in the audit log",
            total - 200
        )),
        "the page says so"
    );
}

fn data_size(app: &TestApp) -> u64 {
    fn walk(p: &std::path::Path) -> u64 {
        std::fs::read_dir(p)
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        let m = e.metadata().unwrap();
                        if m.is_dir() { walk(&e.path()) } else { m.len() }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&app.data.path().join("store"))
}

/// Two MiB in 32 KiB chunks, with no declared length.
fn chunked() -> reqwest::Body {
    let chunks = futures::stream::iter((0..64).map(|_| {
        Ok::<_, std::io::Error>(hyper::body::Frame::data(bytes::Bytes::from(
            b"login=".repeat(32 * 1024 / 6),
        )))
    }));
    reqwest::Body::wrap(http_body_util::StreamBody::new(chunks))
}

#[tokio::test]
async fn chunked_bodies_over_the_limit_are_413_on_every_route_and_store_nothing() {
    let app = TestApp::spawn_with(
        tempfile::tempdir().unwrap(),
        &[("TFPILOT_GITHUB_WEBHOOK_SECRET", "webhook-secret")],
    )
    .await;
    let admin = app.signed_in("root", Role::Admin).await;
    let alice = app.token("alice", Role::Requester).await;
    let id = app
        .file(&alice, "dev", "sqs-queue", json!({"name": "chunked"}))
        .await;
    app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    let before = data_size(&app);
    let origin = app.url("");
    let act = format!("/requests/{id}/act");
    // Browsers posting forms get a page that says why.
    for path in [act.as_str(), "/admin/users", "/auth/login"] {
        let res = app
            .client
            .post(app.url(path))
            .header(COOKIE, &admin)
            .header("origin", &origin)
            .header("accept", "text/html,application/xhtml+xml")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(chunked())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 413, "{path}");
        let page = res.text().await.unwrap();
        assert!(
            page.contains("larger than the 256 KiB limit") && page.contains("<html"),
            "{path}: {page}"
        );
    }
    // Everything else gets the JSON error.
    for (path, kind) in [
        ("/sfn/file", "application/json"),
        ("/sfn/new_options", "application/x-www-form-urlencoded"),
        (act.as_str(), "application/x-www-form-urlencoded"),
        ("/admin/users", "application/x-www-form-urlencoded"),
        ("/auth/login", "application/json"),
        ("/api/v1/webhooks/github", "application/json"),
        ("/api/v1/requests", "application/json"),
    ] {
        let res = app
            .client
            .post(app.url(path))
            .header(COOKIE, &admin)
            .header("origin", &origin)
            .header("accept", "application/json")
            .header("content-type", kind)
            .header("x-github-event", "ping")
            .body(chunked())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 413, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "too_large", "{path}: {body}");
    }
    assert!(
        data_size(&app) < before + 4096,
        "nothing of the bodies was stored ({before} → {})",
        data_size(&app)
    );
}

#[tokio::test]
async fn checkouts_a_crash_left_are_swept_at_start() {
    let data = tempfile::tempdir().unwrap();
    let runs = data.path().join("exec/runs");
    let dead = runs.join("0123456789abcdef-plan-1/checkout-0badc0de");
    std::fs::create_dir_all(dead.join("envs/dev/.terraform")).unwrap();
    std::fs::write(dead.join("envs/dev/main.tf"), "# left behind").unwrap();
    std::fs::write(runs.join("0123456789abcdef-plan-1/log.txt"), "the log").unwrap();
    let app = TestApp::spawn_in(data).await;
    assert!(!dead.exists(), "the dead run's checkout is gone");
    assert_eq!(
        std::fs::read_to_string(runs.join("0123456789abcdef-plan-1/log.txt")).unwrap(),
        "the log",
        "its log is kept"
    );
    drop(app);
}
