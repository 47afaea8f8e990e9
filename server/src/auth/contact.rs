//! A user's links to the outside: the Slack member id that acts as them in
//! Slack and the e-mail address notices go to — their rules, one Slack id
//! per user, and finding a user by either.
//!
//! Lookups scan `users/` (one read per user): user directories are small,
//! and a scan never disagrees with the records. A Slack id is checked to
//! be free before it is written; two admins linking the same id to two
//! users at the same instant could both pass, so a lookup that finds two
//! holders refuses to choose rather than act as either.

pub use super::users::Links;
use super::users::{Identity, User, UserError, Users};
use super::valid_login;
use app::domain::policy::Role;
use std::sync::Mutex;

/// A change of links: `None` keeps a field, `Some(None)` clears it,
/// `Some(Some(value))` sets it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LinkChange {
    /// The Slack member id.
    pub slack_user_id: Option<Option<String>>,
    /// The e-mail address.
    pub email: Option<Option<String>>,
}

/// A Slack member id: `^[UW][A-Z0-9]{2,20}$` (users are `U…`, members
/// of an Enterprise Grid `W…`).
pub fn parse_slack_id(text: &str) -> Result<String, UserError> {
    let b = text.as_bytes();
    let ok = (3..=21).contains(&b.len())
        && matches!(b[0], b'U' | b'W')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if ok {
        Ok(text.to_owned())
    } else {
        Err(UserError::InvalidSlackId(text.chars().take(32).collect()))
    }
}

/// An e-mail address: `local@domain`, exactly one `@` with something on
/// each side, no whitespace or control character, at most 254
/// characters. Kept as written; compared ignoring case.
pub fn parse_email(text: &str) -> Result<String, UserError> {
    if text.chars().count() > 254 {
        return Err(UserError::InvalidEmail("it is longer than 254 characters"));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UserError::InvalidEmail(
            "it contains a space or a control character",
        ));
    }
    match text.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(text.to_owned())
        }
        _ => Err(UserError::InvalidEmail("it is not local@domain")),
    }
}

impl Links {
    /// Both fields parsed.
    pub fn parse(self) -> Result<Self, UserError> {
        Ok(Self {
            slack_user_id: self
                .slack_user_id
                .as_deref()
                .map(parse_slack_id)
                .transpose()?,
            email: self.email.as_deref().map(parse_email).transpose()?,
        })
    }
}

impl LinkChange {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.slack_user_id.is_none() && self.email.is_none()
    }

    /// The given fields parsed.
    pub fn parse(self) -> Result<Self, UserError> {
        let parse = |field: Option<Option<String>>, f: fn(&str) -> Result<String, UserError>| {
            field.map(|v| v.as_deref().map(f).transpose()).transpose()
        };
        Ok(Self {
            slack_user_id: parse(self.slack_user_id, parse_slack_id)?,
            email: parse(self.email, parse_email)?,
        })
    }

    /// Applies the change to `user`; what it changed, as words for the
    /// audit log (`Slack U123`, `Slack unlinked`, `e-mail a@b.c`, `e-mail
    /// cleared`). A field set to what it was is not mentioned.
    pub fn apply(&self, user: &mut User) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(slack) = &self.slack_user_id
            && user.slack_user_id != *slack
        {
            notes.push(match slack {
                Some(id) => format!("Slack {id}"),
                None => "Slack unlinked".to_owned(),
            });
            user.slack_user_id = slack.clone();
        }
        if let Some(email) = &self.email
            && user.email != *email
        {
            notes.push(match email {
                Some(e) => format!("e-mail {e}"),
                None => "e-mail cleared".to_owned(),
            });
            user.email = email.clone();
        }
        notes
    }
}

impl Users {
    /// Creates a local user with `links`, parsed and checked like
    /// [`Users::check_links`]; refuses an existing login.
    pub async fn add_linked(
        &self,
        login: &str,
        role: Role,
        password: Option<&str>,
        links: Links,
    ) -> Result<User, UserError> {
        if !valid_login(login) {
            return Err(UserError::InvalidLogin(login.chars().take(64).collect()));
        }
        let links = links.parse()?;
        if let Some(id) = &links.slack_user_id {
            self.check_slack_free(id, login).await?;
        }
        self.create(login, role, password, Identity::Local, links)
            .await
    }

    /// Parses `change` and checks that the Slack id it sets is held by
    /// nobody but `login` (an unknown `login` is not found, whoever holds
    /// the id): the change, ready to [`LinkChange::apply`].
    pub async fn check_links(
        &self,
        login: &str,
        change: LinkChange,
    ) -> Result<LinkChange, UserError> {
        let change = change.parse()?;
        if let Some(Some(id)) = &change.slack_user_id {
            self.get(login).await?;
            self.check_slack_free(id, login).await?;
        }
        Ok(change)
    }

    /// Sets or clears links of `login` (compare-and-swap); the user and
    /// what changed (see [`LinkChange::apply`]).
    pub async fn set_links(
        &self,
        login: &str,
        change: LinkChange,
    ) -> Result<(User, Vec<String>), UserError> {
        let change = self.check_links(login, change).await?;
        let notes = Mutex::new(Vec::new());
        let user = self
            .update(login, |u| {
                let changed = change.apply(u);
                if let Ok(mut n) = notes.lock() {
                    *n = changed;
                }
                Ok(())
            })
            .await?;
        Ok((user, notes.into_inner().unwrap_or_default()))
    }

    /// Refuses `id` when a user other than `login` holds it, enabled or
    /// not (a disabled user enabled again must not share it).
    async fn check_slack_free(&self, id: &str, login: &str) -> Result<(), UserError> {
        let holder = self
            .list()
            .await?
            .into_iter()
            .find(|u| u.login != login && u.slack_user_id.as_deref() == Some(id));
        match holder {
            Some(u) => Err(UserError::SlackIdTaken {
                slack: id.to_owned(),
                login: u.login,
            }),
            None => Ok(()),
        }
    }

    /// The enabled user linked to Slack member `id`, if any (a scan of
    /// `users/`). Two holders are refused, naming both.
    pub async fn by_slack_id(&self, id: &str) -> Result<Option<User>, UserError> {
        let found = self
            .list()
            .await?
            .into_iter()
            .filter(|u| !u.disabled && u.slack_user_id.as_deref() == Some(id))
            .collect();
        one(found, || format!("Slack user {id}"))
    }

    /// The enabled user whose e-mail is `email`, ignoring case, if any (a
    /// scan of `users/`). Two holders are refused, naming both.
    pub async fn by_email(&self, email: &str) -> Result<Option<User>, UserError> {
        let want = email.to_lowercase();
        let found = self
            .list()
            .await?
            .into_iter()
            .filter(|u| !u.disabled && u.email.as_deref().is_some_and(|e| e.to_lowercase() == want))
            .collect();
        one(found, || format!("the e-mail address {email}"))
    }
}

/// The one user found, none, or a refusal naming every match.
fn one(mut found: Vec<User>, what: impl Fn() -> String) -> Result<Option<User>, UserError> {
    if found.len() > 1 {
        let logins: Vec<String> = found.iter().map(|u| format!("`{}`", u.login)).collect();
        return Err(UserError::Ambiguous(format!(
            "{} is linked to more than one user ({}); an admin must keep it on one only",
            what(),
            logins.join(", ")
        )));
    }
    Ok(found.pop())
}

#[cfg(test)]
mod tests;
