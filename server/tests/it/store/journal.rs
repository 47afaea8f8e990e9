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
    // Logs written before transcripts were batched: a record per message.
    for n in 0..5 {
        assert_eq!(
            logs.append("0123456789abcdef", &message(n)).await.unwrap(),
            n as u64 + 1
        );
    }
    let more: Vec<_> = (5..300).map(message).collect();
    assert_eq!(
        logs.append_all("0123456789abcdef", &more).await.unwrap(),
        Some(6),
        "a transcript is one record that continues the numbering"
    );
    assert_eq!(
        logs.append_all("0123456789abcdef", &[]).await.unwrap(),
        None,
        "an empty transcript writes nothing"
    );
    let read = logs.read("0123456789abcdef").await.unwrap();
    assert_eq!(read, (0..300).map(message).collect::<Vec<_>>());
    let keys: Vec<_> = list_all(store.as_ref(), "0123456789abcdef/")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(keys.len(), 6, "five old records and one batch");
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
        count: 1,
        until: None,
        via: None,
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

/// Counts the listings a store is asked for.
struct Counting {
    inner: Arc<dyn ObjectStore>,
    lists: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl ObjectStore for Counting {
    async fn get(&self, key: &str) -> Result<server::store::Object, server::store::StoreError> {
        self.inner.get(key).await
    }
    async fn put(
        &self,
        key: &str,
        bytes: bytes::Bytes,
        cond: server::store::Precondition,
    ) -> Result<String, server::store::StoreError> {
        self.inner.put(key, bytes, cond).await
    }
    async fn delete(&self, key: &str) -> Result<(), server::store::StoreError> {
        self.inner.delete(key).await
    }
    async fn list(
        &self,
        prefix: &str,
        token: Option<String>,
        limit: usize,
    ) -> Result<server::store::Page, server::store::StoreError> {
        self.lists.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.list(prefix, token, limit).await
    }
    async fn copy(&self, from: &str, to: &str) -> Result<String, server::store::StoreError> {
        self.inner.copy(from, to).await
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

async fn audit_appends_list_nothing_and_read_in_pages(store: Arc<dyn ObjectStore>) {
    let counting = Arc::new(Counting {
        inner: store,
        lists: Default::default(),
    });
    let audit = AuditLog::new(counting.clone());
    for n in 0..25 {
        audit
            .append(&AuditRecord {
                at: "2026-01-01T00:00:00Z".into(),
                actor: "alice".into(),
                action: format!("step.{n:02}"),
                request: None,
                before_version: None,
                after_version: None,
                detail: String::new(),
                count: 1,
                until: None,
                via: None,
            })
            .await
            .unwrap();
    }
    assert_eq!(
        counting.lists.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "an append is one create-only write, no listing"
    );
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let (records, next) = audit.read_page(None, 10, cursor.as_deref()).await.unwrap();
        pages += 1;
        seen.extend(records.into_iter().map(|r| r.action));
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let want: Vec<String> = (0..25).map(|n| format!("step.{n:02}")).collect();
    assert_eq!(seen, want, "every record once, oldest first");
}

#[tokio::test]
async fn audit_appends_are_o1_and_reads_are_paged_on_disk() {
    audit_appends_list_nothing_and_read_in_pages(fs_store("audit-pages").await).await;
}

#[tokio::test]
async fn audit_appends_are_o1_and_reads_are_paged_on_s3() {
    audit_appends_list_nothing_and_read_in_pages(s3_store("audit-pages").await).await;
}
