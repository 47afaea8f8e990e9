//! Administrative commands of the `tfpilot` binary.

use crate::auth::contact::{LinkChange, Links};
use crate::auth::{Tokens, Users};
use crate::config::Config;
use crate::store::open::open;
use anyhow::Context;
use app::domain::policy::{Role, TokenScope};
use std::io::Read;

/// `tfpilot users add NAME --role ROLE [--password-stdin] [--slack ID]
/// [--email ADDRESS]`.
pub async fn add_user(
    config: &Config,
    name: &str,
    role: Role,
    password_stdin: bool,
    links: Links,
) -> anyhow::Result<()> {
    let password = if password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the password from standard input")?;
        Some(text.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        None
    };
    let stores = open(config).await?;
    let user = Users::new(stores.requests)
        .add_linked(name, role, password.as_deref(), links)
        .await?;
    println!("added user {} ({})", user.login, user.role.as_str());
    if let Some(id) = &user.slack_user_id {
        println!("linked {} to Slack user {id}", user.login);
    }
    if let Some(email) = &user.email {
        println!("e-mail of {}: {email}", user.login);
    }
    Ok(())
}

/// `tfpilot users link-slack NAME SLACK_USER_ID`, or `--unlink` (`None`).
pub async fn link_slack(config: &Config, name: &str, slack: Option<String>) -> anyhow::Result<()> {
    let stores = open(config).await?;
    let users = Users::new(stores.requests);
    let before = users.get(name).await?.slack_user_id;
    let change = LinkChange {
        slack_user_id: Some(slack),
        email: None,
    };
    let (user, _) = users.set_links(name, change).await?;
    match (&before, &user.slack_user_id) {
        (Some(old), Some(new)) if old == new => {
            println!("{} is already linked to Slack user {new}", user.login)
        }
        (_, Some(new)) => println!("linked {} to Slack user {new}", user.login),
        (Some(old), None) => println!("unlinked {} from Slack user {old}", user.login),
        (None, None) => println!("{} has no Slack user linked", user.login),
    }
    Ok(())
}

/// `tfpilot tokens create --user NAME [--scope ROLE]`: prints the token once.
pub async fn create_token(
    config: &Config,
    user: &str,
    name: &str,
    scope: Option<TokenScope>,
) -> anyhow::Result<()> {
    let stores = open(config).await?;
    let (record, token) = Tokens::new(stores.requests)
        .create_scoped(user, name, scope)
        .await?;
    eprintln!(
        "token {} created for {}; it is shown only this once:",
        record.id, record.user
    );
    println!("{token}");
    Ok(())
}

/// `tfpilot tokens list [--user NAME]`.
pub async fn list_tokens(config: &Config, user: Option<&str>) -> anyhow::Result<()> {
    let stores = open(config).await?;
    let tokens = Tokens::new(stores.requests).list(user).await?;
    println!(
        "{:<14} {:<20} {:<16} {:<10} {:<26} STATUS",
        "ID", "USER", "NAME", "SCOPE", "CREATED"
    );
    for t in tokens {
        println!(
            "{:<14} {:<20} {:<16} {:<10} {:<26} {}",
            t.id,
            t.user,
            t.name,
            t.scope.map_or("-", |s| s.as_str()),
            t.created_at,
            t.revoked_at
                .map_or("active".to_owned(), |at| format!("revoked {at}"))
        );
    }
    Ok(())
}

/// `tfpilot tokens revoke ID`.
pub async fn revoke_token(config: &Config, id: &str) -> anyhow::Result<()> {
    let stores = open(config).await?;
    let record = Tokens::new(stores.requests).revoke(id).await?;
    println!(
        "token {} of {} revoked at {}",
        record.id,
        record.user,
        record.revoked_at.unwrap_or_default()
    );
    Ok(())
}
