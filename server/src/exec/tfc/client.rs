//! The JSON:API client of HCP Terraform / Terraform Enterprise: every API
//! call carries `Authorization: Bearer <token>` and
//! `Content-Type: application/vnd.api+json`; a 429 is waited out
//! (`Retry-After`, else a doubling backoff) and sent again, a bounded
//! number of times; reads are also repeated after a 5xx or a lost
//! connection. Uploads, logs and plan JSON live at other URLs that are
//! fetched without the token.

use super::TfcSettings;
use crate::integrations::live::Live;
use crate::integrations::values::TfcCredential;
use crate::meters::{self, Outcome, Service};
use bytes::Bytes;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// The media type of every JSON:API call.
pub const JSON_API: &str = "application/vnd.api+json";

/// How many times one call is sent at most.
const ATTEMPTS: u32 = 6;
/// The longest `Retry-After` waited out; a longer one fails the call.
const MAX_WAIT: Duration = Duration::from_secs(120);
/// How long one call may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What can go wrong talking to HCP Terraform.
#[derive(Debug, thiserror::Error)]
pub enum TfcError {
    /// 401: the token was refused.
    #[error(
        "HCP Terraform refused TFPILOT_TFC_TOKEN (401) for {0}: the token is wrong, expired or revoked"
    )]
    Unauthorized(String),
    /// No token at all: neither the variable nor a stored integration.
    #[error(
        "no HCP Terraform token for {0}: set TFPILOT_TFC_TOKEN or store the tfc integration `default`"
    )]
    NoToken(String),
    /// 404: no such thing, or the token cannot see it.
    #[error("{0} (404)")]
    NotFound(String),
    /// 429 after every attempt, or a wait longer than allowed.
    #[error("HCP Terraform rate limit on {what}: still refused after waiting {waited:?}")]
    RateLimited {
        /// The call.
        what: String,
        /// How long was waited in all.
        waited: Duration,
    },
    /// Any other error status; `message` is the JSON:API errors' text.
    #[error("{what}: HCP Terraform answered {status}: {message}")]
    Api {
        /// The call.
        what: String,
        /// Its status.
        status: StatusCode,
        /// The `errors[].title`/`detail` of the answer.
        message: String,
    },
    /// The API could not be reached.
    #[error("HCP Terraform unreachable ({what}): {message}")]
    Unreachable {
        /// The call.
        what: String,
        /// The transport's complaint.
        message: String,
    },
    /// A body that is not what was expected.
    #[error("{what}: unexpected answer from HCP Terraform: {message}")]
    Decode {
        /// The call.
        what: String,
        /// The parser's complaint.
        message: String,
    },
}

/// Whether a call may be sent again after a 5xx or a lost connection (a
/// 429 is always sent again: it was not acted on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads: repeat freely.
    Safe,
    /// Writes: a repeat could act twice; the caller looks first.
    Never,
}

/// An answer, whatever its status.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// `Location` of a redirect.
    pub location: Option<String>,
    /// Body.
    pub body: Bytes,
}

impl Reply {
    /// The body as `T`.
    pub fn decode<T: DeserializeOwned>(&self, what: &str) -> Result<T, TfcError> {
        serde_json::from_slice(&self.body).map_err(|e| TfcError::Decode {
            what: what.to_owned(),
            message: e.to_string(),
        })
    }

    /// The JSON:API `errors` of the body as one line, or the status.
    pub fn message(&self) -> String {
        let text = serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|v| {
                let errors = v.get("errors")?.as_array()?;
                let parts: Vec<String> = errors
                    .iter()
                    .filter_map(|e| {
                        let title = e.get("title").and_then(Value::as_str);
                        let detail = e.get("detail").and_then(Value::as_str);
                        match (title, detail) {
                            (Some(t), Some(d)) => Some(format!("{t}: {d}")),
                            (t, d) => t.or(d).map(str::to_owned),
                        }
                    })
                    .collect();
                (!parts.is_empty()).then(|| parts.join("; "))
            });
        text.unwrap_or_else(|| self.status.to_string())
    }

    /// The error for a status the caller did not expect.
    pub fn error(&self, what: &str) -> TfcError {
        match self.status {
            StatusCode::UNAUTHORIZED => TfcError::Unauthorized(what.to_owned()),
            StatusCode::NOT_FOUND => TfcError::NotFound(what.to_owned()),
            status => TfcError::Api {
                what: what.to_owned(),
                status,
                message: self.message(),
            },
        }
    }
}

