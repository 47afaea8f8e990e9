//! People and machine tokens: who may manage them, and the audit trail of
//! every change. The REST API and the admin pages both call this.

use crate::auth::contact::{LinkChange, Links};
use crate::auth::tokens::TokenRecord;
use crate::auth::{TokenError, Tokens, User, UserError, Users};
use crate::store::journal::{AuditLog, AuditRecord};
use app::domain::policy::{
    Actor, Decision, Operation, Role, TokenScope, decide_operation, token_scope,
};

/// Why an admin operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Not allowed; `rule` names the rule.
    #[error("{message}")]
    Forbidden {
        /// Stable rule id.
        rule: String,
        /// Why.
        message: String,
    },
    /// The change would lock someone out.
    #[error("{0}")]
    Conflict(String),
    /// A bad field.
    #[error("{message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A user problem.
    #[error(transparent)]
    User(#[from] UserError),
    /// A token problem.
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// A change to a user.
#[derive(Debug, Default, Clone)]
pub struct UserChange {
    /// New role.
    pub role: Option<Role>,
    /// Disable or enable.
    pub disabled: Option<bool>,
    /// New password.
    pub password: Option<String>,
    /// Slack id and e-mail: set, cleared or kept (admins only).
    pub links: LinkChange,
}

/// Users and tokens with their rules.
#[derive(Clone)]
pub struct Admin {
    users: Users,
    tokens: Tokens,
    audit: AuditLog,
}

/// Asks the one policy; its refusal as an [`AdminError`].
fn decide(op: Operation<'_>, actor: &Actor) -> Result<(), AdminError> {
    match decide_operation(op, actor) {
        Decision::Allowed => Ok(()),
        Decision::Forbidden { rule, reason } => Err(AdminError::Forbidden {
            rule,
            message: reason,
        }),
        Decision::Conflict { reason, .. } => Err(AdminError::Conflict(reason)),
    }
}

impl Admin {
    /// Over the stores; records are stamped by `users`' clock.
    pub fn new(users: Users, tokens: Tokens, audit: AuditLog) -> Self {
        Self {
            users,
            tokens,
            audit,
        }
    }

    /// Appends a system audit record (failures are logged, never fatal).
    pub async fn audit(&self, actor: &str, action: &str, detail: String) {
        let record = AuditRecord {
            at: self.users.clock().rfc3339_millis(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            request: None,
            before_version: None,
            after_version: None,
            detail,
            count: 1,
            until: None,
            via: None,
        };
        if let Err(e) = self.audit.append(&record).await {
            tracing::error!("cannot write the audit record {action}: {e}");
        }
    }

    /// Every user (admins).
    pub async fn users(&self, actor: &Actor) -> Result<Vec<User>, AdminError> {
        decide(Operation::ListUsers, actor)?;
        Ok(self.users.list().await?)
    }

    /// Adds a user (admins), with its Slack id and e-mail when given.
    pub async fn add_user(
        &self,
        actor: &Actor,
        login: &str,
        role: Role,
        password: Option<&str>,
        links: Links,
    ) -> Result<User, AdminError> {
        decide(Operation::AddUser, actor)?;
        let user = self
            .users
            .add_linked(login.trim(), role, password, links)
            .await?;
        let mut detail = format!("{} as {}", user.login, user.role.as_str());
        if let Some(id) = &user.slack_user_id {
            detail.push_str(&format!(", Slack {id}"));
        }
        if let Some(email) = &user.email {
            detail.push_str(&format!(", e-mail {email}"));
        }
        self.audit(&actor.login, "user.create", detail).await;
        Ok(user)
    }

    /// Changes a user: admins anything but their own role and access;
    /// others only their own password. Only admins set Slack ids and
    /// e-mail addresses; a Slack id held by another user is a conflict.
    pub async fn update_user(
        &self,
        actor: &Actor,
        login: &str,
        change: UserChange,
    ) -> Result<User, AdminError> {
        decide(
            Operation::ChangeUser {
                login,
                role: change.role,
                disabled: change.disabled,
                password: change.password.is_some(),
                links: !change.links.is_empty(),
            },
            actor,
        )?;
        let links = self.users.check_links(login, change.links).await?;
        let hash = match &change.password {
            Some(p) => Some(
                crate::auth::users::hash_password_blocking(self.users.ids().as_ref(), p.clone())
                    .await?,
            ),
            None => None,
        };
        let link_notes = std::sync::Mutex::new(Vec::new());
        let user = self
            .users
            .update(login, |u| {
                if let Some(role) = change.role {
                    u.role = role;
                }
                if let Some(disabled) = change.disabled {
                    u.disabled = disabled;
                }
                if let Some(hash) = &hash {
                    u.password_hash = Some(hash.clone());
                    // Every session signed in before the change ends.
                    u.sessions_epoch += 1;
                }
                let notes = links.apply(u);
                if let Ok(mut n) = link_notes.lock() {
                    *n = notes;
                }
                Ok(())
            })
            .await?;
        let mut changed = Vec::new();
        if let Some(role) = change.role {
            changed.push(format!("role {}", role.as_str()));
        }
        if let Some(disabled) = change.disabled {
            changed.push(if disabled { "disabled" } else { "enabled" }.to_owned());
        }
        if hash.is_some() {
            changed.push("password changed".into());
        }
        changed.extend(link_notes.into_inner().unwrap_or_default());
        self.audit(
            &actor.login,
            "user.update",
            format!("{}: {}", user.login, changed.join(", ")),
        )
        .await;
        Ok(user)
    }

    /// Tokens: everyone's for an admin, one's own otherwise.
    pub async fn tokens(&self, actor: &Actor) -> Result<Vec<TokenRecord>, AdminError> {
        let only = (actor.role != Role::Admin).then_some(actor.login.as_str());
        decide(Operation::ListTokens { owner: only }, actor)?;
        Ok(self.tokens.list(only).await?)
    }

    /// A new token for `owner` (default the caller), returned once.
    pub async fn create_token(
        &self,
        actor: &Actor,
        owner: Option<&str>,
        name: &str,
        scope: Option<TokenScope>,
    ) -> Result<(TokenRecord, String), AdminError> {
        let owner = owner.unwrap_or(&actor.login).to_owned();
        if !crate::auth::valid_login(&owner) {
            return Err(AdminError::Invalid {
                field: "user",
                message: "user must be a login: 1-64 letters, digits, `-`, `_` or `.`, not starting with `.`".into(),
            });
        }
        decide(
            Operation::CreateToken {
                owner: &owner,
                scope,
            },
            actor,
        )?;
        let scope = token_scope(actor, scope);
        if !valid_token_name(name) {
            return Err(AdminError::Invalid {
                field: "name",
                message: "name must be 1 to 64 letters, digits, spaces, `.`, `_` or `-`, starting with a letter or digit".into(),
            });
        }
        let (record, token) = self.tokens.create_scoped(&owner, name, scope).await?;
        self.audit(
            &actor.login,
            "token.create",
            format!("token {} for {owner}", record.id),
        )
        .await;
        Ok((record, token))
    }

    /// Revokes a token (its owner or an admin).
    pub async fn revoke_token(&self, actor: &Actor, id: &str) -> Result<TokenRecord, AdminError> {
        let record = self.tokens.get(id).await?;
        decide(
            Operation::RevokeToken {
                owner: &record.user,
            },
            actor,
        )?;
        let revoked = self.tokens.revoke(id).await?;
        self.audit(
            &actor.login,
            "token.revoke",
            format!("token {id} of {}", record.user),
        )
        .await;
        Ok(revoked)
    }
}

/// A token's label: 1-64 ASCII letters, digits, spaces, `.`, `_`, `-`,
/// starting with a letter or digit (`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$`).
pub fn valid_token_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b' ' | b'.' | b'_' | b'-'))
}
