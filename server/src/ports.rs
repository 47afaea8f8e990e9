//! `Ports`: every adapter the server talks to, built once from the configuration or injected by a test.
//!
//! [`Ports::from_config`] is the only place adapters are chosen: the object
//! stores (directories or S3), GitHub repos + Actions or local repos + local
//! terraform, the log notifier, the Slack Web API (with a bot token), the
//! system clock and the OS random source.
//! [`crate::start_with`] wires services over whatever `Ports` it is given.

use crate::assistant::Assistant;
use crate::assistant::model::ModelAssistant;
use crate::assistant::rules::RulesAssistant;
use crate::auth::Users;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ExecutorChoice, ModelSettings};
use crate::exec::{Executor, RunInfo};
use crate::git::{GitHost, TreeExport};
use crate::ids::{Ids, OsIds};
use crate::integrations::credentials::Credentials;
use crate::integrations::crypto::Keyring;
use crate::notify::{LogNotifier, Notifier};
use crate::projects::Projects;
use crate::slack::{SlackApi, SlackError, SlackWeb};
use crate::store::ObjectStore;
use crate::store::journal::AuditLog;
use crate::store::open::Stores;
use crate::{exec, git, github, store};
use anyhow::Context as _;
use std::sync::Arc;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

/// Where an executor that finishes runs by itself reports them.
pub type RunSink = UnboundedSender<RunInfo>;
/// The finished runs of an executor, which the root hands to the flow.
pub type RunsDone = UnboundedReceiver<RunInfo>;

/// A channel of finished runs: the sink goes to the executor
/// (`LocalExecutor::new`, `FakeExecutor::with_completions`), the receiver
/// into [`Ports::runs_done`].
pub fn runs_channel() -> (RunSink, RunsDone) {
    tokio::sync::mpsc::unbounded_channel()
}

/// The adapters behind every port.
pub struct Ports {
    /// Requests, history, index snapshot, users, tokens, audit.
    pub requests: Arc<dyn ObjectStore>,
    /// Chat transcripts.
    pub chat_logs: Arc<dyn ObjectStore>,
    /// The infra repos.
    pub git: Arc<dyn GitHost>,
    /// Where terraform runs.
    pub exec: Arc<dyn Executor>,
    /// Who hears of requests' lifecycle events (through the outbox).
    pub notifiers: Vec<Arc<dyn Notifier>>,
    /// Wall-clock time.
    pub clock: Arc<dyn Clock>,
    /// Random bytes for secrets and ids.
    pub ids: Arc<dyn Ids>,
    /// The runs `exec` finishes on its own; `None` when the flow learns of
    /// them otherwise (webhooks and polling of GitHub Actions).
    pub runs_done: Option<RunsDone>,
    /// Slack's Web API as the bot; `None` without `TFPILOT_SLACK_BOT_TOKEN`
    /// and without a master key (no stored token can switch it on).
    pub slack: Option<Arc<dyn SlackApi>>,
    /// Reads descriptions: the model of `TFPILOT_MODEL_URL`, else the rules.
    pub assistant: Arc<dyn Assistant>,
    /// The projects served and the policy over them.
    pub projects: Arc<Projects>,
    /// The master keys of integration credentials; `None`: integrations
    /// are unavailable (production without `TFPILOT_MASTER_KEY`).
    pub keys: Option<Arc<Keyring>>,
    /// The credentials the adapters read on every use: the environment's,
    /// else the stored integrations named `default`.
    pub credentials: Arc<Credentials>,
}

impl Ports {
    /// The adapters `config` names: opens the stores and the repos, and
    /// restarts local runs a restart interrupted.
    pub async fn from_config(config: &Config) -> anyhow::Result<Ports> {
        // Installed before the first store call, so start-up is counted too.
        crate::meters::handle();
        let stores = store::open::open(config)
            .await
            .context("cannot open the request store")?;
        let ids: Arc<dyn Ids> = Arc::new(OsIds);
        let keys = crate::integrations::keys::keyring(config, ids.as_ref())?.map(Arc::new);
        if keys.is_none() {
            tracing::warn!(
                "integration credentials are unavailable: TFPILOT_MASTER_KEY (or TFPILOT_MASTER_KEY_FILE) is not set"
            );
        }
        let credentials = Arc::new(
            Credentials::from_config(config).with_store(stores.requests.clone(), keys.clone()),
        );
        credentials.refresh().await;
        let slack = slack_port(&config.slack, &credentials).await?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let projects = Arc::new(Projects::from_config(config));
        let (sink, done) = runs_channel();
        let (git, tree, exec, reports): (_, Arc<dyn TreeExport>, _, _) = match &config.github {
            Some(settings) => {
                check_repos(config)?;
                let (host, exec) = github_ports(settings, &credentials, projects.clone())?;
                (host.clone() as Arc<dyn GitHost>, host, exec, false)
            }
            None => {
                let (local, exec) =
                    local_ports(config, &stores, sink.clone(), clock.clone()).await?;
                (local.clone() as Arc<dyn GitHost>, local, exec, true)
            }
        };
        let (exec, on_tfc) = tfc_projects(config, &credentials, exec, tree, sink)?;
        let runs_done = (reports || on_tfc).then_some(done);
        let notifiers = notifiers(
            config,
            &stores,
            &slack,
            &credentials,
            clock.clone(),
            &projects,
        );
        Ok(Ports {
            requests: stores.requests,
            chat_logs: stores.chat_logs,
            git,
            exec,
            notifiers,
            clock,
            ids,
            runs_done,
            slack,
            assistant: assistant_port(config, &credentials)?,
            projects,
            keys,
            credentials,
        })
    }

