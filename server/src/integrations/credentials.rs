//! `Credentials`: one [`Live`] credential per kind, read by the adapters
//! on every use. A kind whose environment variable is set takes its value
//! from the configuration and never reads the store; the others read the
//! record named `default` of their kind at start, after every change made
//! through this server, and every refresh period (so other replicas
//! follow). A record that does not open is logged by kind and name only,
//! and leaves that kind unset.

use super::crypto::Keyring;
use super::kinds::{KINDS, Kind};
use super::live::Live;
use super::open_secrets;
use super::store::IntegrationStore;
use super::values::*;
use crate::config::{Config, SecretString};
use crate::store::ObjectStore;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The record every adapter reads.
pub const DEFAULT_NAME: &str = "default";

/// Every kind's live credential.
#[derive(Clone, Default)]
pub struct Credentials {
    /// The Slack app.
    pub slack: Live<SlackCredential>,
    /// A GitHub token.
    pub github_token: Live<SecretString>,
    /// A GitHub App's key.
    pub github_app: Live<GithubAppCredential>,
    /// HCP Terraform.
    pub tfc: Live<TfcCredential>,
    /// The assistant's model.
    pub model: Live<ModelCredential>,
    /// E-mail.
    pub smtp: Live<SmtpCredential>,
    /// GitHub webhooks' secret.
    pub webhook_secret: Live<SecretString>,
    /// The kinds set by the environment, with the variable that wins.
    env: BTreeMap<Kind, &'static str>,
    /// Where the others come from; `None`: nowhere (no master key).
    source: Option<(IntegrationStore, Arc<Keyring>)>,
    defaults: Option<Arc<Defaults>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

/// The variable of each kind that wins when set.
fn env_vars(config: &Config) -> BTreeMap<Kind, &'static str> {
    let s = &config.slack;
    // Either GitHub variable makes the client use the environment's
    // credentials, so it wins over both stored kinds.
    let github = match config.github.as_ref().map(|g| &g.auth) {
        Some(crate::config::GitHubAuth::Token(_)) => Some("TFPILOT_GITHUB_TOKEN"),
        Some(crate::config::GitHubAuth::App { .. }) => Some("TFPILOT_GITHUB_APP_ID"),
        Some(crate::config::GitHubAuth::Stored) | None => None,
    };
    [
        (
            Kind::Slack,
            if s.bot_token.is_some() {
                Some("TFPILOT_SLACK_BOT_TOKEN")
            } else {
                s.signing_secret
                    .as_ref()
                    .map(|_| "TFPILOT_SLACK_SIGNING_SECRET")
            },
        ),
        (Kind::GithubToken, github),
        (Kind::GithubApp, github),
        (Kind::Tfc, config.tfc.as_ref().map(|_| "TFPILOT_TFC_TOKEN")),
        (
            Kind::Model,
            config.model.as_ref().map(|_| "TFPILOT_MODEL_URL"),
        ),
        (Kind::Smtp, config.smtp.as_ref().map(|_| "TFPILOT_SMTP_URL")),
        (
            Kind::WebhookSecret,
            config
                .github_webhook_secret
                .as_ref()
                .map(|_| "TFPILOT_GITHUB_WEBHOOK_SECRET"),
        ),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k, v?)))
    .collect()
}

impl Credentials {
    /// The values of the environment; the other kinds unset until
    /// [`Credentials::refresh`] reads the store given to
    /// [`Credentials::with_store`].
    pub fn from_config(config: &Config) -> Self {
        let env = env_vars(config);
        for (kind, var) in &env {
            tracing::info!(
                kind = kind.as_str(),
                "{var} is set: {} credentials from the environment",
                kind.as_str()
            );
        }
        Self {
            slack: Live::new(slack_env(config)),
            github_token: Live::new(github_token_env(config)),
            github_app: Live::new(github_app_env(config)),
            tfc: Live::new(tfc_env(config)),
            model: Live::new(model_env(config)),
            smtp: Live::new(smtp_env(config)),
            webhook_secret: Live::new(webhook_env(config)),
            env,
            source: None,
            defaults: Some(Arc::new(Defaults::of(config))),
        }
    }

    /// Reading the kinds the environment leaves unset from `store`, opened
    /// with `keys` (none: they stay unset).
    pub fn with_store(mut self, store: Arc<dyn ObjectStore>, keys: Option<Arc<Keyring>>) -> Self {
        self.source = keys.map(|k| (IntegrationStore::new(store), k));
        self
    }

