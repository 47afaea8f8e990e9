//! One `Config`, layered: defaults → optional `tfpilot.toml` → `TFPILOT_*`
//! environment variables. Every error names the variable or the file key.

mod drift;
mod env;
pub mod github;
mod jobs;
pub mod master_key;
pub mod model;
mod projects;
mod secret;
pub mod slack;
pub mod smtp;
mod store;
mod tfc;

pub use drift::Every;
pub use github::{GitHubAuth, GitHubSettings};
pub use jobs::JobSettings;
pub use master_key::{KeyBytes, MasterKeySettings};
pub use model::{ModelMode, ModelSettings};
pub use projects::{DEFAULT_BRANCH, Project};
pub use secret::SecretString;
pub use slack::SlackSettings;
pub use smtp::SmtpSettings;
pub use store::{S3Settings, StoreConfig};
pub use tfc::{DEFAULT_TFC_URL, ExecutorChoice, TfcProject, TfcSettings};

use app::domain::ids::ProjectKey;
use app::domain::policy::Policy;
use env::{FileConfig, flag, parse_bool, read_file, trusted_proxies};
use github::{check_repos, github_config};
use model::model_settings;
use projects::{default_projects, parse_projects};
use slack::slack_settings;
use smtp::smtp_config;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use store::{s3_settings, store_config};

/// A configuration problem, naming where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An environment variable holds a bad value.
    #[error("{var}: {message}")]
    Env {
        /// The variable.
        var: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The config file cannot be read or parsed.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What is wrong (with line, when parsing).
        message: String,
    },
}

/// The whole server configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address (`TFPILOT_BIND`).
    pub bind: SocketAddr,
    /// Embedded data directory (`TFPILOT_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Module registry file (`TFPILOT_REGISTRY`).
    pub registry: PathBuf,
    /// Built browser assets; `pkg/` lives under it (`TFPILOT_SITE_ROOT`).
    pub site_root: PathBuf,
    /// Projects by key.
    pub projects: BTreeMap<ProjectKey, Project>,
    /// Guardrails.
    pub policy: Policy,
    /// Logins that are admins (`TFPILOT_ADMINS`).
    pub admins: BTreeSet<String>,
    /// Logins that are approvers (`TFPILOT_APPROVERS`).
    pub approvers: BTreeSet<String>,
    /// Object stores.
    pub store: StoreConfig,
    /// How often the index diffs the bucket (`TFPILOT_INDEX_REFRESH_SECS`).
    pub index_refresh: Duration,
    /// How often a changed index snapshot is written (`TFPILOT_INDEX_SNAPSHOT_SECS`).
    pub index_snapshot: Duration,
    /// `infra-workflows/` (repo template, sandbox overlay, workflows) (`TFPILOT_WORKFLOWS_DIR`).
    pub workflows_dir: PathBuf,
    /// Longest a terraform command may run (`TFPILOT_RUN_TIMEOUT_SECS`).
    pub run_timeout: Duration,
    /// Most terraform runs at once on this server (`TFPILOT_MAX_RUNS`, default 2).
    pub max_runs: usize,
    /// How often the reconciler drives unfinished requests (`TFPILOT_RECONCILE_SECS`).
    pub reconcile: Duration,
    /// How long a replica's hold on a request it drives lasts unrenewed
    /// (`TFPILOT_LEASE_SECS`): a dead replica's requests are taken over
    /// after it.
    pub lease: Duration,
    /// The longest a graceful stop may take before the process exits
    /// anyway (`TFPILOT_SHUTDOWN_SECS`, default 20).
    pub shutdown: Duration,
    /// The remediation job queue (`TFPILOT_WORKERS`, `TFPILOT_JOBS_MAX_QUEUED`).
    pub jobs: JobSettings,
    /// The `terraform` binary the local executor runs (`TFPILOT_TERRAFORM`).
    pub terraform: PathBuf,
    /// Secret of GitHub webhook signatures (`TFPILOT_GITHUB_WEBHOOK_SECRET`).
    pub github_webhook_secret: Option<SecretString>,
    /// GitHub and Actions instead of local repos and terraform
    /// (`TFPILOT_GITHUB_TOKEN` or `TFPILOT_GITHUB_APP_*`).
    pub github: Option<GitHubSettings>,
    /// Terraform state of the local runner in S3 (`TFPILOT_STATE_BUCKET`,
    /// with the `TFPILOT_S3_*` endpoint settings) instead of the data dir.
    pub state_bucket: Option<(String, S3Settings)>,
    /// Browser sessions.
    pub sessions: SessionConfig,
    /// GitHub sign-in (`TFPILOT_GITHUB_OAUTH_*`).
    pub github_oauth: Option<GitHubOAuth>,
    /// Reverse proxies whose `X-Forwarded-For` is believed
    /// (`TFPILOT_TRUSTED_PROXIES`: addresses and CIDR blocks; default none).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The Slack app (`TFPILOT_SLACK_*`); without a bot token, no Slack.
    pub slack: SlackSettings,
    /// E-mail notices to requesters (`TFPILOT_SMTP_URL` with
    /// `TFPILOT_SMTP_FROM`); none when neither is set.
    pub smtp: Option<SmtpSettings>,
    /// The assistant's model (`TFPILOT_MODEL_*`); `None`: rules alone.
    pub model: Option<ModelSettings>,
    /// HCP Terraform's API, when a project runs there (`TFPILOT_TFC_*`).
    pub tfc: Option<TfcSettings>,
    /// The master key of integration credentials (`TFPILOT_MASTER_KEY`,
    /// `TFPILOT_MASTER_KEY_FILE`, `TFPILOT_MASTER_KEY_OLD`).
    pub master_key: MasterKeySettings,
    /// `GET /metrics` answers without a credential
    /// (`TFPILOT_METRICS_PUBLIC`, default false).
    pub metrics_public: bool,
}

