//! The `ObjectStore` port: an S3-shaped key/value store with conditional
//! writes, and its adapters — `fs` (the embedded default) and `s3`.
//!
//! Every adapter passes the same contract suite (`tests/it/store`).

pub mod fs;
pub mod journal;
pub mod lease;
pub mod metered;
pub mod open;
pub mod records;
pub mod repo;
pub mod s3;

use async_trait::async_trait;
use bytes::Bytes;

/// What can go wrong, decided by the adapter.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No object under this key.
    #[error("not found: {0}")]
    NotFound(String),
    /// A precondition failed: the object exists (create) or changed (update).
    #[error("conflict: {0} was written concurrently")]
    Conflict(String),
    /// The backend could not be reached or kept failing after retries.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The request itself is wrong (bad key, bad bucket).
    #[error("invalid store request: {0}")]
    Invalid(String),
}

/// An object's bytes and the entity tag of exactly those bytes.
#[derive(Debug, Clone)]
pub struct Object {
    /// Content.
    pub bytes: Bytes,
    /// Entity tag (opaque; compare for equality only).
    pub etag: String,
}

/// The condition a write must meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Write whatever is there.
    None,
    /// Create only (`If-None-Match: *`).
    IfAbsent,
    /// Replace only this version (`If-Match: <etag>`).
    IfMatch(String),
}

/// One listed key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Full key.
    pub key: String,
    /// Entity tag.
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
}

/// A page of a listing in key order; `next` continues it.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Entries of this page.
    pub entries: Vec<Entry>,
    /// The last key of this page when more follow: passed back as the
    /// token, the listing goes on after it.
    pub next: Option<String>,
}

/// An S3-shaped object store with compare-and-swap writes.
#[async_trait]
pub trait ObjectStore: Send + Sync + 'static {
    /// Reads an object.
    async fn get(&self, key: &str) -> Result<Object, StoreError>;

    /// Writes an object if `cond` holds; returns the new etag.
    async fn put(&self, key: &str, bytes: Bytes, cond: Precondition) -> Result<String, StoreError>;

    /// Deletes an object; deleting a missing key succeeds.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// Lists keys under `prefix` in key order, at most `limit` per page.
    async fn list(
        &self,
        prefix: &str,
        token: Option<String>,
        limit: usize,
    ) -> Result<Page, StoreError>;

    /// Copies `from` to `to` (overwriting); returns the new etag.
    async fn copy(&self, from: &str, to: &str) -> Result<String, StoreError>;

    /// A short description for logs and `/readyz` (`fs:/data/store/requests`).
    fn describe(&self) -> String;
}

/// Lists every key under `prefix`, page by page.
pub async fn list_all(store: &dyn ObjectStore, prefix: &str) -> Result<Vec<Entry>, StoreError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = store.list(prefix, token, 1000).await?;
        out.extend(page.entries);
        match page.next {
            Some(next) => token = Some(next),
            None => return Ok(out),
        }
    }
}

/// Checks a key: 1-512 characters from a safe set, `/`-separated segments
/// that are neither empty nor start with `.`. Both adapters enforce it.
pub fn check_key(key: &str) -> Result<(), StoreError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/');
    let ok = !key.is_empty()
        && key.len() <= 512
        && key.chars().all(ok_char)
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && !seg.starts_with('.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "key `{}` must be 1-512 characters of a-z, A-Z, 0-9, - _ . / with no empty segment and none starting with `.`",
            key.chars().take(80).collect::<String>()
        )))
    }
}
