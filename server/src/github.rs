//! Talking to GitHub's REST API: authentication (a token or a GitHub App
//! installation, from the environment or the stored integration read on
//! every call), the API base URL (GitHub Enterprise), and what to do on
//! rate limits and 5xx. The `git::github` host and the `exec::actions`
//! executor share one client.

mod auth;

pub use crate::config::github::{GitHubAuth, GitHubSettings, split_repo};
use crate::integrations::credentials::Credentials;
use crate::meters::{self, Outcome, Service};
use auth::Auth;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What can go wrong talking to GitHub, before any status is looked at
/// (a reply with an error status is still a `Reply`: its caller decides).
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    /// The settings cannot make a client (bad API URL, bad App key).
    #[error("{0}")]
    Settings(String),
    /// GitHub could not be reached, after the retries a call allows.
    #[error("GitHub unreachable: {0}")]
    Unreachable(String),
    /// A rate limit longer than `TFPILOT_GITHUB_MAX_WAIT_SECS`, or still
    /// there after the last attempt.
    #[error("GitHub rate limit: {message} (resets in {}s)", wait.as_secs())]
    RateLimited {
        /// GitHub's message.
        message: String,
        /// How long GitHub asked to wait.
        wait: Duration,
    },
    /// A body that is not what was expected.
    #[error("GitHub sent an unexpected {status} body: {message}")]
    Decode {
        /// The reply's status.
        status: StatusCode,
        /// The parser's complaint.
        message: String,
    },
    /// Stored credentials are to be used and none are stored.
    #[error(
        "no GitHub credentials: store a github_app or github_token integration named default on /admin/integrations"
    )]
    NoCredentials,
    /// A download URL that is not an absolute URL.
    #[error("{0}")]
    BadUrl(String),
    /// A download that kept failing.
    #[error("download failed: {0}")]
    Download(String),
}

/// A response, whatever its status.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers (`location`, rate-limit headers…).
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Reply {
    /// The body as `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, GitHubError> {
        serde_json::from_slice(&self.body).map_err(|e| GitHubError::Decode {
            status: self.status,
            message: e.to_string(),
        })
    }

    /// The body as `T`, the error as a message.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, String> {
        self.decode().map_err(|e| e.to_string())
    }

    /// GitHub's `message`, or the status.
    pub fn message(&self) -> String {
        serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| self.status.to_string())
    }
}

/// Whether a call may be sent again after a 5xx or a lost connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads and content-addressed writes: repeat freely.
    Safe,
    /// A repeat could act twice (a workflow dispatch): the caller looks first.
    Once,
}

const ATTEMPTS: u32 = 5;

/// A GitHub REST client.
#[derive(Clone)]
pub struct GitHubClient {
    auth: Auth,
    max_wait: Duration,
    api_url: String,
}

impl std::fmt::Debug for GitHubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubClient")
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

impl GitHubClient {
    /// A client for `settings`; fails on a malformed URL or key. With
    /// [`GitHubAuth::Stored`] every call fails until [`GitHubClient::reading`]
    /// gives it the stored credentials.
    pub fn new(settings: &GitHubSettings) -> Result<Self, GitHubError> {
        Ok(Self {
            auth: Auth::new(settings)?,
            max_wait: settings.max_wait,
            api_url: settings.api_url.clone(),
        })
    }

    /// This client reading the stored `github_app` (preferred) or
    /// `github_token` integration of `credentials` on every call, when its
    /// settings say [`GitHubAuth::Stored`]; unchanged otherwise.
    pub fn reading(self, credentials: &Credentials) -> Self {
        Self {
            auth: self.auth.reading(credentials),
            ..self
        }
    }

    /// Sends a call to `path` (relative to the API URL), waiting out rate limits up to
    /// the configured maximum and retrying 5xx when `retry` allows.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        retry: Retry,
    ) -> Result<Reply, GitHubError> {
        let octo = self.auth.client(&self.api_url)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= ATTEMPTS;
            let sent = once(&octo, &method, path, body).await;
            meters::upstream_call(
                Service::GitHub,
                match &sent {
                    Ok(reply) if rate_limited(reply).is_some() => Outcome::RateLimited,
                    Ok(reply) => Outcome::of_status(reply.status.as_u16()),
                    Err(_) => Outcome::Error,
                },
            );
            let reply = match sent {
                Ok(reply) => reply,
                Err(e) if retry == Retry::Safe && !last => {
                    tracing::warn!(%method, path, "GitHub unreachable ({e}); retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(GitHubError::Unreachable(e.to_string())),
            };
            if let Some(wait) = rate_limited(&reply) {
                if wait > self.max_wait || last {
                    return Err(GitHubError::RateLimited {
                        message: reply.message(),
                        wait,
                    });
                }
                tracing::warn!(%method, path, "GitHub rate limit; waiting {wait:?}");
                meters::rate_limit_wait(Service::GitHub, wait);
                tokio::time::sleep(wait).await;
                continue;
            }
            if reply.status.is_server_error() && retry == Retry::Safe && !last {
                tracing::warn!(%method, path, status = %reply.status, "GitHub error; retrying");
                tokio::time::sleep(backoff(attempt)).await;
                continue;
            }
            return Ok(reply);
        }
    }

    /// Downloads an absolute URL outside the API (artifact storage), without
    /// credentials.
    pub async fn download(&self, url: &str) -> Result<Reply, GitHubError> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| GitHubError::BadUrl(format!("bad download URL `{url}`: {e}")))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(GitHubError::BadUrl(format!(
                "download URL `{url}` is not absolute"
            )));
        };
        let plain = Octocrab::builder()
            .base_uri(format!("{scheme}://{authority}"))
            .and_then(|b| b.build())
            .map_err(|e| GitHubError::BadUrl(format!("download client: {e}")))?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = async {
                let res = plain._get(path).await?;
                let (parts, body) = res.into_parts();
                let body = body.collect().await?.to_bytes();
                Ok::<_, octocrab::Error>(Reply {
                    status: parts.status,
                    headers: parts.headers,
                    body,
                })
            }
            .await;
            meters::upstream_call(
                Service::GitHub,
                match &result {
                    Ok(reply) => Outcome::of_status(reply.status.as_u16()),
                    Err(_) => Outcome::Error,
                },
            );
            match result {
                Ok(reply) if !reply.status.is_server_error() || attempt >= ATTEMPTS => {
                    return Ok(reply);
                }
                Err(e) if attempt >= ATTEMPTS => return Err(GitHubError::Download(e.to_string())),
                _ => tokio::time::sleep(backoff(attempt)).await,
            }
        }
    }
}

