//! `SlackWeb`: the [`SlackApi`] adapter, a small typed client of Slack's Web API over HTTPS.
//!
//! Calls go to `{api_url}/{method}` with the bot token as a bearer token
//! (never logged: it lives in a [`SecretString`]), both read on every call
//! from a [`Live`] credential, so a token changed in the store is used at
//! once; without one a call is [`SlackError::Unavailable`]. HTTP 429 becomes
//! [`SlackError::RateLimited`] with Slack's `Retry-After`, network errors,
//! timeouts (10 s) and 5xx [`SlackError::Unavailable`], and `ok: false`
//! [`SlackError::Api`] with Slack's error code.

use super::api::{BotIdentity, Message, Posted, SlackApi, SlackError, SlackUser};
use crate::config::SecretString;
use crate::integrations::live::Live;
use crate::integrations::values::SlackCredential;
use crate::meters::{self, Outcome, Service};
use async_trait::async_trait;
use reqwest::{RequestBuilder, StatusCode, Url};
use serde_json::{Value, json};
use std::time::Duration;

/// How long one call may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The wait when a 429 names none.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);
/// Where Slack's interaction `response_url`s live.
const HOOKS: &str = "https://hooks.slack.com/";

/// Slack's Web API at `api_url`, as the bot.
#[derive(Debug, Clone)]
pub struct SlackWeb {
    http: reqwest::Client,
    credential: Live<SlackCredential>,
}

/// What a call needs: the API and the token.
struct Bot {
    api_url: String,
    token: SecretString,
}

/// The sentence of a call made while Slack has no bot token.
pub const NOT_CONFIGURED: &str = "Slack is not configured: set TFPILOT_SLACK_BOT_TOKEN and TFPILOT_SLACK_SIGNING_SECRET, or store the slack integration `default`";

impl SlackWeb {
    /// A client of the API at `api_url` (`https://slack.com/api`) with the
    /// bot token `token`.
    pub fn new(api_url: &str, token: SecretString) -> Result<SlackWeb, SlackError> {
        Url::parse(api_url)
            .map_err(|e| SlackError::Unavailable(format!("`{api_url}` is not a URL: {e}")))?;
        Self::live(Live::fixed(SlackCredential {
            bot_token: token,
            signing_secret: None,
            api_url: api_url.trim_end_matches('/').to_owned(),
            channel: None,
        }))
    }

    /// A client whose API and bot token are read from `credential` on
    /// every call.
    pub fn live(credential: Live<SlackCredential>) -> Result<SlackWeb, SlackError> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .user_agent(concat!("tfpilot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SlackError::Unavailable(format!("cannot build an HTTP client: {e}")))?;
        Ok(SlackWeb { http, credential })
    }

    /// The API base URL (empty while Slack is not configured).
    pub fn api_url(&self) -> String {
        self.credential
            .get()
            .map(|c| c.api_url.clone())
            .unwrap_or_default()
    }

    /// The API and token now.
    fn bot(&self) -> Result<Bot, SlackError> {
        let c = self
            .credential
            .get()
            .ok_or_else(|| SlackError::Unavailable(NOT_CONFIGURED.into()))?;
        Ok(Bot {
            api_url: c.api_url.trim_end_matches('/').to_owned(),
            token: c.bot_token.clone(),
        })
    }

    fn post(&self, method: &str) -> Result<RequestBuilder, SlackError> {
        let bot = self.bot()?;
        Ok(self
            .http
            .post(format!("{}/{method}", bot.api_url))
            .bearer_auth(bot.token.expose()))
    }

    /// A Web API call with a JSON body.
    fn post_json(
        &self,
        method: &str,
        body: &impl serde::Serialize,
    ) -> Result<RequestBuilder, SlackError> {
        Ok(json_body(self.post(method)?, body))
    }

    /// Sends a Web API call; its JSON answer when `ok` is true.
    async fn call(
        &self,
        method: &str,
        request: Result<RequestBuilder, SlackError>,
    ) -> Result<Value, SlackError> {
        let (status, body) = send(method, request?).await?;
        let answer = match serde_json::from_str::<Value>(&body) {
            Err(_) => Err(SlackError::Unavailable(format!(
                "{method} answered HTTP {status} without Slack's JSON; is the API URL {} right?",
                self.api_url()
            ))),
            Ok(body) if body["ok"].as_bool() == Some(true) => Ok(body),
            Ok(body) => Err(api_error(&body)),
        };
        counted(answer)
    }

    /// Whether `url` is on Slack's hooks host or on the API's own host.
    fn allowed_response_url(&self, url: &str) -> bool {
        let Ok(target) = Url::parse(url) else {
            return false;
        };
        if !target.username().is_empty() || target.password().is_some() {
            return false;
        }
        if url.starts_with(HOOKS) {
            return true;
        }
        Url::parse(&self.api_url()).is_ok_and(|base| {
            base.scheme() == target.scheme()
                && base.host_str() == target.host_str()
                && base.port_or_known_default() == target.port_or_known_default()
        })
    }
}

/// Sends `request`: the status and body text of an answer that is neither
/// a 429 nor a 5xx.
async fn send(what: &str, request: RequestBuilder) -> Result<(StatusCode, String), SlackError> {
    let response = request.send().await.map_err(|e| {
        meters::upstream_call(Service::Slack, Outcome::Error);
        unavailable(what, e)
    })?;
    let status = response.status();
    // Answers that get through are counted by the caller, which reads
    // Slack's `ok`.
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        meters::upstream_call(Service::Slack, Outcome::of_status(status.as_u16()));
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DEFAULT_RETRY_AFTER, Duration::from_secs);
        // Waited out by the caller (the outbox holds the notice that long).
        meters::rate_limit_wait(Service::Slack, retry_after);
        return Err(SlackError::RateLimited { retry_after });
    }
    if status.is_server_error() {
        return Err(SlackError::Unavailable(format!(
            "{what} answered HTTP {status}"
        )));
    }
    let body = response.text().await.map_err(|e| unavailable(what, e))?;
    Ok((status, body))
}

