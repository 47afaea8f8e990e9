//! The requests dashboard (`/requests`, server-rendered) and the change
//! stream behind its live rows (`/api/v1/events`).

use crate::store::repo::sample_request;
use crate::support::TestApp;
use app::domain::ids::RequestId;
use app::domain::policy::Role;
use serde_json::{Value, json};
use std::time::Duration;

async fn file(app: &TestApp, token: &str, env: &str, name: &str) -> String {
    app.file(token, env, "s3-bucket", json!({"name": name}))
        .await
}

/// The ids of the table rows, in page order.
fn row_ids(html: &str) -> Vec<String> {
    html.split("<tr data-id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_dashboard_renders_filters_and_pages_on_the_server() {
    let app = TestApp::spawn().await;
    let token = app.token("ana", Role::Requester).await;
    let dev = file(&app, &token, "dev", "logs-one").await;
    let prod = file(&app, &token, "prod", "logs-two").await;
    let cookie = app.signed_in("vic", Role::Viewer).await;

    let (status, html) = app.page_as(&cookie, "/requests").await;
    assert_eq!(status, 200);
    assert_eq!(row_ids(&html), [prod.clone(), dev.clone()], "newest first");
    assert!(html.contains("S3 bucket logs-one"), "titles are shown");
    assert!(html.contains("<form method=\"get\" action=\"/requests\""));
    assert!(
        html.contains("<details class=\"filter-box\"><summary>Filters"),
        "the filters fold on narrow screens, without script"
    );
    assert!(!html.contains(" active</summary>"), "no filter in use");
    assert_eq!(
        html.matches("<td class=\"status\"><span class=\"badge\"")
            .count(),
        2,
        "every row's status, in a cell a card can place"
    );
    assert!(html.contains("data-testid=\"who\""), "the signed-in user");

    let (_, html) = app.page_as(&cookie, "/requests?environment=prod").await;
    assert_eq!(row_ids(&html), [prod.as_str()]);
    assert!(
        html.contains(" · 1 active</summary>"),
        "the folded filters say one is in use"
    );
    assert!(
        html.contains("<option value=\"prod\" selected"),
        "the form shows the filter in use"
    );
    let (_, html) = app.page_as(&cookie, "/requests?q=LOGS-ONE").await;
    assert_eq!(row_ids(&html), [dev.as_str()], "free text ignores case");

    // The per-status counts cover every request, whatever the filter.
    let (_, html) = app.page_as(&cookie, "/requests?environment=dev").await;
    assert_eq!(html.matches("data-testid=\"count\"").count(), 10);

    // Bad filters get a sentence that names the filter, not a 500.
    let (status, html) = app.page_as(&cookie, "/requests?status=done").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("The status filter cannot be used: `done` is not a status"),
        "{html}"
    );
    let (_, html) = app.page_as(&cookie, "/requests?cursor=..%2Fx").await;
    assert!(html.contains("The cursor filter cannot be used"));
}

#[tokio::test]
async fn the_dashboard_pages_with_a_cursor() {
    // 55 stored requests, indexed at start (no flow runs for them).
    let data = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(
        server::store::fs::FsStore::open(data.path().join("store/requests")).unwrap(),
    );
    let repo = server::store::repo::RequestRepo::new(store);
    let mut ids = Vec::new();
    for i in 0..55u64 {
        let id = RequestId::generate(1_700_000_000_000 + i, i as u32);
        repo.create(&sample_request(id, "dev", "s3-bucket", "ana"))
            .await
            .unwrap();
        ids.push(id.to_string());
    }
    ids.reverse();
    let app = TestApp::spawn_in(data).await;
    let cookie = app.signed_in("vic", Role::Viewer).await;
    let (_, first) = app.page_as(&cookie, "/requests").await;
    assert_eq!(row_ids(&first), ids[..50]);
    let next = first
        .split("rel=\"next\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .and_then(|s| s.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    assert_eq!(next, format!("/requests?cursor={}", ids[49]));
    let (_, second) = app.page_as(&cookie, &next).await;
    assert_eq!(row_ids(&second), ids[50..]);
    assert!(!second.contains("rel=\"next\""), "the last page");
    assert!(
        second.contains("href=\"/requests\">← Newest"),
        "back to the first page"
    );
}

#[tokio::test]
async fn signed_out_visitors_are_asked_to_sign_in() {
    let app = TestApp::spawn().await;
    let res = app.get("/requests?environment=dev&q=a%20b").await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/login?next=/requests%3Fenvironment%3Ddev%26q%3Da%2520b"
    );
    let res = app.get("/admin/users").await;
    assert_eq!(res.headers()["location"], "/login?next=/admin/users");
    assert_eq!(app.get("/").await.status(), 200, "the catalogue is public");
    assert_eq!(app.get("/api/v1/events").await.status(), 401);
}

