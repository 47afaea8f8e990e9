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
