//! The S3 adapter (production): conditional writes with `If-None-Match: *`
//! and `If-Match`, SSE `AES256` when asked, the SDK's standard retry mode
//! (exponential backoff with jitter on 5xx, throttling, timeouts and
//! dropped connections) and operation timeouts.

use super::{Entry, Object, ObjectStore, Page, Precondition, StoreError, check_key};
use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use bytes::Bytes;
use std::time::Duration;

pub use crate::config::S3Settings;

/// Builds an S3 client from settings and the standard AWS chain.
pub async fn client(settings: &S3Settings) -> Client {
    let retry = RetryConfig::standard()
        .with_max_attempts(settings.max_attempts)
        .with_initial_backoff(Duration::from_millis(50))
        .with_max_backoff(Duration::from_secs(2));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(settings.operation_timeout / settings.max_attempts.max(1))
        .operation_timeout(settings.operation_timeout)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some((key, secret)) = &settings.credentials {
        loader = loader.credentials_provider(Credentials::new(key, secret, None, None, "tfpilot"));
    }
    let shared = loader.load().await;
    let mut config =
        aws_sdk_s3::config::Builder::from(&shared).force_path_style(settings.path_style);
    if shared.region().is_none() {
        config = config.region(Region::new("us-east-1"));
    }
    if let Some(endpoint) = &settings.endpoint {
        config = config.endpoint_url(endpoint);
    }
    Client::from_conf(config.build())
}

/// One bucket.
pub struct S3Store {
    client: Client,
    bucket: String,
    sse: bool,
}

impl S3Store {
    /// A bucket through `client`; `sse` adds `AES256` server-side
    /// encryption to every write.
    pub fn new(client: Client, bucket: impl Into<String>, sse: bool) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            sse,
        }
    }

    /// The SSE algorithm of an object, as S3 reports it (for checks).
    pub async fn encryption_of(&self, key: &str) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| map_err(key, e))?;
        Ok(out.server_side_encryption().map(|s| s.as_str().to_owned()))
    }

    fn sse(&self) -> Option<ServerSideEncryption> {
        self.sse.then_some(ServerSideEncryption::Aes256)
    }
}

/// Maps an SDK error to the port's; the adapter decides the variant.
fn map_err<E>(key: &str, err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().unwrap_or_default().to_owned();
    match (status, code.as_str()) {
        (_, "NoSuchBucket") => {
            StoreError::Invalid(format!("the bucket does not exist (key {key})"))
        }
        (Some(404), _) | (_, "NoSuchKey") => StoreError::NotFound(key.to_owned()),
        (Some(412), _) | (_, "PreconditionFailed" | "ConditionalRequestConflict") => {
            StoreError::Conflict(key.to_owned())
        }
        (Some(400), _) => StoreError::Invalid(format!("{key}: {}", DisplayErrorContext(&err))),
        _ => StoreError::Unavailable(format!("{key}: {}", DisplayErrorContext(&err))),
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn get(&self, key: &str) -> Result<Object, StoreError> {
        check_key(key)?;
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| map_err(key, e))?;
        let etag = out.e_tag().unwrap_or_default().to_owned();
        let body =
            out.body.collect().await.map_err(|e| {
                StoreError::Unavailable(format!("{key}: reading the body failed: {e}"))
            })?;
        Ok(Object {
            bytes: body.into_bytes(),
            etag,
        })
    }

    async fn put(&self, key: &str, bytes: Bytes, cond: Precondition) -> Result<String, StoreError> {
        check_key(key)?;
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .set_server_side_encryption(self.sse())
            .body(ByteStream::from(bytes));
        req = match cond {
            Precondition::None => req,
            Precondition::IfAbsent => req.if_none_match("*"),
            Precondition::IfMatch(etag) => req.if_match(etag),
        };
        let out = req.send().await.map_err(|e| map_err(key, e))?;
        Ok(out.e_tag().unwrap_or_default().to_owned())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| map_err(key, e))?;
        Ok(())
    }

    async fn list(
        &self,
        prefix: &str,
        token: Option<String>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let out = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .max_keys(limit.clamp(1, 1000) as i32)
            // The token is the last key of the previous page, as with the
            // file store: a cursor a caller can hand back later.
            .set_start_after(token)
            .send()
            .await
            .map_err(|e| map_err(prefix, e))?;
        let entries: Vec<Entry> = out
            .contents()
            .iter()
            .filter_map(|o| {
                Some(Entry {
                    key: o.key()?.to_owned(),
                    etag: o.e_tag().unwrap_or_default().to_owned(),
                    size: o.size().unwrap_or_default().max(0) as u64,
                })
            })
            .collect();
        let next = out
            .is_truncated()
            .unwrap_or(false)
            .then(|| entries.last().map(|e: &Entry| e.key.clone()))
            .flatten();
        Ok(Page { entries, next })
    }

    async fn copy(&self, from: &str, to: &str) -> Result<String, StoreError> {
        check_key(from)?;
        check_key(to)?;
        let out = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(format!("{}/{from}", self.bucket))
            .set_server_side_encryption(self.sse())
            .send()
            .await
            .map_err(|e| map_err(from, e))?;
        Ok(out
            .copy_object_result()
            .and_then(|r| r.e_tag())
            .unwrap_or_default()
            .to_owned())
    }

    fn describe(&self) -> String {
        format!("s3://{}", self.bucket)
    }
}
