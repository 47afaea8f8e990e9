//! GitHub identities: which tfpilot user a GitHub account signs in as.
//!
//! `identities/github/<numeric id>.json` names the user, written
//! create-only when the user is made, so a GitHub account renamed later
//! (same id, new login) still finds its user, and a login renamed and
//! reused by another account never does. Users recorded before the index
//! existed are found by a scan of the users (once per process) or by
//! their login, and indexed then.

use super::users::{Identity, User, UserError, Users};
use crate::store::{ObjectStore, Precondition, StoreError};
use app::domain::policy::Role;
use bytes::Bytes;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The index and the users it points to.
#[derive(Clone)]
pub struct GithubIdentities {
    store: Arc<dyn ObjectStore>,
    users: Users,
    scanned: Arc<OnceCell<()>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Link {
    login: String,
}

/// Who a GitHub account is here.
#[derive(Debug)]
pub enum Found {
    /// The user it signs in as.
    User(User),
    /// A user has its login but is somebody else: the sentence says who.
    Taken(String),
    /// Nobody yet.
    Nobody,
}

fn key(id: u64) -> String {
    format!("identities/github/{id}.json")
}

impl GithubIdentities {
    /// Over the requests bucket.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            users: Users::new(store.clone()),
            store,
            scanned: Arc::new(OnceCell::new()),
        }
    }

    async fn indexed(&self, id: u64) -> Result<Option<String>, UserError> {
        match self.store.get(&key(id)).await {
            Ok(obj) => {
                let link: Link = serde_json::from_slice(&obj.bytes)
                    .map_err(|e| StoreError::Invalid(format!("{}: {e}", key(id))))?;
                Ok(Some(link.login))
            }
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Records that GitHub account `id` signs in as `login` (create-only:
    /// an existing entry stays).
    async fn link(&self, id: u64, login: &str) -> Result<(), UserError> {
        let body = serde_json::to_vec(&Link {
            login: login.to_owned(),
        })
        .expect("serializes");
        match self
            .store
            .put(&key(id), Bytes::from(body), Precondition::IfAbsent)
            .await
        {
            Ok(_) | Err(StoreError::Conflict(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Indexes every GitHub user recorded before the index, once.
    async fn scan_once(&self) -> Result<(), UserError> {
        self.scanned
            .get_or_try_init(|| async {
                for user in self.users.list().await? {
                    if let Identity::Github { id } = user.identity {
                        self.link(id, &user.login).await?;
                    }
                }
                Ok::<_, UserError>(())
            })
            .await
            .map(|_| ())
    }

    /// The user GitHub account `id`, now called `login` on GitHub, signs
    /// in as.
    pub async fn find(&self, id: u64, login: &str) -> Result<Found, UserError> {
        let mut linked = self.indexed(id).await?;
        if linked.is_none() {
            self.scan_once().await?;
            linked = self.indexed(id).await?;
        }
        let name = linked.as_deref().unwrap_or(login);
        let user = match self.users.get(name).await {
            Ok(user) => user,
            Err(UserError::NotFound(_)) if linked.is_none() => return Ok(Found::Nobody),
            Err(UserError::NotFound(_)) => {
                return Ok(Found::Taken(format!(
                    "the tfpilot user `{name}` of this GitHub account no longer exists; ask an admin"
                )));
            }
            Err(e) => return Err(e),
        };
        Ok(match user.identity {
            Identity::Github { id: theirs } if theirs == id => {
                if linked.is_none() {
                    // Recorded by an older server after the scan.
                    self.link(id, &user.login).await?;
                }
                Found::User(user)
            }
            Identity::Github { .. } => Found::Taken(format!(
                "the tfpilot user `{name}` belongs to another GitHub account (the login was renamed or reused); ask an admin"
            )),
            Identity::Local => Found::Taken(format!(
                "`{name}` is a local tfpilot account, which GitHub sign-in never uses; sign in with its password, or ask an admin"
            )),
        })
    }

    /// Makes the user of a GitHub account signing in for the first time: a
    /// requester named after its login, and the index entry.
    pub async fn sign_up(&self, id: u64, login: &str) -> Result<Found, UserError> {
        match self
            .users
            .add_as(login, Role::Requester, None, Identity::Github { id })
            .await
        {
            Ok(user) => {
                self.link(id, login).await?;
                Ok(Found::User(user))
            }
            // Somebody made it meanwhile (this person on another replica,
            // or a local account): judge it like any other record.
            Err(UserError::Exists(_)) => self.find(id, login).await,
            Err(e) => Err(e),
        }
    }
}
