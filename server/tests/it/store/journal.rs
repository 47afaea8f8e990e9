//! Chat logs and the audit log are append-only.

use super::{fs_store, s3_store};
use server::store::journal::{AuditLog, AuditRecord, ChatLogs, ChatMessage, append_numbered};
use server::store::{ObjectStore, list_all};
use std::sync::Arc;

fn message(n: usize) -> ChatMessage {
    ChatMessage {
        role: if n.is_multiple_of(2) {
            "assistant"
        } else {
            "user"
        }
        .into(),
        text: format!("message {n}"),
        at: format!("2026-01-01T00:00:{n:02}Z"),
    }
}

async fn chat_logs_append_in_order(store: Arc<dyn ObjectStore>) {
    let logs = ChatLogs::new(store.clone());
    for n in 0..5 {
        assert_eq!(
            logs.append("0123456789abcdef", &message(n)).await.unwrap(),
            n as u64 + 1
        );
    }
    let more: Vec<_> = (5..8).map(message).collect();
    assert_eq!(
        logs.append_all("0123456789abcdef", &more).await.unwrap(),
        8,
        "a batch continues the numbering"
    );
    let read = logs.read("0123456789abcdef").await.unwrap();
    assert_eq!(read, (0..8).map(message).collect::<Vec<_>>());
    let keys: Vec<_> = list_all(store.as_ref(), "0123456789abcdef/")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(keys[0], "0123456789abcdef/000001.json");
}

#[tokio::test]
async fn chat_logs_on_disk() {
    chat_logs_append_in_order(fs_store("chat").await).await;
}

#[tokio::test]
async fn chat_logs_on_s3() {
    chat_logs_append_in_order(s3_store("chat").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_never_overwrite() {
    let store = fs_store("append").await;
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                append_numbered(store.as_ref(), "log", format!("record {i}").into())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort();
    assert_eq!(
        seqs,
        (1..=16).collect::<Vec<u64>>(),
        "every record got its own number"
    );
    let mut bodies = Vec::new();
    for e in list_all(store.as_ref(), "log/").await.unwrap() {
        bodies.push(String::from_utf8(store.get(&e.key).await.unwrap().bytes.to_vec()).unwrap());
    }
    bodies.sort();
    let mut expected: Vec<_> = (0..16).map(|i| format!("record {i}")).collect();
    expected.sort();
    assert_eq!(bodies, expected, "no record lost or overwritten");
}

#[tokio::test]
async fn audit_records_are_kept_per_request_in_order() {
    let audit = AuditLog::new(fs_store("audit").await);
    let record = |action: &str, request: Option<&str>| AuditRecord {
        at: "2026-01-01T00:00:00Z".into(),
        actor: "alice".into(),
        action: action.into(),
        request: request.map(str::to_owned),
        before_version: None,
        after_version: Some(1),
        detail: String::new(),
    };
    audit
        .append(&record("request.create", Some("r1")))
        .await
        .unwrap();
    audit.append(&record("token.create", None)).await.unwrap();
    audit
        .append(&record("request.plan", Some("r1")))
        .await
        .unwrap();
    let actions: Vec<_> = audit
        .read(Some("r1"))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(actions, ["request.create", "request.plan"]);
    assert_eq!(audit.read(None).await.unwrap()[0].action, "token.create");
}