    /// The two object stores.
    pub fn stores(&self) -> Stores {
        Stores {
            requests: self.requests.clone(),
            chat_logs: self.chat_logs.clone(),
        }
    }

    /// The audit log in the requests bucket, on these ports' clock and ids.
    pub fn audit_log(&self) -> AuditLog {
        AuditLog::new(self.requests.clone())
            .with_clock(self.clock.clone())
            .with_ids(self.ids.clone())
    }

    /// The users in the requests bucket, on these ports' clock and ids.
    pub fn users(&self) -> Users {
        Users::new(self.requests.clone())
            .with_clock(self.clock.clone())
            .with_ids(self.ids.clone())
    }
}

/// The log, and Slack and e-mail when they are (or may be, with a master
/// key) configured.
fn notifiers(
    config: &Config,
    stores: &Stores,
    slack: &Option<Arc<dyn SlackApi>>,
    credentials: &Credentials,
    clock: Arc<dyn Clock>,
    projects: &Arc<Projects>,
) -> Vec<Arc<dyn Notifier>> {
    let mut notifiers: Vec<Arc<dyn Notifier>> = vec![Arc::new(LogNotifier)];
    if let Some(api) = slack {
        // A project without its own channel uses TFPILOT_SLACK_CHANNEL,
        // else the stored Slack integration's.
        notifiers.push(Arc::new(
            crate::slack::SlackNotifier::new(
                api.clone(),
                crate::store::records::Records::new(stores.requests.clone()),
                Default::default(),
            )
            .serving(projects.clone(), config.slack.channel.clone()),
        ));
    }
    if credentials.smtp.is_set() || credentials.has_store() {
        let users = Users::new(stores.requests.clone())
            .with_clock(clock)
            .with_ids(Arc::new(OsIds));
        notifiers.push(Arc::new(crate::notify::EmailNotifier::live(
            credentials.smtp.clone(),
            users,
        )));
    }
    notifiers
}

/// Projects with `executor = "tfc"` run in their HCP Terraform workspaces
/// (uploading trees read from `tree`, reporting finished runs to `sink`),
/// the others on `mode`; true when any project does.
fn tfc_projects(
    config: &Config,
    credentials: &Credentials,
    mode: Arc<dyn Executor>,
    tree: Arc<dyn TreeExport>,
    sink: RunSink,
) -> anyhow::Result<(Arc<dyn Executor>, bool)> {
    let projects: Vec<_> = config
        .projects
        .values()
        .filter_map(|p| match &p.executor {
            ExecutorChoice::Tfc(tfc) => Some((p, tfc)),
            ExecutorChoice::Mode => None,
        })
        .collect();
    if projects.is_empty() {
        return Ok((mode, false));
    }
    let url = match (credentials.tfc.get(), credentials.has_store()) {
        (Some(c), _) => c.url.clone(),
        (None, true) => {
            tracing::warn!(
                "projects run on HCP Terraform but it has no token yet: their runs fail until TFPILOT_TFC_TOKEN is set or the tfc integration `default` is stored"
            );
            crate::config::DEFAULT_TFC_URL.to_owned()
        }
        (None, false) => {
            anyhow::bail!("TFPILOT_TFC_TOKEN must be set: a project has executor = \"tfc\"")
        }
    };
    let workspaces = projects.iter().flat_map(|(p, tfc)| {
        tfc.workspaces.iter().map(|(env, name)| {
            (
                (p.key.clone(), env.clone()),
                exec::tfc::Workspace {
                    organization: tfc.organization.clone(),
                    name: name.clone(),
                },
            )
        })
    });
    let tfc =
        exec::tfc::TfcExecutor::live(&url, credentials.tfc.clone(), tree, workspaces, Some(sink))
            .map_err(anyhow::Error::msg)?
            .with_default_branches(
                projects
                    .iter()
                    .map(|(p, _)| (p.key.clone(), p.default_branch.clone())),
            );
    let tfc: Arc<dyn Executor> = Arc::new(tfc);
    let keys: Vec<_> = projects.iter().map(|(p, _)| p.key.to_string()).collect();
    tracing::info!(api = %url, projects = %keys.join(", "), "runs of these projects go to HCP Terraform");
    let routed = exec::route::ByProject::new(
        mode,
        projects.iter().map(|(p, _)| (p.key.clone(), tfc.clone())),
    );
    Ok((Arc::new(routed), true))
}

