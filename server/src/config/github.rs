//! GitHub settings from `TFPILOT_GITHUB_*`: token or App credentials, API URL, rate-limit wait.

use super::projects::Project;
use super::{ConfigError, SecretString};
use app::domain::ids::ProjectKey;
use std::collections::BTreeMap;
use std::time::Duration;

/// How tfpilot authenticates to GitHub.
#[derive(Debug, Clone)]
pub enum GitHubAuth {
    /// A personal or fine-grained token (`TFPILOT_GITHUB_TOKEN`).
    Token(SecretString),
    /// A GitHub App installation (`TFPILOT_GITHUB_APP_ID`, `…_APP_KEY`,
    /// `…_INSTALLATION_ID`): tokens are minted and renewed as needed.
    App {
        /// App id.
        app_id: u64,
        /// PEM of the app's RSA private key.
        private_key: SecretString,
        /// Installation id on the organisation that owns the infra repos.
        installation_id: u64,
    },
    /// Neither is set, only `TFPILOT_GITHUB_API_URL`, and a master key
    /// is: the stored `github_app` or `github_token` integration named
    /// `default`, read on every call.
    Stored,
}

/// Where and how to reach GitHub.
#[derive(Debug, Clone)]
pub struct GitHubSettings {
    /// `https://api.github.com`, or `https://<host>/api/v3` for Enterprise.
    pub api_url: String,
    /// Credentials.
    pub auth: GitHubAuth,
    /// The longest a rate limit is waited out before giving up.
    pub max_wait: Duration,
}

/// Splits `owner/name`.
pub fn split_repo(repo: &str) -> Option<(&str, &str)> {
    let (owner, name) = repo.split_once('/')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (ok(owner) && ok(name)).then_some((owner, name))
}

/// GitHub's settings, if switched on: by a token, by App variables, or
/// (when `stored`: a master key) by `TFPILOT_GITHUB_API_URL` alone.
pub(super) fn github_config(
    env: &impl Fn(&str) -> Option<String>,
    stored: bool,
) -> Result<Option<GitHubSettings>, ConfigError> {
    let set = |var: &str| env(var).filter(|s| !s.trim().is_empty());
    let number = |var: &'static str| -> Result<u64, ConfigError> {
        let v = set(var).ok_or(ConfigError::Env {
            var,
            message: "must be set with TFPILOT_GITHUB_APP_ID".into(),
        })?;
        v.trim().parse().map_err(|_| ConfigError::Env {
            var,
            message: format!("`{v}` is not a number"),
        })
    };
    let auth = match (set("TFPILOT_GITHUB_TOKEN"), set("TFPILOT_GITHUB_APP_ID")) {
        (None, None) => match set("TFPILOT_GITHUB_API_URL") {
            None => return Ok(None),
            Some(_) if stored => GitHubAuth::Stored,
            Some(_) => {
                return Err(ConfigError::Env {
                    var: "TFPILOT_GITHUB_API_URL",
                    message: "is set without TFPILOT_GITHUB_TOKEN or the TFPILOT_GITHUB_APP_* \
                              variables: set one of them, or set TFPILOT_MASTER_KEY (or \
                              TFPILOT_MASTER_KEY_FILE) and store a github_app or github_token \
                              integration named default"
                        .into(),
                });
            }
        },
        (Some(_), Some(_)) => {
            return Err(ConfigError::Env {
                var: "TFPILOT_GITHUB_TOKEN",
                message: "set either a token or the TFPILOT_GITHUB_APP_* variables, not both"
                    .into(),
            });
        }
        (Some(token), None) => GitHubAuth::Token(SecretString::new(token)),
        (None, Some(_)) => {
            let private_key = match (
                set("TFPILOT_GITHUB_APP_KEY"),
                set("TFPILOT_GITHUB_APP_KEY_FILE"),
            ) {
                (Some(pem), _) => pem,
                (None, Some(file)) => {
                    std::fs::read_to_string(&file).map_err(|e| ConfigError::Env {
                        var: "TFPILOT_GITHUB_APP_KEY_FILE",
                        message: format!("cannot read `{file}`: {e}"),
                    })?
                }
                (None, None) => {
                    return Err(ConfigError::Env {
                        var: "TFPILOT_GITHUB_APP_KEY",
                        message: "the App's private key (PEM), or TFPILOT_GITHUB_APP_KEY_FILE, \
                                  must be set with TFPILOT_GITHUB_APP_ID"
                            .into(),
                    });
                }
            };
            GitHubAuth::App {
                app_id: number("TFPILOT_GITHUB_APP_ID")?,
                installation_id: number("TFPILOT_GITHUB_INSTALLATION_ID")?,
                private_key: SecretString::new(private_key),
            }
        }
    };
    let api_url = set("TFPILOT_GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into());
    if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
        return Err(ConfigError::Env {
            var: "TFPILOT_GITHUB_API_URL",
            message: format!("`{api_url}` must be an http:// or https:// URL"),
        });
    }
    let max_wait = match set("TFPILOT_GITHUB_MAX_WAIT_SECS") {
        None => Duration::from_secs(120),
        Some(v) => Duration::from_secs(v.trim().parse().map_err(|_| ConfigError::Env {
            var: "TFPILOT_GITHUB_MAX_WAIT_SECS",
            message: format!("`{v}` is not a number of seconds"),
        })?),
    };
    Ok(Some(GitHubSettings {
        api_url,
        auth,
        max_wait,
    }))
}

/// With GitHub every project names its repo; without it none may.
pub(super) fn check_repos(
    projects: &BTreeMap<ProjectKey, Project>,
    github: bool,
) -> Result<(), ConfigError> {
    for p in projects.values() {
        match (&p.repo, github) {
            (None, true) => {
                return Err(ConfigError::Env {
                    var: "TFPILOT_GITHUB_TOKEN",
                    message: format!(
                        "GitHub is configured, so project `{}` needs `repo = \"owner/name\"` in TFPILOT_CONFIG",
                        p.key
                    ),
                });
            }
            (Some(repo), false) => {
                return Err(ConfigError::Env {
                    var: "TFPILOT_GITHUB_TOKEN",
                    message: format!(
                        "project `{}` names the GitHub repo `{repo}`: set TFPILOT_GITHUB_TOKEN or the TFPILOT_GITHUB_APP_* variables",
                        p.key
                    ),
                });
            }
            (Some(repo), true) if split_repo(repo).is_none() => {
                return Err(ConfigError::Env {
                    var: "TFPILOT_CONFIG",
                    message: format!("projects.{}.repo: `{repo}` is not `owner/name`", p.key),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repos_are_owner_slash_name() {
        assert_eq!(split_repo("acme/infra"), Some(("acme", "infra")));
        assert_eq!(split_repo("acme"), None);
        assert_eq!(split_repo("acme/../x"), None);
        assert_eq!(split_repo("/infra"), None);
    }
}