/// One attempt of a call.
async fn once(
    octo: &Octocrab,
    method: &Method,
    path: &str,
    body: Option<&Value>,
) -> Result<Reply, octocrab::Error> {
    let res = match *method {
        Method::GET => octo._get(path).await?,
        Method::POST => octo._post(path, body).await?,
        Method::PATCH => octo._patch(path, body).await?,
        Method::PUT => octo._put(path, body).await?,
        Method::DELETE => octo._delete(path, body).await?,
        _ => octo._get(path).await?,
    };
    let (parts, body) = res.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

/// `POST` of JSON to `base` + `path` without credentials, asking for JSON
/// back (the OAuth token exchange at `https://github.com`).
pub async fn post_json(base: &str, path: &str, body: &Value) -> Result<Reply, String> {
    let client = Octocrab::builder()
        .base_uri(base)
        .map_err(|e| format!("bad URL `{base}`: {e}"))?
        .add_header(http::header::ACCEPT, "application/json".into())
        .set_connect_timeout(Some(Duration::from_secs(10)))
        .set_read_timeout(Some(Duration::from_secs(30)))
        .build()
        .map_err(|e| e.to_string())?;
    let res = client
        ._post(path, Some(body))
        .await
        .map_err(|e| e.to_string())?;
    let (parts, body) = res.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

/// `GET` of `api` + `path` as a signed-in user (their OAuth token).
pub async fn get_as_user(api: &str, path: &str, token: &str) -> Result<Reply, String> {
    let client = Octocrab::builder()
        .base_uri(api)
        .map_err(|e| format!("bad URL `{api}`: {e}"))?
        .user_access_token(token.to_owned())
        .set_connect_timeout(Some(Duration::from_secs(10)))
        .set_read_timeout(Some(Duration::from_secs(30)))
        .build()
        .map_err(|e| e.to_string())?;
    let res = client._get(path).await.map_err(|e| e.to_string())?;
    let (parts, body) = res.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

fn backoff(attempt: u32) -> Duration {
    let base = 200u64 << attempt.min(5);
    Duration::from_millis(base + fastrand::u64(0..base / 2))
}

/// How long a rate-limited reply says to wait, if it is one: `retry-after`
/// (secondary limits, 429), or `x-ratelimit-reset` once the primary limit
/// is spent.
fn rate_limited(reply: &Reply) -> Option<Duration> {
    if !matches!(reply.status.as_u16(), 403 | 429) {
        return None;
    }
    let header = |name: &str| {
        reply
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if let Some(secs) = header("retry-after") {
        return Some(Duration::from_secs(secs));
    }
    if header("x-ratelimit-remaining") == Some(0) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let reset = header("x-ratelimit-reset").unwrap_or(now + 60);
        return Some(Duration::from_secs(reset.saturating_sub(now).max(1)));
    }
    (reply.status == StatusCode::TOO_MANY_REQUESTS).then(|| Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, headers: &[(&'static str, &str)]) -> Reply {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, v.parse().unwrap());
        }
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers: map,
            body: Bytes::new(),
        }
    }

    #[test]
    fn rate_limits_are_recognised() {
        assert_eq!(
            rate_limited(&reply(429, &[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            rate_limited(&reply(403, &[("retry-after", "2")])),
            Some(Duration::from_secs(2))
        );
        let soon = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 5;
        let wait = rate_limited(&reply(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &soon.to_string()),
            ],
        ))
        .unwrap();
        assert!(wait <= Duration::from_secs(5) && wait >= Duration::from_secs(4));
        assert_eq!(
            rate_limited(&reply(403, &[("x-ratelimit-remaining", "10")])),
            None,
            "a plain 403 is a refusal, not a limit"
        );
        assert_eq!(rate_limited(&reply(500, &[])), None);
    }
}