/// A client of one HCP Terraform (or Terraform Enterprise) installation.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    /// Read on every call: a token changed in the store is used at once.
    token: Live<TfcCredential>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `settings`; refuses a URL that is not http(s).
    pub fn new(settings: &TfcSettings) -> Result<Self, String> {
        if settings.token.expose().trim().is_empty() {
            return Err("TFPILOT_TFC_TOKEN is empty".into());
        }
        Self::live(
            &settings.url,
            Live::fixed(TfcCredential {
                token: settings.token.clone(),
                url: settings.url.clone(),
            }),
        )
    }

    /// A client of the installation at `url` whose token is read from
    /// `token` on every call; refuses a URL that is not http(s).
    pub fn live(url: &str, token: Live<TfcCredential>) -> Result<Self, String> {
        let base = url.trim().trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| format!("TFPILOT_TFC_URL `{base}` is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "TFPILOT_TFC_URL `{base}` must be an http(s) URL such as https://app.terraform.io"
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            // Redirects are followed by hand: the token never goes along.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tfpilot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(Self { http, base, token })
    }

    /// The installation's URL (`https://app.terraform.io`): the
    /// credential's, else the one the client was made with.
    pub fn base(&self) -> String {
        self.token
            .get()
            .map(|c| c.url.trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| self.base.clone())
    }

    /// A JSON:API call to `path` (under `/api/v2`).
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        retry: Retry,
    ) -> Result<Reply, TfcError> {
        let url = format!("{}/api/v2{path}", self.base());
        let what = format!("{method} {path}");
        let token = self
            .token
            .get()
            .filter(|t| !t.token.expose().trim().is_empty())
            .ok_or_else(|| TfcError::NoToken(what.clone()))?;
        self.send(&what, retry, || {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(token.token.expose())
                .header(reqwest::header::CONTENT_TYPE, JSON_API)
                .header(reqwest::header::ACCEPT, JSON_API);
            if let Some(body) = body {
                req = req.body(body.to_string());
            }
            req
        })
        .await
    }

    /// A `GET` of an absolute URL outside the API (a log, a plan's JSON),
    /// without the token.
    pub async fn download(&self, url: &str) -> Result<Reply, TfcError> {
        let url = self.absolute(url);
        self.send("download", Retry::Safe, || self.http.get(&url))
            .await
    }

    /// A `PUT` of a configuration version's archive to its `upload-url`,
    /// without the token.
    pub async fn upload(&self, url: &str, archive: Bytes) -> Result<Reply, TfcError> {
        let url = self.absolute(url);
        self.send("archive upload", Retry::Safe, || {
            self.http
                .put(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(archive.clone())
        })
        .await
    }

    /// `url` made absolute against the installation (Terraform Enterprise
    /// may answer paths).
    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.base())
        } else {
            url.to_owned()
        }
    }

    async fn send(
        &self,
        what: &str,
        retry: Retry,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Reply, TfcError> {
        let mut waited = Duration::ZERO;
        for attempt in 1..=ATTEMPTS {
            let last = attempt == ATTEMPTS;
            let sent = build().send().await;
            meters::upstream_call(
                Service::Tfc,
                match &sent {
                    Ok(res) => Outcome::of_status(res.status().as_u16()),
                    Err(_) => Outcome::Error,
                },
            );
            let res = match sent {
                Ok(res) => res,
                Err(e) if retry == Retry::Safe && !last => {
                    tracing::warn!(call = what, "HCP Terraform unreachable ({e}); retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(e) => {
                    return Err(TfcError::Unreachable {
                        what: what.to_owned(),
                        message: e.to_string(),
                    });
                }
            };
            let status = res.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = retry_after(res.headers()).unwrap_or_else(|| backoff(attempt));
                if last || wait > MAX_WAIT {
                    break;
                }
                tracing::warn!(call = what, "HCP Terraform rate limit; waiting {wait:?}");
                meters::rate_limit_wait(Service::Tfc, wait);
                tokio::time::sleep(wait).await;
                waited += wait;
                continue;
            }
            if status.is_server_error() && retry == Retry::Safe && !last {
                tracing::warn!(call = what, %status, "HCP Terraform error; retrying");
                tokio::time::sleep(backoff(attempt)).await;
                continue;
            }
            let location = res
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = res.bytes().await.map_err(|e| TfcError::Unreachable {
                what: what.to_owned(),
                message: e.to_string(),
            })?;
            return Ok(Reply {
                status,
                location,
                body,
            });
        }
        Err(TfcError::RateLimited {
            what: what.to_owned(),
            waited,
        })
    }
}

/// `Retry-After` in seconds.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let secs: f64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// 250 ms doubling, at most 8 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64 << attempt.min(5)).min(Duration::from_secs(8))
}
