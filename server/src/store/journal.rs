//! Append-only logs over the object store: request chat logs
//! (`<request id>/<seq>.json` in the chat-logs bucket, one record per
//! transcript) and the audit log (`audit/<scope>/<time>-<nonce>.json`).
//! Every record is created with `If-None-Match: *`, so nothing is ever
//! overwritten — with one exception, a folded refusal's count (see
//! [`fold`]), which only ever grows.

mod fold;

pub use fold::FOLD_WINDOW;

use super::{ObjectStore, Precondition, StoreError, list_all};
use crate::clock::{Clock, SystemClock};
use crate::ids::{Ids, OsIds};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Appends numbered records under `<prefix>/`: `000001.json`, `000002.json`…
/// Returns the number written.
pub async fn append_numbered(
    store: &dyn ObjectStore,
    prefix: &str,
    bytes: Bytes,
) -> Result<u64, StoreError> {
    let next = next_number(store, prefix).await?;
    append_from(store, prefix, bytes, next).await
}

/// The number the next record under `<prefix>/` will probably get.
async fn next_number(store: &dyn ObjectStore, prefix: &str) -> Result<u64, StoreError> {
    Ok(list_all(store, &format!("{prefix}/")).await?.len() as u64 + 1)
}

/// Writes the record at number `seq`, or the first free one after it.
async fn append_from(
    store: &dyn ObjectStore,
    prefix: &str,
    bytes: Bytes,
    mut seq: u64,
) -> Result<u64, StoreError> {
    loop {
        let key = format!("{prefix}/{seq:06}.json");
        match store.put(&key, bytes.clone(), Precondition::IfAbsent).await {
            Ok(_) => return Ok(seq),
            Err(StoreError::Conflict(_)) => {
                // Someone took this number — or our own lost-response write did.
                if store.get(&key).await?.bytes == bytes {
                    return Ok(seq);
                }
                seq += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// One chat message of a request's transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `assistant` or `user`.
    pub role: String,
    /// The text.
    pub text: String,
    /// When.
    pub at: String,
}

/// The chat-logs bucket.
#[derive(Clone)]
pub struct ChatLogs {
    store: Arc<dyn ObjectStore>,
}

impl ChatLogs {
    /// Over the chat-logs bucket.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    /// Appends one message; returns its sequence number.
    pub async fn append(&self, request_id: &str, message: &ChatMessage) -> Result<u64, StoreError> {
        let bytes = serde_json::to_vec(message).expect("serializes");
        append_numbered(self.store.as_ref(), request_id, bytes.into()).await
    }

    /// Appends a transcript as one record (a JSON array of its messages):
    /// one listing and one create-only write, however many messages.
    /// Returns the record's number; an empty transcript writes nothing.
    pub async fn append_all(
        &self,
        request_id: &str,
        messages: &[ChatMessage],
    ) -> Result<Option<u64>, StoreError> {
        if messages.is_empty() {
            return Ok(None);
        }
        let bytes = serde_json::to_vec(messages).expect("serializes");
        append_numbered(self.store.as_ref(), request_id, bytes.into())
            .await
            .map(Some)
    }

    /// The whole transcript, in order: records of one message (as written
    /// before transcripts were batched) and of a batch alike.
    pub async fn read(&self, request_id: &str) -> Result<Vec<ChatMessage>, StoreError> {
        /// A stored chat record.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Batch(Vec<ChatMessage>),
            One(ChatMessage),
        }
        let mut out = Vec::new();
        for entry in list_all(self.store.as_ref(), &format!("{request_id}/")).await? {
            let obj = self.store.get(&entry.key).await?;
            match serde_json::from_slice(&obj.bytes) {
                Ok(Stored::Batch(batch)) => out.extend(batch),
                Ok(Stored::One(m)) => out.push(m),
                Err(e) => {
                    tracing::error!(key = %entry.key, "skipping an unreadable chat record: {e}")
                }
            }
        }
        Ok(out)
    }
}

/// `now` (the clock in milliseconds), made strictly increasing within this
/// process, so records appended one after another sort in that order.
fn next_millis(now: u64) -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What (`request.create`, `token.create`, `auth.denied`…).
    pub action: String,
    /// The request concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// Version before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_version: Option<u64>,
    /// Version after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_version: Option<u64>,
    /// Free text (never a secret).
    #[serde(default)]
    pub detail: String,
    /// How many identical refusals this record stands for: repeats are
    /// folded on write (see [`AuditLog::append_refusal`]); 1 otherwise.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u64,
    /// When the last of the folded refusals happened, when there are more
    /// than one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// How the action arrived when not through the web or the API
    /// (`slack`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

/// The append-only audit log.
#[derive(Clone)]
pub struct AuditLog {
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
}

impl AuditLog {
    /// Over the requests bucket, on the system clock and the OS random
    /// source (the server gives its own with [`AuditLog::with_clock`] and
    /// [`AuditLog::with_ids`]).
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            ids: Arc::new(OsIds),
        }
    }

    /// Keys records by `clock`'s time.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Makes key nonces from `ids`.
    pub fn with_ids(mut self, ids: Arc<dyn Ids>) -> Self {
        self.ids = ids;
        self
    }

    fn scope(record: &AuditRecord) -> String {
        format!("audit/{}", record.request.as_deref().unwrap_or("_system"))
    }

    /// Appends a record, never overwriting one, in O(1): one create-only
    /// write under a key that sorts by time (`<unix ms, 13 digits>-<nonce>`),
    /// no listing. Records written before this layout (`000001.json`…)
    /// sort before every time key, so the order is kept.
    pub async fn append(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let bytes = Bytes::from(serde_json::to_vec(record).expect("serializes"));
        while !self.create_at(&self.new_key(record), bytes.clone()).await? {}
        Ok(())
    }

    /// Appends a system record (no request) of `actor` doing `action`, at
    /// this log's clock; a failure is logged, never returned: the change
    /// it records is made already.
    pub async fn note(&self, actor: &app::domain::policy::Actor, action: &str, detail: String) {
        let record = AuditRecord {
            at: self.clock.rfc3339_millis(),
            actor: actor.login.clone(),
            action: action.to_owned(),
            request: None,
            before_version: None,
            after_version: None,
            detail,
            count: 1,
            until: None,
            via: Some(actor.credential.via().to_owned()).filter(|v| *v != "session"),
        };
        if let Err(e) = self.append(&record).await {
            tracing::error!("cannot write the audit record {action}: {e}");
        }
    }

    /// A fresh key for `record`: `<scope>/<unix ms, 13 digits>-<nonce>.json`.
    fn new_key(&self, record: &AuditRecord) -> String {
        let nonce = self.ids.random_hex(5);
        let at = next_millis(self.clock.unix_millis());
        format!("{}/{at:013}-{nonce}.json", Self::scope(record))
    }

    /// Creates the record `bytes` under `key`; `false` when another record
    /// holds the key (a twin nonce, once in 2^40).
    async fn create_at(&self, key: &str, bytes: Bytes) -> Result<bool, StoreError> {
        match self
            .store
            .put(key, bytes.clone(), Precondition::IfAbsent)
            .await
        {
            Ok(_) => Ok(true),
            // A lost response of our own write, or a twin.
            Err(StoreError::Conflict(_)) => Ok(self.store.get(key).await?.bytes == bytes),
            Err(e) => Err(e),
        }
    }

    /// The record under `key`; `None` when it is gone or unreadable (the
    /// latter logged).
    async fn fetch(&self, key: &str) -> Result<Option<AuditRecord>, StoreError> {
        match self.store.get(key).await {
            Ok(obj) => match serde_json::from_slice(&obj.bytes) {
                Ok(r) => Ok(Some(r)),
                Err(e) => {
                    tracing::error!(key, "skipping an unreadable audit record: {e}");
                    Ok(None)
                }
            },
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One page of the records of a request (or of the system), oldest
    /// first: at most `limit` after `cursor` (the `next` of the previous
    /// page), and the cursor of the next page when there is one.
    pub async fn read_page(
        &self,
        request: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<(Vec<AuditRecord>, Option<String>), StoreError> {
        let prefix = format!("audit/{}/", request.unwrap_or("_system"));
        let page = self
            .store
            .list(&prefix, cursor.map(|c| format!("{prefix}{c}")), limit)
            .await?;
        let mut out = Vec::with_capacity(page.entries.len());
        for entry in &page.entries {
            out.extend(self.fetch(&entry.key).await?);
        }
        let next = page
            .next
            .and(page.entries.last())
            .map(|e| e.key[prefix.len()..].to_owned());
        Ok((out, next))
    }

    /// The newest `n` records of a request (or of the system), oldest
    /// first, and how many older ones there are. The keys are listed (a
    /// thousand a call); only the `n` records are read.
    pub async fn read_newest(
        &self,
        request: Option<&str>,
        n: usize,
    ) -> Result<(Vec<AuditRecord>, usize), StoreError> {
        let prefix = format!("audit/{}/", request.unwrap_or("_system"));
        let mut newest = std::collections::VecDeque::with_capacity(n + 1);
        let (mut total, mut token) = (0usize, None);
        loop {
            let page = self.store.list(&prefix, token, 1000).await?;
            for entry in page.entries {
                total += 1;
                newest.push_back(entry.key);
                if newest.len() > n {
                    newest.pop_front();
                }
            }
            match page.next {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        let mut out = Vec::with_capacity(newest.len());
        for key in &newest {
            out.extend(self.fetch(key).await?);
        }
        Ok((out, total - newest.len()))
    }

    /// Every record of one request (or of the system with `None`), in
    /// order: exports and tests; pages read [`Self::read_newest`].
    pub async fn read(&self, request: Option<&str>) -> Result<Vec<AuditRecord>, StoreError> {
        let prefix = format!("audit/{}/", request.unwrap_or("_system"));
        let mut out = Vec::new();
        for entry in list_all(self.store.as_ref(), &prefix).await? {
            out.extend(self.fetch(&entry.key).await?);
        }
        Ok(out)
    }
}
