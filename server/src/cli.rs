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

/// `tfpilot keys rotate [--every N]`: seals every integration record again
/// with `TFPILOT_MASTER_KEY`, opening the older ones with
/// `TFPILOT_MASTER_KEY_OLD`; prints progress every `every` records and at
/// the end; fails naming every record that does not open.
pub async fn rotate_keys(config: &Config, every: usize) -> anyhow::Result<()> {
    use crate::clock::{Clock as _, SystemClock};
    use crate::ids::{Ids, OsIds};
    use crate::integrations::{keys, rotate, store::IntegrationStore};
    use crate::store::journal::{AuditLog, AuditRecord};
    let ids: &dyn Ids = &OsIds;
    let Some(keyring) = keys::keyring(config, ids)? else {
        anyhow::bail!(
            "TFPILOT_MASTER_KEY is not set: set it to the new key (base64 of 32 bytes) and TFPILOT_MASTER_KEY_OLD to the key the records were sealed with"
        );
    };
    println!(
        "rotating integration credentials to key {} ({})",
        keyring.current.id(),
        keyring.old.as_ref().map_or(
            "TFPILOT_MASTER_KEY_OLD is not set: only records sealed with the current key will open"
                .to_owned(),
            |old| format!("old key {}", old.id())
        )
    );
    let stores = open(config).await?;
    let store = IntegrationStore::new(stores.requests.clone());
    let mut print = |p: &rotate::Progress| println!("{}", p.line());
    let progress = rotate::rotate(&store, &keyring, ids, every, &mut print).await?;
    let record = AuditRecord {
        at: SystemClock.rfc3339_millis(),
        actor: "tfpilot keys rotate".into(),
        action: "integration.rotate".into(),
        request: None,
        before_version: None,
        after_version: None,
        detail: format!("to key {}: {}", keyring.current.id(), progress.line()),
        count: 1,
        until: None,
        via: Some("cli".into()),
    };
    if let Err(e) = AuditLog::new(stores.requests).append(&record).await {
        eprintln!("warning: cannot write the audit record integration.rotate: {e}");
    }
    if progress.failed.is_empty() {
        return Ok(());
    }
    for (key, why) in &progress.failed {
        eprintln!("{key}: {why}");
    }
    anyhow::bail!(
        "{} of {} records do not open and were left as they are (named above); set TFPILOT_MASTER_KEY_OLD to the key they were sealed with and run again, or set them again from /admin/integrations",
        progress.failed.len(),
        progress.total
    )
}