/// Every configured repo is `owner/name` (projects created at runtime are
/// checked when written).
fn check_repos(config: &Config) -> anyhow::Result<()> {
    for p in config.projects.values() {
        if let Some(repo) = &p.repo
            && github::split_repo(repo).is_none()
        {
            anyhow::bail!("projects.{}.repo: `{repo}` is not `owner/name`", p.key);
        }
    }
    Ok(())
}

/// GitHub repos and Actions workflows (production), each project's repo
/// and default branch read from the served `projects` on every call, the
/// credentials from the environment or else from the stored integration.
fn github_ports(
    settings: &github::GitHubSettings,
    credentials: &Credentials,
    projects: Arc<Projects>,
) -> anyhow::Result<(Arc<git::github::GitHubHost>, Arc<dyn Executor>)> {
    let client = github::GitHubClient::new(settings)
        .map_err(anyhow::Error::msg)?
        .reading(credentials);
    let host = git::github::GitHubHost::serving(client.clone(), projects.clone());
    let actions = exec::actions::ActionsExecutor::new(
        client,
        std::iter::empty(),
        std::time::Duration::from_secs(2),
    )
    .serving(projects);
    tracing::info!(api = %settings.api_url, "infra repos on GitHub, runs in GitHub Actions");
    Ok((Arc::new(host), Arc::new(actions)))
}

/// The model of `TFPILOT_MODEL_URL` or of the stored integration; the
/// registry's rules alone when neither can be.
fn assistant_port(
    config: &Config,
    credentials: &Credentials,
) -> anyhow::Result<Arc<dyn Assistant>> {
    if !credentials.model.is_set() && !credentials.has_store() {
        return Ok(Arc::new(RulesAssistant));
    }
    if let Some(m) = credentials.model.get() {
        tracing::info!(url = %m.url, model = %m.model, "the assistant asks a model");
    }
    let settings = config.model.clone().unwrap_or_else(ModelSettings::defaults);
    Ok(Arc::new(
        ModelAssistant::live(settings, credentials.model.clone()).map_err(anyhow::Error::msg)?,
    ))
}

/// Slack's Web API reading its bot token from `credentials`: checked with
/// `auth.test` at start when the environment sets it (a refusal stops the
/// start), built without a token when one may be stored later.
async fn slack_port(
    settings: &crate::config::SlackSettings,
    credentials: &Credentials,
) -> anyhow::Result<Option<Arc<dyn SlackApi>>> {
    let from_env = settings.bot_token.is_some();
    if !from_env && !credentials.has_store() {
        return Ok(None);
    }
    let url = &settings.api_url;
    if from_env {
        reqwest::Url::parse(url)
            .map_err(|e| anyhow::anyhow!("TFPILOT_SLACK_API_URL: `{url}` is not a URL: {e}"))?;
    }
    let web = SlackWeb::live(credentials.slack.clone())
        .map_err(|e| anyhow::anyhow!("Slack client: {e}"))?;
    if !credentials.slack.is_set() {
        return Ok(Some(Arc::new(web)));
    }
    match web.auth_test().await {
        Ok(me) => {
            tracing::info!(api = %web.api_url(), bot = %me.user_id, team = %me.team, "Slack bot signed in")
        }
        Err(e) if from_env => {
            return Err(match e {
                SlackError::Api(code) => anyhow::anyhow!(
                    "TFPILOT_SLACK_BOT_TOKEN is refused by Slack's auth.test at {url} \
                     (TFPILOT_SLACK_API_URL): {code}"
                ),
                other => anyhow::anyhow!(
                    "TFPILOT_SLACK_BOT_TOKEN cannot be checked with Slack's auth.test at {url} \
                     (TFPILOT_SLACK_API_URL): {other}"
                ),
            });
        }
        Err(e) => tracing::warn!(
            kind = "slack",
            name = "default",
            "the stored Slack bot token does not pass auth.test: {e}"
        ),
    }
    Ok(Some(Arc::new(web)))
}

/// Local repos under the data dir and local terraform (the embedded default).
async fn local_ports(
    config: &Config,
    stores: &Stores,
    done: RunSink,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(Arc<git::local::LocalGit>, Arc<dyn Executor>)> {
    let template = config.workflows_dir.join("template");
    if !template.is_dir() {
        anyhow::bail!(
            "{} is missing: TFPILOT_WORKFLOWS_DIR must name the infra-workflows directory",
            template.display()
        );
    }
    let git = Arc::new(git::local::LocalGit::new(
        config.data_dir.join("git"),
        template,
        Some(config.workflows_dir.join("sandbox")),
        stores.requests.clone(),
    ));
    let local = Arc::new(
        exec::local::LocalExecutor::new(
            git.clone(),
            stores.requests.clone(),
            config.data_dir.join("exec"),
            config.run_timeout,
            Some(done),
        )
        .with_terraform(&config.terraform)
        .with_max_runs(config.max_runs)
        .with_clock(clock)
        .with_s3_state(config.state_bucket.clone()),
    );
    let resumed = local
        .recover()
        .await
        .context("cannot read the run records")?;
    if resumed > 0 {
        tracing::warn!(resumed, "runs interrupted by a restart were started again");
    }
    Ok((git, Arc::new(exec::local::SharedLocalExecutor(local))))
}