    /// The variable that wins over the store for `kind`, if it is set.
    pub fn env_var(&self, kind: Kind) -> Option<&'static str> {
        self.env.get(&kind).copied()
    }

    /// Whether stored credentials can be read at all (a master key).
    pub fn has_store(&self) -> bool {
        self.source.is_some()
    }

    /// Reads every kind the environment leaves unset from the store.
    pub async fn refresh(&self) {
        for kind in KINDS {
            self.refresh_kind(kind).await;
        }
    }

    /// Reads `kind` from the store, unless the environment sets it. A
    /// store that cannot be read keeps the value held.
    pub async fn refresh_kind(&self, kind: Kind) {
        if self.env.contains_key(&kind) {
            return;
        }
        let Some((store, keyring)) = &self.source else {
            return;
        };
        let record = match store.get(kind, DEFAULT_NAME).await {
            Ok(r) => r.map(|s| s.value),
            Err(e) => {
                tracing::warn!(
                    kind = kind.as_str(),
                    name = DEFAULT_NAME,
                    "cannot read the stored credentials (keeping the ones held): {e}"
                );
                return;
            }
        };
        let opened = match &record {
            None => None,
            Some(r) => match open_secrets(keyring, &r.kind, &r.name, &r.secret) {
                Ok(secrets) => Some((r.metadata.clone(), secrets, r.secret.key_id.clone())),
                Err(e) => {
                    tracing::warn!(
                        kind = kind.as_str(),
                        name = DEFAULT_NAME,
                        "the stored credentials do not open, so {} stays off: {e}",
                        kind.as_str()
                    );
                    None
                }
            },
        };
        let key_id = opened.as_ref().map(|(_, _, k)| k.clone());
        let fields = opened
            .as_ref()
            .map(|(metadata, secrets, _)| Fields { metadata, secrets });
        let changed = self.set_kind(kind, fields.as_ref());
        if changed {
            match key_id {
                Some(key) => {
                    tracing::info!(kind = kind.as_str(), name = DEFAULT_NAME, key = %key, "{} credentials from the store", kind.as_str())
                }
                None => tracing::info!(
                    kind = kind.as_str(),
                    name = DEFAULT_NAME,
                    "{} credentials unset",
                    kind.as_str()
                ),
            }
        }
    }

    /// Sets `kind` from `fields` (none: unset); `true` when it changed.
    fn set_kind(&self, kind: Kind, fields: Option<&Fields<'_>>) -> bool {
        let fallback = Defaults {
            slack_api_url: crate::config::slack::DEFAULT_API_URL.into(),
            slack_channel: None,
        };
        let d = self.defaults.as_deref().unwrap_or(&fallback);
        match kind {
            Kind::Slack => self.slack.set(fields.and_then(|f| slack_stored(f, d))),
            Kind::GithubToken => self.github_token.set(fields.and_then(github_token_stored)),
            Kind::GithubApp => self.github_app.set(fields.and_then(github_app_stored)),
            Kind::Tfc => self.tfc.set(fields.and_then(tfc_stored)),
            Kind::Model => self.model.set(fields.and_then(model_stored)),
            Kind::Smtp => self.smtp.set(fields.and_then(smtp_stored)),
            Kind::WebhookSecret => self.webhook_secret.set(fields.and_then(webhook_stored)),
        }
    }

    /// Reads the store every `every`, for ever (changes other replicas made).
    pub async fn follow(self: Arc<Self>, every: Duration) {
        if !self.has_store() {
            return;
        }
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            self.refresh().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::load(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())).expect("config")
    }

    /// Variables, a kind, the variable that wins for it.
    type Case = (
        &'static [(&'static str, &'static str)],
        Kind,
        Option<&'static str>,
    );

    #[test]
    fn the_environment_sets_its_kinds_and_names_the_variable_that_wins() {
        let cases: &[Case] = &[
            (&[], Kind::Slack, None),
            (
                &[("TFPILOT_SLACK_BOT_TOKEN", "xoxb-1")],
                Kind::Slack,
                Some("TFPILOT_SLACK_BOT_TOKEN"),
            ),
            (
                &[("TFPILOT_SLACK_SIGNING_SECRET", "s")],
                Kind::Slack,
                Some("TFPILOT_SLACK_SIGNING_SECRET"),
            ),
            (
                &[("TFPILOT_MODEL_URL", "http://m/v1"), ("TFPILOT_MODEL", "x")],
                Kind::Model,
                Some("TFPILOT_MODEL_URL"),
            ),
            (
                &[("TFPILOT_GITHUB_WEBHOOK_SECRET", "w")],
                Kind::WebhookSecret,
                Some("TFPILOT_GITHUB_WEBHOOK_SECRET"),
            ),
            (
                &[("TFPILOT_TFC_TOKEN", "t")],
                Kind::Tfc,
                Some("TFPILOT_TFC_TOKEN"),
            ),
            (&[("TFPILOT_TFC_TOKEN", "t")], Kind::Model, None),
        ];
        for (vars, kind, want) in cases {
            let c = Credentials::from_config(&config(vars));
            assert_eq!(c.env_var(*kind), *want, "{vars:?} {kind:?}");
            assert!(!c.has_store());
        }
        let c = Credentials::from_config(&config(&[("TFPILOT_SLACK_BOT_TOKEN", "xoxb-1")]));
        let slack = c.slack.get().expect("from the environment");
        assert_eq!(slack.bot_token.expose(), "xoxb-1");
        assert_eq!(slack.signing_secret, None);
        assert!(!format!("{c:?}").contains("xoxb-1"));
    }

    #[test]
    fn either_github_variable_wins_over_both_stored_kinds() {
        use crate::config::{GitHubAuth, GitHubSettings};
        let app = GitHubAuth::App {
            app_id: 1,
            private_key: SecretString::new("pem".into()),
            installation_id: 2,
        };
        let cases = [
            (
                GitHubAuth::Token(SecretString::new("t".into())),
                Some("TFPILOT_GITHUB_TOKEN"),
            ),
            (app, Some("TFPILOT_GITHUB_APP_ID")),
            (GitHubAuth::Stored, None),
        ];
        for (auth, want) in cases {
            let mut c = config(&[]);
            c.github = Some(GitHubSettings {
                api_url: "https://api.github.com".into(),
                auth: auth.clone(),
                max_wait: Duration::from_secs(1),
            });
            let creds = Credentials::from_config(&c);
            for kind in [Kind::GithubToken, Kind::GithubApp] {
                assert_eq!(creds.env_var(kind), want, "{auth:?} {kind:?}");
            }
        }
    }

    #[tokio::test]
    async fn without_a_store_a_refresh_changes_nothing() {
        let c = Credentials::from_config(&config(&[("TFPILOT_TFC_TOKEN", "t")]));
        c.refresh().await;
        assert_eq!(c.tfc.get().expect("kept").token.expose(), "t");
        assert!(!c.model.is_set());
    }
}
