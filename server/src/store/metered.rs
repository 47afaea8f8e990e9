//! `Metered`: an `ObjectStore` that counts the calls and errors of the
//! store it wraps, by bucket role (`requests`, `chat_logs`), operation
//! and error kind. `open` wraps every configured store in one.

use super::{Object, ObjectStore, Page, Precondition, StoreError};
use crate::meters;
use async_trait::async_trait;
use bytes::Bytes;
use std::sync::Arc;

/// A store whose calls are counted under `bucket`.
pub struct Metered {
    inner: Arc<dyn ObjectStore>,
    bucket: &'static str,
}

impl Metered {
    /// Counts the calls to `inner` under the bucket role `bucket`.
    pub fn new(inner: Arc<dyn ObjectStore>, bucket: &'static str) -> Self {
        Self { inner, bucket }
    }

    fn count<T>(
        &self,
        operation: &'static str,
        result: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        meters::store_operation(self.bucket, operation);
        if let Err(e) = &result {
            meters::store_error(self.bucket, kind(e));
        }
        result
    }
}

/// The label of an error's kind.
fn kind(e: &StoreError) -> &'static str {
    match e {
        StoreError::NotFound(_) => "not_found",
        StoreError::Conflict(_) => "conflict",
        StoreError::Unavailable(_) => "unavailable",
        StoreError::Invalid(_) => "invalid",
    }
}

#[async_trait]
impl ObjectStore for Metered {
    async fn get(&self, key: &str) -> Result<Object, StoreError> {
        self.count("get", self.inner.get(key).await)
    }

    async fn put(&self, key: &str, bytes: Bytes, cond: Precondition) -> Result<String, StoreError> {
        self.count("put", self.inner.put(key, bytes, cond).await)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.count("delete", self.inner.delete(key).await)
    }

    async fn list(
        &self,
        prefix: &str,
        token: Option<String>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        self.count("list", self.inner.list(prefix, token, limit).await)
    }

    async fn copy(&self, from: &str, to: &str) -> Result<String, StoreError> {
        self.count("copy", self.inner.copy(from, to).await)
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fs::FsStore;
    use crate::store::records::Records;

    /// One series' value in this process's recorder (`0` when absent).
    fn series(name_and_labels: &str) -> u64 {
        meters::handle()
            .render()
            .lines()
            .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn calls_errors_and_conflicts_are_counted_by_bucket_and_kind() {
        let dir = tempfile::tempdir().unwrap();
        let fs: Arc<dyn ObjectStore> = Arc::new(FsStore::open(dir.path()).unwrap());
        // The chat-logs role: the server's own tests use the other one more.
        let store: Arc<dyn ObjectStore> = Arc::new(Metered::new(fs, "chat_logs"));
        let gets = r#"tfpilot_store_operations_total{bucket="chat_logs",operation="get"}"#;
        let puts = r#"tfpilot_store_operations_total{bucket="chat_logs",operation="put"}"#;
        let missing = r#"tfpilot_store_errors_total{bucket="chat_logs",kind="not_found"}"#;
        let refused = r#"tfpilot_store_errors_total{bucket="chat_logs",kind="conflict"}"#;
        let stale = r#"tfpilot_cas_conflicts_total{record="record"}"#;
        let before = [gets, puts, missing, refused, stale].map(series);

        assert!(store.get("a/missing.json").await.is_err());
        let records = Records::new(store.clone());
        let etag = records
            .put("a/one.json", &serde_json::json!({"n": 1}), None)
            .await
            .unwrap();
        records
            .put("a/one.json", &serde_json::json!({"n": 2}), Some(&etag))
            .await
            .unwrap();
        // A write at the first version again: it lost to the second.
        let lost = records
            .put("a/one.json", &serde_json::json!({"n": 3}), Some(&etag))
            .await;
        assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");

        let after = [gets, puts, missing, refused, stale].map(series);
        let grew: Vec<u64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
        // Other tests of this process may count too: at least ours.
        for (i, least) in [1, 3, 1, 1, 1].into_iter().enumerate() {
            assert!(
                grew[i] >= least,
                "{:?} grew {grew:?}",
                ["get", "put", "not_found", "conflict", "cas"][i]
            );
        }
        assert_eq!(store.describe(), format!("fs:{}", dir.path().display()));
    }
}
