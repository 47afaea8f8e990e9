//! What each kind gives its adapter, read from the environment (the
//! configuration) or from a stored record's opened fields.

use crate::config::{Config, GitHubAuth, SecretString};
use std::collections::BTreeMap;

/// The Slack app: bot token, signing secret, API and default channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackCredential {
    /// `xoxb-…`.
    pub bot_token: SecretString,
    /// Checks requests from Slack; without one the request URLs answer 404.
    pub signing_secret: Option<SecretString>,
    /// The Web API base, without a trailing slash.
    pub api_url: String,
    /// Where notices go when their project names no channel.
    pub channel: Option<String>,
}

/// HCP Terraform's API and its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfcCredential {
    /// A user or team API token.
    pub token: SecretString,
    /// The installation, without a trailing slash.
    pub url: String,
}

/// The assistant's model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelCredential {
    /// An OpenAI-compatible API base.
    pub url: String,
    /// The model's name.
    pub model: String,
    /// Its bearer token, if it needs one.
    pub api_key: Option<SecretString>,
}

/// The SMTP server of e-mail notices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpCredential {
    /// The whole SMTP URL (it may hold a password).
    pub url: SecretString,
    /// The sender's mailbox.
    pub from: String,
}

/// A GitHub App's key (its ids come with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubAppCredential {
    /// The App's id.
    pub app_id: u64,
    /// Its installation.
    pub installation_id: u64,
    /// Its private key (PEM).
    pub private_key: SecretString,
}

/// What the configuration says where a stored record says nothing.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// `TFPILOT_SLACK_API_URL` or Slack's.
    pub slack_api_url: String,
    /// `TFPILOT_SLACK_CHANNEL`.
    pub slack_channel: Option<String>,
}

impl Defaults {
    /// From `config`.
    pub fn of(config: &Config) -> Self {
        Self {
            slack_api_url: config.slack.api_url.clone(),
            slack_channel: config.slack.channel.clone(),
        }
    }
}

/// A record's opened fields.
pub struct Fields<'a> {
    /// The clear fields.
    pub metadata: &'a BTreeMap<String, String>,
    /// The secret fields.
    pub secrets: &'a BTreeMap<String, String>,
}

impl Fields<'_> {
    fn clear(&self, name: &str) -> Option<String> {
        self.metadata.get(name).filter(|v| !v.is_empty()).cloned()
    }

    fn secret(&self, name: &str) -> Option<SecretString> {
        self.secrets
            .get(name)
            .filter(|v| !v.is_empty())
            .map(|v| SecretString::new(v.clone()))
    }
}

fn trimmed(url: String) -> String {
    url.trim_end_matches('/').to_owned()
}

/// Slack from `TFPILOT_SLACK_*`.
pub fn slack_env(config: &Config) -> Option<SlackCredential> {
    let s = &config.slack;
    Some(SlackCredential {
        bot_token: s.bot_token.clone()?,
        signing_secret: s.signing_secret.clone(),
        api_url: s.api_url.clone(),
        channel: s.channel.clone(),
    })
}

/// Slack from a record: both secrets are needed.
pub fn slack_stored(f: &Fields<'_>, d: &Defaults) -> Option<SlackCredential> {
    Some(SlackCredential {
        bot_token: f.secret("bot_token")?,
        signing_secret: Some(f.secret("signing_secret")?),
        api_url: f.clear("api_url").map_or(d.slack_api_url.clone(), trimmed),
        channel: f.clear("channel").or(d.slack_channel.clone()),
    })
}

/// HCP Terraform from `TFPILOT_TFC_*`.
pub fn tfc_env(config: &Config) -> Option<TfcCredential> {
    let t = config.tfc.as_ref()?;
    Some(TfcCredential {
        token: t.token.clone(),
        url: t.url.clone(),
    })
}

/// HCP Terraform from a record.
pub fn tfc_stored(f: &Fields<'_>) -> Option<TfcCredential> {
    Some(TfcCredential {
        token: f.secret("token")?,
        url: f
            .clear("url")
            .map_or(crate::config::DEFAULT_TFC_URL.to_owned(), trimmed),
    })
}

/// The model from `TFPILOT_MODEL_*`.
pub fn model_env(config: &Config) -> Option<ModelCredential> {
    let m = config.model.as_ref()?;
    Some(ModelCredential {
        url: m.url.clone(),
        model: m.model.clone(),
        api_key: m.api_key.clone(),
    })
}

/// The model from a record.
pub fn model_stored(f: &Fields<'_>) -> Option<ModelCredential> {
    Some(ModelCredential {
        url: trimmed(f.clear("url")?),
        model: f.clear("model")?,
        api_key: f.secret("api_key"),
    })
}

/// SMTP from `TFPILOT_SMTP_*`.
pub fn smtp_env(config: &Config) -> Option<SmtpCredential> {
    let s = config.smtp.as_ref()?;
    Some(SmtpCredential {
        url: s.url.clone(),
        from: s.from.clone(),
    })
}

/// SMTP from a record.
pub fn smtp_stored(f: &Fields<'_>) -> Option<SmtpCredential> {
    Some(SmtpCredential {
        url: f.secret("url")?,
        from: f.clear("from")?,
    })
}

/// A GitHub token from `TFPILOT_GITHUB_TOKEN`.
pub fn github_token_env(config: &Config) -> Option<SecretString> {
    match &config.github.as_ref()?.auth {
        GitHubAuth::Token(t) => Some(t.clone()),
        GitHubAuth::App { .. } | GitHubAuth::Stored => None,
    }
}

/// A GitHub token from a record.
pub fn github_token_stored(f: &Fields<'_>) -> Option<SecretString> {
    f.secret("token")
}

/// A GitHub App from `TFPILOT_GITHUB_APP_*`.
pub fn github_app_env(config: &Config) -> Option<GithubAppCredential> {
    match &config.github.as_ref()?.auth {
        GitHubAuth::App {
            app_id,
            private_key,
            installation_id,
        } => Some(GithubAppCredential {
            app_id: *app_id,
            installation_id: *installation_id,
            private_key: private_key.clone(),
        }),
        GitHubAuth::Token(_) | GitHubAuth::Stored => None,
    }
}

/// A GitHub App from a record.
pub fn github_app_stored(f: &Fields<'_>) -> Option<GithubAppCredential> {
    Some(GithubAppCredential {
        app_id: f.clear("app_id")?.parse().ok()?,
        installation_id: f.clear("installation_id")?.parse().ok()?,
        private_key: f.secret("private_key")?,
    })
}

/// The GitHub webhook secret from `TFPILOT_GITHUB_WEBHOOK_SECRET`.
pub fn webhook_env(config: &Config) -> Option<SecretString> {
    config.github_webhook_secret.clone()
}

/// The webhook secret from a record.
pub fn webhook_stored(f: &Fields<'_>) -> Option<SecretString> {
    f.secret("secret")
}