/// A GitHub OAuth app for signing people in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubOAuth {
    /// `TFPILOT_GITHUB_OAUTH_CLIENT_ID`.
    pub client_id: String,
    /// `TFPILOT_GITHUB_OAUTH_CLIENT_SECRET`.
    pub client_secret: SecretString,
    /// Where `/login/oauth/*` lives (`TFPILOT_GITHUB_OAUTH_URL`, default
    /// `https://github.com`; `https://<host>` for Enterprise).
    pub oauth_url: String,
    /// The API that answers `GET /user` (`TFPILOT_GITHUB_OAUTH_API_URL`,
    /// default `TFPILOT_GITHUB_API_URL` or `https://api.github.com`).
    pub api_url: String,
    /// GitHub logins that may sign in (`TFPILOT_ALLOWED_LOGINS`).
    pub allowed_logins: BTreeSet<String>,
    /// GitHub organizations (`acme`) or teams (`acme/platform`) whose
    /// active members may sign in (`TFPILOT_ALLOWED_ORGS`), checked through
    /// the API with the person's own token. With both lists empty nobody
    /// may sign in with GitHub.
    pub allowed_orgs: BTreeSet<String>,
}

/// Browser sessions and their cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// The URL people open (`TFPILOT_PUBLIC_URL`; default `http://<bind>`):
    /// the origin state-changing browser requests must come from.
    pub public_url: String,
    /// `Secure` on the cookie (`TFPILOT_COOKIE_SECURE`; default: the public
    /// URL is https).
    pub secure: bool,
    /// A session ends after this long without a request (`TFPILOT_SESSION_IDLE_SECS`).
    pub idle: Duration,
    /// …and this long after login whatever happens (`TFPILOT_SESSION_MAX_SECS`).
    pub absolute: Duration,
}

impl SessionConfig {
    /// `scheme://host[:port]` of the public URL.
    pub fn origin(&self) -> &str {
        let rest = self
            .public_url
            .split_once("://")
            .map_or(self.public_url.as_str(), |(_, r)| r);
        let host_len = rest.find('/').unwrap_or(rest.len());
        let scheme_len = self.public_url.len() - rest.len();
        &self.public_url[..scheme_len + host_len]
    }
}

