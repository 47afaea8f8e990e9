//! The `tfpilot` binary: parses the command line and hands over to the library.

use app::domain::policy::{Role, TokenScope};
use clap::{Parser, Subcommand};
use server::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "tfpilot",
    version,
    about = "Self-service Terraform: requests become reviewed, planned pull requests"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web UI and API (the default).
    Serve,
    /// Work with the module registry.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Manage local users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Manage API tokens.
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// The master keys of integration credentials.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Seal every integration record again with TFPILOT_MASTER_KEY, opening
    /// older ones with TFPILOT_MASTER_KEY_OLD; resumable, run it again after
    /// a stop.
    Rotate {
        /// Print progress every this many records.
        #[arg(long, default_value_t = 100)]
        every: usize,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Add a user.
    Add {
        /// Login.
        name: String,
        /// viewer, requester, approver or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read a password (12+ characters) from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The Slack member id (U…) that acts as this user in Slack.
        #[arg(long, value_name = "SLACK_USER_ID")]
        slack: Option<String>,
        /// Where e-mail notices go.
        #[arg(long)]
        email: Option<String>,
    },
    /// Link a user to a Slack member id (one user per id), or unlink them.
    LinkSlack {
        /// Login.
        name: String,
        /// The Slack member id (U…), from the person's Slack profile.
        #[arg(required_unless_present = "unlink", conflicts_with = "unlink")]
        slack_user_id: Option<String>,
        /// Remove the user's Slack link.
        #[arg(long)]
        unlink: bool,
    },
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Create a bearer token for a user; it is printed once.
    Create {
        /// The user the token acts for.
        #[arg(long)]
        user: String,
        /// A label for the token.
        #[arg(long, default_value = "cli")]
        name: String,
        /// The most the token may do (viewer, requester, approver, admin),
        /// or automation: it files remediations (alerts) and nothing else,
        /// or metrics: it reads GET /metrics and nothing else.
        #[arg(long, value_parser = parse_scope)]
        scope: Option<TokenScope>,
    },
    /// List tokens (never their secrets).
    List {
        /// Only this user's.
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a token by id; it stops working at once.
    Revoke {
        /// The token id (the middle part of `tfp_<id>_<secret>`).
        id: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s)
        .ok_or_else(|| format!("`{s}` is not a role; use viewer, requester, approver or admin"))
}

fn parse_scope(s: &str) -> Result<TokenScope, String> {
    TokenScope::parse(s).ok_or_else(|| {
        format!(
            "`{s}` is not a scope; use one of {}",
            TokenScope::ALL.map(TokenScope::as_str).join(", ")
        )
    })
}

#[derive(Subcommand)]
enum RegistryCommand {
    /// Check a registry file; exit non-zero naming file:line, module and field.
    Check {
        /// Registry file (default: TFPILOT_REGISTRY or ./modules-registry.toml).
        path: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match server::logs::LogFormat::from_env() {
        Ok(format) => server::logs::init(format),
        Err(e) => return fail(&format!("configuration error: {e}")),
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return fail(&format!("configuration error: {e}")),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(server::serve(config)),
        Command::Registry {
            command: RegistryCommand::Check { path },
        } => {
            let path = path.unwrap_or(config.registry);
            server::registry::load(&path)
                .map(|registry| {
                    println!(
                        "{}: ok ({} modules)",
                        path.display(),
                        registry.modules.len()
                    )
                })
                .map_err(Into::into)
        }
        Command::Users { command } => runtime.block_on(async {
            match command {
                UsersCommand::Add {
                    name,
                    role,
                    password_stdin,
                    slack,
                    email,
                } => {
                    let links = server::auth::contact::Links {
                        slack_user_id: slack,
                        email,
                    };
                    server::cli::add_user(&config, &name, role, password_stdin, links).await
                }
                UsersCommand::LinkSlack {
                    name,
                    slack_user_id,
                    ..
                } => server::cli::link_slack(&config, &name, slack_user_id).await,
            }
        }),
        Command::Tokens { command } => runtime.block_on(async {
            match command {
                TokensCommand::Create { user, name, scope } => {
                    server::cli::create_token(&config, &user, &name, scope).await
                }
                TokensCommand::List { user } => {
                    server::cli::list_tokens(&config, user.as_deref()).await
                }
                TokensCommand::Revoke { id } => server::cli::revoke_token(&config, &id).await,
            }
        }),
        Command::Keys {
            command: KeysCommand::Rotate { every },
        } => runtime.block_on(server::cli::rotate_keys(&config, every)),
    };
    // Tasks still running (a terraform run cut by the stop) do not hold
    // the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("{e:#}")),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
