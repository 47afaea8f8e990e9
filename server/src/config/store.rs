//! Where the object stores are: the data dir, or S3 buckets (`TFPILOT_*_BUCKET`, `TFPILOT_S3_*`).

use super::ConfigError;
use super::env::flag;
use std::time::Duration;

/// Where requests and chat logs are stored.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// The embedded default: directories under the data dir.
    Fs,
    /// Production: two S3 buckets.
    S3 {
        /// `TFPILOT_REQUESTS_BUCKET`.
        requests_bucket: String,
        /// `TFPILOT_CHAT_LOGS_BUCKET` (always SSE `AES256`).
        chat_logs_bucket: String,
        /// SSE `AES256` on the requests bucket (`TFPILOT_REQUESTS_SSE`, default on).
        requests_sse: bool,
        /// Endpoint, path style, region.
        settings: S3Settings,
    },
}

/// How to reach S3 (or an S3-compatible server).
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// Custom endpoint (`TFPILOT_S3_ENDPOINT`), e.g. an S3-compatible server.
    pub endpoint: Option<String>,
    /// Path-style addressing (`TFPILOT_S3_PATH_STYLE`; on with an endpoint).
    pub path_style: bool,
    /// Region; else the AWS chain's, else `us-east-1`.
    pub region: Option<String>,
    /// Static credentials instead of the AWS credential chain (tests).
    pub credentials: Option<(String, String)>,
    /// Attempts per operation, retries included.
    pub max_attempts: u32,
    /// Whole-operation timeout, retries included.
    pub operation_timeout: Duration,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            endpoint: None,
            path_style: false,
            region: None,
            credentials: None,
            max_attempts: 4,
            operation_timeout: Duration::from_secs(30),
        }
    }
}

pub(super) fn store_config(
    env: &impl Fn(&str) -> Option<String>,
) -> Result<StoreConfig, ConfigError> {
    let requests = env("TFPILOT_REQUESTS_BUCKET").filter(|s| !s.is_empty());
    let chat_logs = env("TFPILOT_CHAT_LOGS_BUCKET").filter(|s| !s.is_empty());
    let (requests_bucket, chat_logs_bucket) = match (requests, chat_logs) {
        (None, None) => return Ok(StoreConfig::Fs),
        (Some(r), Some(c)) => (r, c),
        (Some(_), None) => {
            return Err(ConfigError::Env {
                var: "TFPILOT_CHAT_LOGS_BUCKET",
                message: "must be set together with TFPILOT_REQUESTS_BUCKET".into(),
            });
        }
        (None, Some(_)) => {
            return Err(ConfigError::Env {
                var: "TFPILOT_REQUESTS_BUCKET",
                message: "must be set together with TFPILOT_CHAT_LOGS_BUCKET".into(),
            });
        }
    };
    Ok(StoreConfig::S3 {
        requests_bucket,
        chat_logs_bucket,
        requests_sse: flag(env, "TFPILOT_REQUESTS_SSE", true)?,
        settings: s3_settings(env)?,
    })
}

/// Endpoint, path style and region of S3 (`TFPILOT_S3_*`).
pub(super) fn s3_settings(
    env: &impl Fn(&str) -> Option<String>,
) -> Result<S3Settings, ConfigError> {
    let endpoint = env("TFPILOT_S3_ENDPOINT").filter(|s| !s.is_empty());
    if let Some(e) = &endpoint
        && !(e.starts_with("http://") || e.starts_with("https://"))
    {
        return Err(ConfigError::Env {
            var: "TFPILOT_S3_ENDPOINT",
            message: format!("`{e}` must be an http:// or https:// URL"),
        });
    }
    Ok(S3Settings {
        path_style: flag(env, "TFPILOT_S3_PATH_STYLE", endpoint.is_some())?,
        endpoint,
        region: env("TFPILOT_S3_REGION"),
        ..Default::default()
    })
}
