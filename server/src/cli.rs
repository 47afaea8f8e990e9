//! Administrative commands of the `tfpilot` binary.

use crate::auth::{Tokens, Users};
use crate::config::Config;
use crate::store::open::open;
use anyhow::Context;
use app::domain::policy::Role;
use std::io::Read;

/// `tfpilot users add NAME --role ROLE [--password-stdin]`.
pub async fn add_user(
    config: &Config,
    name: &str,
    role: Role,
    password_stdin: bool,
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
        .add(name, role, password.as_deref())
        .await?;
    println!("added user {} ({})", user.login, user.role.as_str());
    Ok(())
}

/// `tfpilot tokens create --user NAME`: prints the token once.
pub async fn create_token(config: &Config, user: &str, name: &str) -> anyhow::Result<()> {
    let stores = open(config).await?;
    let (record, token) = Tokens::new(stores.requests).create(user, name).await?;
    eprintln!(
        "token {} created for {}; it is shown only this once:",
        record.id, record.user
    );
    println!("{token}");
    Ok(())
}