/// Counts an answer that got through `send` as an `ok` or an error call.
fn counted<T>(answer: Result<T, SlackError>) -> Result<T, SlackError> {
    let outcome = if answer.is_ok() {
        Outcome::Ok
    } else {
        Outcome::Error
    };
    meters::upstream_call(Service::Slack, outcome);
    answer
}

/// `Unavailable`, with the causes of `error` (connection refused, timeout,
/// certificate) but not its URL.
fn unavailable(what: &str, error: reqwest::Error) -> SlackError {
    let error = error.without_url();
    let mut text = format!("{what}: {error}");
    let mut cause = std::error::Error::source(&error);
    while let Some(e) = cause {
        text.push_str(&format!(": {e}"));
        cause = e.source();
    }
    SlackError::Unavailable(text)
}

/// `body` as JSON, declared UTF-8 as Slack asks (it warns `missing_charset`
/// otherwise). The header goes first: `json` keeps a content type it finds.
fn json_body(request: RequestBuilder, body: &impl serde::Serialize) -> RequestBuilder {
    request
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .json(body)
}

/// The `Api` error of an `ok: false` answer.
fn api_error(body: &Value) -> SlackError {
    SlackError::Api(body["error"].as_str().unwrap_or("unknown_error").to_owned())
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

#[async_trait]
impl SlackApi for SlackWeb {
    fn configured(&self) -> bool {
        self.credential.is_set()
    }

    fn default_channel(&self) -> Option<String> {
        self.credential.get().and_then(|c| c.channel.clone())
    }

    async fn post_message(&self, msg: &Message) -> Result<Posted, SlackError> {
        let body = self
            .call("chat.postMessage", self.post_json("chat.postMessage", msg))
            .await?;
        match (text(&body["channel"]), text(&body["ts"])) {
            (Some(channel), Some(ts)) => Ok(Posted { channel, ts }),
            _ => Err(SlackError::Unavailable(
                "chat.postMessage answered without the message's channel and ts".into(),
            )),
        }
    }

    async fn update(&self, channel: &str, ts: &str, msg: &Message) -> Result<(), SlackError> {
        let mut body = json!({"channel": channel, "ts": ts, "text": msg.text});
        if let Some(blocks) = &msg.blocks {
            body["blocks"] = blocks.clone();
        }
        self.call("chat.update", self.post_json("chat.update", &body))
            .await
            .map(drop)
    }

    async fn post_ephemeral(
        &self,
        channel: &str,
        user: &str,
        msg: &Message,
    ) -> Result<(), SlackError> {
        let mut body = json!({"channel": channel, "user": user, "text": msg.text});
        if let Some(thread_ts) = &msg.thread_ts {
            body["thread_ts"] = json!(thread_ts);
        }
        if let Some(blocks) = &msg.blocks {
            body["blocks"] = blocks.clone();
        }
        self.call(
            "chat.postEphemeral",
            self.post_json("chat.postEphemeral", &body),
        )
        .await
        .map(drop)
    }

    async fn user_info(&self, user_id: &str) -> Result<SlackUser, SlackError> {
        let request = self.bot().map(|bot| {
            self.http
                .get(format!("{}/users.info", bot.api_url))
                .bearer_auth(bot.token.expose())
                .query(&[("user", user_id)])
        });
        let body = self.call("users.info", request).await?;
        let user = &body["user"];
        Ok(SlackUser {
            id: text(&user["id"]).unwrap_or_else(|| user_id.to_owned()),
            email: text(&user["profile"]["email"]).filter(|e| !e.is_empty()),
            is_bot: user["is_bot"].as_bool().unwrap_or(false),
            name: text(&user["name"]).unwrap_or_default(),
        })
    }

    async fn auth_test(&self) -> Result<BotIdentity, SlackError> {
        let body = self.call("auth.test", self.post("auth.test")).await?;
        Ok(BotIdentity {
            user_id: text(&body["user_id"]).unwrap_or_default(),
            bot_id: text(&body["bot_id"]),
            team: text(&body["team"]).unwrap_or_default(),
        })
    }

    async fn post_response(&self, response_url: &str, body: &Value) -> Result<(), SlackError> {
        if !self.allowed_response_url(response_url) {
            return Err(SlackError::Api("response_url_not_allowed".into()));
        }
        // No bearer token: a response URL carries its own authority.
        let (status, text) = send(
            "response_url",
            json_body(self.http.post(response_url), body),
        )
        .await?;
        let answer: Option<Value> = serde_json::from_str(&text).ok();
        counted(match answer {
            Some(v) if v["ok"].as_bool() == Some(false) => Err(api_error(&v)),
            _ if status.is_success() => Ok(()),
            _ => Err(SlackError::Api(match text.trim() {
                "" => format!("http_{}", status.as_u16()),
                code => code.chars().take(100).collect(),
            })),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web(api: &str) -> SlackWeb {
        SlackWeb::new(api, SecretString::new("xoxb-1".into())).unwrap()
    }

    #[test]
    fn response_urls_only_on_slack_hooks_or_the_api_host() {
        let slack = web("https://slack.com/api/");
        let fake = web("http://127.0.0.1:4000/api");
        let cases = [
            (&slack, "https://hooks.slack.com/actions/T1/2/xyz", true),
            (&slack, "https://slack.com/other", true),
            (&slack, "http://hooks.slack.com/actions/T1/2/xyz", false),
            (&slack, "https://hooks.slack.com.evil.example/x", false),
            (
                &slack,
                "https://evil.example/?https://hooks.slack.com/",
                false,
            ),
            (&slack, "https://user@hooks.slack.com/x", false),
            (&slack, "not a url", false),
            (&fake, "http://127.0.0.1:4000/response/1", true),
            (&fake, "http://127.0.0.1:40001/response/1", false),
            (&fake, "http://127.0.0.2:4000/response/1", false),
            (&fake, "https://127.0.0.1:4000/response/1", false),
        ];
        for (client, url, want) in cases {
            assert_eq!(client.allowed_response_url(url), want, "{url}");
        }
    }

    #[tokio::test]
    async fn https_is_supported_and_failures_name_their_cause() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = web(&format!("https://127.0.0.1:{port}/api"));
        let Err(SlackError::Unavailable(text)) = client.auth_test().await else {
            panic!("a closed port is unavailable");
        };
        assert!(text.starts_with("auth.test: "), "{text}");
        assert!(!text.contains("builder"), "https is built in: {text}");
        assert!(!text.contains("scheme"), "https is built in: {text}");
        assert!(text.contains("refused"), "{text}");
    }

    #[test]
    fn the_token_is_not_in_debug_output() {
        let client = web("https://slack.com/api");
        assert!(!format!("{client:?}").contains("xoxb-1"));
        assert_eq!(client.api_url(), "https://slack.com/api");
    }
}
