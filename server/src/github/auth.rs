//! The octocrab client a call is sent with: built once for credentials
//! from the environment, or for the stored integration read on every call
//! and rebuilt only when its value changed (a new token, App key, App id
//! or installation id: an App client caches installation tokens, so a
//! changed App must never reuse it).

use super::{GitHubAuth, GitHubError, GitHubSettings};
use crate::config::SecretString;
use crate::integrations::credentials::Credentials;
use crate::integrations::live::Live;
use crate::integrations::values::GithubAppCredential;
use octocrab::Octocrab;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What calls on GitHub's API are authenticated with.
#[derive(Clone)]
pub(super) enum Auth {
    /// Built from the environment's token or App. Shared, never cloned:
    /// a clone of an App client would not share its installation token
    /// cache, and mint a token per call.
    Fixed(Arc<Octocrab>),
    /// The stored integration, followed on every call.
    Stored(Arc<Stored>),
}

/// The stored credentials and the client built for their last value.
pub(super) struct Stored {
    app: Live<GithubAppCredential>,
    token: Live<SecretString>,
    built: Mutex<Option<(Value, Arc<Octocrab>)>>,
}

/// The credential a client was built from.
#[derive(Clone, PartialEq)]
enum Value {
    App(Arc<GithubAppCredential>),
    Token(Arc<SecretString>),
}

/// Where a bad credential came from, to name it.
#[derive(Clone, Copy)]
enum Origin {
    Env,
    Store,
}

impl Auth {
    /// The client for `settings`: built now from the environment's
    /// credentials, or later from the stored ones (none until
    /// [`Auth::reading`]).
    pub(super) fn new(settings: &GitHubSettings) -> Result<Self, GitHubError> {
        let value = match &settings.auth {
            GitHubAuth::Stored => {
                return Ok(Self::Stored(Arc::new(Stored {
                    app: Live::default(),
                    token: Live::default(),
                    built: Mutex::new(None),
                })));
            }
            GitHubAuth::Token(token) => Value::Token(Arc::new(token.clone())),
            GitHubAuth::App {
                app_id,
                private_key,
                installation_id,
            } => Value::App(Arc::new(GithubAppCredential {
                app_id: *app_id,
                installation_id: *installation_id,
                private_key: private_key.clone(),
            })),
        };
        build(&settings.api_url, &value, Origin::Env).map(|o| Self::Fixed(Arc::new(o)))
    }

    /// Stored credentials read from `credentials` (environment credentials
    /// are kept as they are).
    pub(super) fn reading(self, credentials: &Credentials) -> Self {
        match self {
            Self::Fixed(_) => self,
            Self::Stored(_) => Self::Stored(Arc::new(Stored {
                app: credentials.github_app.clone(),
                token: credentials.github_token.clone(),
                built: Mutex::new(None),
            })),
        }
    }

    /// The client to send a call with now.
    pub(super) fn client(&self, api_url: &str) -> Result<Arc<Octocrab>, GitHubError> {
        let stored = match self {
            Self::Fixed(octo) => return Ok(octo.clone()),
            Self::Stored(stored) => stored,
        };
        let value = match (stored.app.get(), stored.token.get()) {
            (Some(app), _) => Value::App(app),
            (None, Some(token)) => Value::Token(token),
            (None, None) => {
                return Err(GitHubError::NoCredentials);
            }
        };
        let mut built = stored.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((from, octo)) = built.as_ref()
            && *from == value
        {
            return Ok(octo.clone());
        }
        let octo = Arc::new(build(api_url, &value, Origin::Store)?);
        *built = Some((value, octo.clone()));
        Ok(octo)
    }
}

/// An octocrab client for `value` at `api_url`.
fn build(api_url: &str, value: &Value, origin: Origin) -> Result<Octocrab, GitHubError> {
    let bad = GitHubError::Settings;
    let builder = Octocrab::builder()
        .base_uri(api_url)
        .map_err(|e| bad(format!("TFPILOT_GITHUB_API_URL `{api_url}`: {e}")))?
        .set_connect_timeout(Some(Duration::from_secs(10)))
        .set_read_timeout(Some(Duration::from_secs(60)));
    match value {
        Value::Token(token) => builder
            .personal_token(token.expose().to_owned())
            .build()
            .map_err(|e| bad(format!("GitHub client: {e}"))),
        Value::App(app) => {
            let key = octocrab::EncodingKey::from_rsa_pem(app.private_key.expose().as_bytes())
                .map_err(|e| {
                    let what = match origin {
                        Origin::Env => "TFPILOT_GITHUB_APP_KEY",
                        Origin::Store => "the stored github_app integration's private_key",
                    };
                    bad(format!("{what} is not an RSA private key in PEM: {e}"))
                })?;
            builder
                .app(app.app_id.into(), key)
                .build()
                .map_err(|e| bad(format!("GitHub client: {e}")))?
                .installation(app.installation_id.into())
                .map_err(|e| bad(format!("GitHub App installation: {e}")))
        }
    }
}