/// Reads server-sent events until one of `kind` mentions `needle`.
async fn wait_for_event(body: &mut reqwest::Response, kind: &str, needle: &str) -> Value {
    let mut buffer = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut event = "message";
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if event == kind && data.contains(needle) {
                return serde_json::from_str(&data).unwrap();
            }
        }
        let chunk = tokio::time::timeout_at(deadline, body.chunk())
            .await
            .unwrap_or_else(|_| panic!("no `{kind}` event for {needle}: {buffer}"))
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn the_event_stream_sends_each_changed_row_with_counts() {
    let app = TestApp::spawn().await;
    let token = app.token("ana", Role::Requester).await;
    let res = app.get_as(&token, "/api/v1/events").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let mut body = res;
    let id = file(&app, &token, "dev", "live-bucket").await;
    let created = wait_for_event(&mut body, "request", &id).await;
    assert_eq!(created["row"]["title"], "S3 bucket live-bucket");
    assert_eq!(created["row"]["environment"], "dev");
    assert!(
        created["counts"]
            .as_object()
            .unwrap()
            .values()
            .any(|n| n == 1)
    );
    // The flow moves it on; each change arrives as its new row.
    let ready = wait_for_event(&mut body, "request", "\"plan_ready\"").await;
    assert_eq!(ready["row"]["id"], id.as_str());
    assert_eq!(ready["counts"]["plan_ready"], 1);
}

/// The change number a rendered page passes to its live island.
fn since_of(html: &str) -> u64 {
    let at = html
        .find("since&quot;:")
        .unwrap_or_else(|| panic!("the page carries its change number: {html}"));
    html[at + "since&quot;:".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_page_misses_no_change_between_its_render_and_its_stream() {
    let app = TestApp::spawn().await;
    let token = app.token("ana", Role::Requester).await;
    let cookie = app.signed_in("vic", Role::Viewer).await;
    let (_, html) = app.page_as(&cookie, "/requests").await;
    let since = since_of(&html);
    // A change lands after the render, before the page's stream opens.
    let id = file(&app, &token, "dev", "between-bucket").await;
    let mut late = app
        .get_as(&token, &format!("/api/v1/events?after={since}"))
        .await;
    let replayed = wait_for_event(&mut late, "request", &id).await;
    assert_eq!(replayed["row"]["title"], "S3 bucket between-bucket");

    // A reconnect resumes from its last event id.
    let mut resumed = app
        .client
        .get(app.url("/api/v1/events"))
        .bearer_auth(&token)
        .header("last-event-id", since.to_string())
        .send()
        .await
        .unwrap();
    wait_for_event(&mut resumed, "request", &id).await;

    // A number far beyond anything the change log holds: re-read the
    // page. (One a little ahead is another replica's, further along the
    // log: `tests/it/replicas`.)
    let mut foreign = app
        .get_as(
            &token,
            &format!("/api/v1/events?after={}", since + 100_000_000),
        )
        .await;
    wait_for_event(&mut foreign, "resync", "no longer kept").await;

    let bad = app.get_as(&token, "/api/v1/events?after=soon").await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("change number"));
}
