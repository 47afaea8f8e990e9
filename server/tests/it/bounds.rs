//! Bounded input and bounded growth: transcripts within limits and stored
//! as one record.

use crate::support::TestApp;
use app::domain::policy::Role;
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use server::store::journal::ChatLogs;
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