impl Config {
    /// Loads from the process environment (and `TFPILOT_CONFIG` if set).
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::load(|k| std::env::var(k).ok())
    }

    /// Loads with `env` as the environment (tests pass a map).
    pub fn load(env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let file = match env("TFPILOT_CONFIG") {
            Some(path) => read_file(Path::new(&path))?,
            None => FileConfig::default(),
        };
        let bind_text = env("TFPILOT_BIND")
            .or(file.bind)
            .unwrap_or_else(|| "127.0.0.1:3000".into());
        let bind = bind_text.parse().map_err(|_| ConfigError::Env {
            var: "TFPILOT_BIND",
            message: format!("`{bind_text}` is not a socket address such as 127.0.0.1:3000"),
        })?;
        let path = |var: &'static str, from_file: Option<PathBuf>, default: &str| {
            env(var)
                .map(PathBuf::from)
                .or(from_file)
                .unwrap_or_else(|| default.into())
        };
        let list = |var: &'static str, from_file: Option<Vec<String>>| -> BTreeSet<String> {
            match env(var) {
                Some(v) => v
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                None => from_file.unwrap_or_default().into_iter().collect(),
            }
        };
        let projects = if file.projects.is_empty() {
            default_projects()
        } else {
            parse_projects(file.projects, &file.source)?
        };
        let prod_environments = list(
            "TFPILOT_PROD_ENVIRONMENTS",
            Some(
                file.prod_environments
                    .unwrap_or_else(|| vec!["prod".to_owned()]),
            ),
        );
        let four_eyes = match env("TFPILOT_FOUR_EYES") {
            None => file.four_eyes.unwrap_or(true),
            Some(v) => parse_bool(&v).ok_or_else(|| ConfigError::Env {
                var: "TFPILOT_FOUR_EYES",
                message: format!("`{v}` is not a boolean (true or false)"),
            })?,
        };
        let seconds = |var: &'static str, default: u64| -> Result<Duration, ConfigError> {
            match env(var) {
                None => Ok(Duration::from_secs(default)),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if n > 0 => Ok(Duration::from_secs(n)),
                    _ => Err(ConfigError::Env {
                        var,
                        message: format!("`{v}` is not a positive number of seconds"),
                    }),
                },
            }
        };
        let master_key = master_key::master_key_settings(&env)?;
        let store = store_config(&env)?;
        // With a master key (always one in the embedded mode) the
        // credentials may be stored integrations instead.
        let stored = master_key.current.is_some() || matches!(store, StoreConfig::Fs);
        let github = github_config(&env, stored)?;
        check_repos(&projects, github.is_some())?;
        let state_bucket = match env("TFPILOT_STATE_BUCKET").filter(|s| !s.is_empty()) {
            Some(bucket) => Some((bucket, s3_settings(&env)?)),
            None => None,
        };
        let public_url = env("TFPILOT_PUBLIC_URL")
            .filter(|s| !s.is_empty())
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://{bind_text}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Env {
                var: "TFPILOT_PUBLIC_URL",
                message: format!("`{public_url}` must be an http:// or https:// URL"),
            });
        }
        let sessions = SessionConfig {
            secure: flag(
                &env,
                "TFPILOT_COOKIE_SECURE",
                public_url.starts_with("https://"),
            )?,
            idle: seconds("TFPILOT_SESSION_IDLE_SECS", 8 * 3600)?,
            absolute: seconds("TFPILOT_SESSION_MAX_SECS", 24 * 3600)?,
            public_url,
        };
        let github_oauth = match env("TFPILOT_GITHUB_OAUTH_CLIENT_ID").filter(|s| !s.is_empty()) {
            None => None,
            Some(client_id) => {
                let client_secret = env("TFPILOT_GITHUB_OAUTH_CLIENT_SECRET")
                    .filter(|s| !s.is_empty())
                    .ok_or(ConfigError::Env {
                        var: "TFPILOT_GITHUB_OAUTH_CLIENT_SECRET",
                        message: "must be set with TFPILOT_GITHUB_OAUTH_CLIENT_ID".into(),
                    })?;
                let url = |var: &'static str, default: String| -> Result<String, ConfigError> {
                    let v = env(var).filter(|s| !s.is_empty()).unwrap_or(default);
                    if v.starts_with("http://") || v.starts_with("https://") {
                        Ok(v.trim_end_matches('/').to_owned())
                    } else {
                        Err(ConfigError::Env {
                            var,
                            message: format!("`{v}` must be an http:// or https:// URL"),
                        })
                    }
                };
                Some(GitHubOAuth {
                    client_id,
                    client_secret: SecretString::new(client_secret),
                    oauth_url: url("TFPILOT_GITHUB_OAUTH_URL", "https://github.com".into())?,
                    api_url: url(
                        "TFPILOT_GITHUB_OAUTH_API_URL",
                        github
                            .as_ref()
                            .map_or("https://api.github.com".into(), |g| g.api_url.clone()),
                    )?,
                    allowed_logins: list("TFPILOT_ALLOWED_LOGINS", None),
                    allowed_orgs: list("TFPILOT_ALLOWED_ORGS", None),
                })
            }
        };
        Ok(Config {
            slack: slack_settings(&env)?,
            smtp: smtp_config(&env)?,
            model: model_settings(&env)?,
            tfc: tfc::tfc_settings(
                &env,
                projects
                    .values()
                    .any(|p| matches!(p.executor, ExecutorChoice::Tfc(_))),
                stored,
            )?,
            master_key,
            metrics_public: flag(&env, "TFPILOT_METRICS_PUBLIC", false)?,
            trusted_proxies: trusted_proxies(env("TFPILOT_TRUSTED_PROXIES"))?,
            github_oauth,
            sessions,
            github,
            state_bucket,
            store,
            index_refresh: seconds("TFPILOT_INDEX_REFRESH_SECS", 10)?,
            index_snapshot: seconds("TFPILOT_INDEX_SNAPSHOT_SECS", 60)?,
            workflows_dir: path("TFPILOT_WORKFLOWS_DIR", None, "./infra-workflows"),
            run_timeout: seconds("TFPILOT_RUN_TIMEOUT_SECS", 1800)?,
            max_runs: match env("TFPILOT_MAX_RUNS") {
                None => 2,
                Some(v) => match v.trim().parse::<usize>() {
                    Ok(n) if (1..=64).contains(&n) => n,
                    _ => {
                        return Err(ConfigError::Env {
                            var: "TFPILOT_MAX_RUNS",
                            message: format!("`{v}` is not a number of runs from 1 to 64"),
                        });
                    }
                },
            },
            reconcile: seconds("TFPILOT_RECONCILE_SECS", 15)?,
            lease: seconds("TFPILOT_LEASE_SECS", 30)?,
            shutdown: seconds("TFPILOT_SHUTDOWN_SECS", 20)?,
            jobs: jobs::job_settings(&env)?,
            terraform: path("TFPILOT_TERRAFORM", None, "terraform"),
            github_webhook_secret: env("TFPILOT_GITHUB_WEBHOOK_SECRET")
                .filter(|s| !s.is_empty())
                .map(SecretString::new),
            bind,
            data_dir: path("TFPILOT_DATA_DIR", file.data_dir, "./data"),
            registry: path("TFPILOT_REGISTRY", file.registry, "./modules-registry.toml"),
            site_root: path("TFPILOT_SITE_ROOT", file.site_root, "./target/site"),
            projects,
            policy: Policy {
                prod_environments,
                prod_allowed_users: list("TFPILOT_PROD_ALLOWED_USERS", file.prod_allowed_users),
                destroy_prod_allowed_users: list(
                    "TFPILOT_DESTROY_PROD_ALLOWED_USERS",
                    file.destroy_prod_allowed_users,
                ),
                four_eyes,
                projects: Default::default(),
            },
            admins: list("TFPILOT_ADMINS", file.admins),
            approvers: list("TFPILOT_APPROVERS", file.approvers),
        })
    }
}
