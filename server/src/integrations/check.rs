//! "Test connection": an integration's stored values tried against its
//! service with the adapter's own client — Slack `auth.test`, GitHub
//! `GET /app` (an App, signed with its key) or `GET /user` (a token),
//! HCP Terraform `GET /api/v2/account/details`. The answer is a sentence
//! that never holds a secret.

use super::Secrets;
use super::kinds::Kind;
use crate::config::{GitHubAuth, GitHubSettings, SecretString, TfcSettings};
use crate::github::{GitHubClient, Retry};
use crate::slack::{SlackApi as _, SlackWeb};
use std::collections::BTreeMap;
use std::time::Duration;

/// The kinds that have a connection test.
pub const TESTABLE: [Kind; 4] = [Kind::Slack, Kind::GithubApp, Kind::GithubToken, Kind::Tfc];

/// What the service answered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Checked {
    /// It accepted the credentials.
    pub ok: bool,
    /// Its answer in a sentence.
    pub message: String,
}

fn secret(secrets: &Secrets, field: &str) -> SecretString {
    SecretString::new(secrets.get(field).cloned().unwrap_or_default())
}

fn answer(result: Result<String, String>) -> Checked {
    match result {
        Ok(message) => Checked { ok: true, message },
        Err(message) => Checked { ok: false, message },
    }
}

/// Tries `kind`'s stored values; `None` for a kind without a test.
pub async fn check(
    kind: Kind,
    metadata: &BTreeMap<String, String>,
    secrets: &Secrets,
) -> Option<Checked> {
    let clear = |field: &str, default: &str| {
        metadata
            .get(field)
            .map_or(default, String::as_str)
            .trim_end_matches('/')
            .to_owned()
    };
    let github_api = clear("api_url", "https://api.github.com");
    Some(answer(match kind {
        Kind::Slack => {
            slack(
                &clear("api_url", "https://slack.com/api"),
                secret(secrets, "bot_token"),
            )
            .await
        }
        Kind::GithubToken => github_user(&github_api, secret(secrets, "token")).await,
        Kind::GithubApp => github_app(&github_api, metadata, secrets).await,
        Kind::Tfc => {
            let settings = TfcSettings {
                url: clear("url", crate::config::DEFAULT_TFC_URL),
                token: secret(secrets, "token"),
            };
            crate::exec::tfc::account_details(&settings)
                .await
                .map(|user| format!("HCP Terraform accepts the token: user {user}"))
        }
        Kind::Model | Kind::Smtp | Kind::WebhookSecret => return None,
    }))
}

async fn slack(api_url: &str, token: SecretString) -> Result<String, String> {
    let web = SlackWeb::new(api_url, token).map_err(|e| e.to_string())?;
    let me = web
        .auth_test()
        .await
        .map_err(|e| format!("Slack refused: {e}"))?;
    Ok(format!(
        "Slack accepts the bot token: team {}, bot user {}",
        me.team, me.user_id
    ))
}

async fn github_user(api_url: &str, token: SecretString) -> Result<String, String> {
    let client = GitHubClient::new(&GitHubSettings {
        api_url: api_url.to_owned(),
        auth: GitHubAuth::Token(token),
        max_wait: Duration::from_secs(5),
    })
    .map_err(|e| e.to_string())?;
    let reply = client
        .send(reqwest::Method::GET, "/user", None, Retry::Safe)
        .await
        .map_err(|e| e.to_string())?;
    if !reply.status.is_success() {
        return Err(format!(
            "GitHub answered {}: {}",
            reply.status,
            reply.message()
        ));
    }
    let user: serde_json::Value = reply.decode().map_err(|e| e.to_string())?;
    Ok(format!(
        "GitHub accepts the token: user {}",
        user["login"].as_str().unwrap_or("?")
    ))
}

async fn github_app(
    api_url: &str,
    metadata: &BTreeMap<String, String>,
    secrets: &Secrets,
) -> Result<String, String> {
    let app_id: u64 = metadata
        .get("app_id")
        .and_then(|v| v.parse().ok())
        .ok_or("app_id is not a number")?;
    let pem = secrets.get("private_key").cloned().unwrap_or_default();
    let key = octocrab::EncodingKey::from_rsa_pem(pem.as_bytes())
        .map_err(|e| format!("the private key is not an RSA key in PEM: {e}"))?;
    let octo = octocrab::Octocrab::builder()
        .base_uri(api_url)
        .map_err(|e| format!("api_url: {e}"))?
        .set_connect_timeout(Some(Duration::from_secs(10)))
        .set_read_timeout(Some(Duration::from_secs(30)))
        .app(app_id.into(), key)
        .build()
        .map_err(|e| e.to_string())?;
    let app: serde_json::Value = octo
        .get("/app", None::<&()>)
        .await
        .map_err(|e| format!("GitHub refused the App: {e}"))?;
    Ok(format!(
        "GitHub accepts the App: {} (id {})",
        app["slug"].as_str().or(app["name"].as_str()).unwrap_or("?"),
        app["id"]
    ))
}
