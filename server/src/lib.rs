//! tfpilot's server: configuration, adapters, services and HTTP.
//!
//! `main.rs` only parses the command line; everything it runs lives here so
//! tests start the real server in-process ([`start`]).

pub mod auth;
pub mod cli;
pub mod config;
pub mod crash;
pub mod exec;
pub mod git;
pub mod github;
pub mod http;
pub mod registry;
pub mod service;
pub mod store;

use anyhow::Context as _;
use axum::serve::ListenerExt;
use config::Config;
use service::index::Index;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A running server.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Resolves when the server stops.
    pub handle: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The one-time link to create the first admin, while there is none.
    pub setup_link: Option<String>,
}

/// Loads the registry, opens the stores, loads the index, and serves on
/// `listener` until `shutdown` resolves (then writes the index snapshot).
/// Errors name what is wrong (registry line, store, address).
pub async fn start(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    let registry = Arc::new(registry::load(&config.registry)?);
    let addr = listener.local_addr().context("listener has no address")?;
    let stores = store::open::open(&config)
        .await
        .context("cannot open the request store")?;
    let setup_link = auth::setup::Setup::new(stores.requests.clone())
        .issue_if_needed(&config.admins)
        .await
        .context("cannot check for an admin account")?
        .map(|token| {
            let base = if config.sessions.public_url.ends_with(":0") {
                format!("http://{addr}")
            } else {
                config.sessions.public_url.clone()
            };
            format!("{base}/setup?token={token}")
        });
    if let Some(link) = &setup_link {
        // Printed, not logged: the link is a one-time secret for the operator.
        println!(
            "\ntfpilot: there is no admin yet. Open this link within an hour to create one:\n\n    {link}\n"
        );
    }
    let index = Arc::new(Index::new(stores.requests.clone(), registry.clone()));
    let loaded = index
        .load()
        .await
        .context("cannot load the request index")?;
    tracing::info!(
        store = %stores.requests.describe(),
        requests = index.len(),
        fetched = loaded.fetched,
        "request index loaded"
    );
    let config = Arc::new(config);
    let flow = wire_flow(&config, &registry, &stores, &index).await?;
    let background = tokio::spawn(keep_index_fresh(index.clone(), config.clone()));
    let reconciler = tokio::spawn(reconcile(flow.clone(), config.reconcile));
    let state = http::AppState::new(config, registry, stores, index.clone(), flow);
    let sweeper = tokio::spawn(state.limits.clone().sweep_forever());
    let app = http::router(state);
    // Streamed SSR responses stall on Nagle without TCP_NODELAY.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY: {e}");
        }
    });
    let handle = tokio::spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        background.abort();
        reconciler.abort();
        sweeper.abort();
        if let Err(e) = index.save_snapshot().await {
            tracing::warn!("could not write the index snapshot at shutdown: {e}");
        }
        served
    });
    Ok(Running {
        addr,
        handle,
        setup_link,
    })
}

/// The request workflow on the configured ports: GitHub + Actions, or local
/// repos + local terraform.
async fn wire_flow(
    config: &Arc<Config>,
    registry: &Arc<app::domain::registry::Registry>,
    stores: &store::open::Stores,
    index: &Arc<Index>,
) -> anyhow::Result<Arc<service::flow::Flow>> {
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let (git, exec): (Arc<dyn git::GitHost>, Arc<dyn exec::Executor>) = match &config.github {
        Some(settings) => github_ports(config, settings)?,
        None => local_ports(config, stores, &done_tx).await?,
    };
    let flow = Arc::new(service::flow::Flow::new(
        registry.clone(),
        config.policy.clone(),
        store::repo::RequestRepo::new(stores.requests.clone()),
        index.clone(),
        store::journal::AuditLog::new(stores.requests.clone()),
        git,
        exec,
    ));
    let on_done = flow.clone();
    tokio::spawn(async move {
        while let Some(info) = done_rx.recv().await {
            on_done.on_run(info).await;
        }
    });
    Ok(flow)
}

/// GitHub repos and Actions workflows (production).
fn github_ports(
    config: &Config,
    settings: &github::GitHubSettings,
) -> anyhow::Result<(Arc<dyn git::GitHost>, Arc<dyn exec::Executor>)> {
    let client = github::GitHubClient::new(settings).map_err(anyhow::Error::msg)?;
    let repos: Vec<_> = config
        .projects
        .values()
        .filter_map(|p| Some((p.key.clone(), p.repo.clone()?)))
        .collect();
    let branches: Vec<_> = config
        .projects
        .values()
        .map(|p| (p.key.clone(), p.default_branch.clone()))
        .collect();
    let host = git::github::GitHubHost::new(client.clone(), repos.clone())
        .map_err(anyhow::Error::msg)?
        .with_default_branches(branches.clone());
    let actions =
        exec::actions::ActionsExecutor::new(client, repos, std::time::Duration::from_secs(2))
            .with_default_branches(branches);
    tracing::info!(api = %settings.api_url, "infra repos on GitHub, runs in GitHub Actions");
    Ok((Arc::new(host), Arc::new(actions)))
}

/// Local repos under the data dir and local terraform (the embedded default).
async fn local_ports(
    config: &Config,
    stores: &store::open::Stores,
    done_tx: &tokio::sync::mpsc::UnboundedSender<exec::RunInfo>,
) -> anyhow::Result<(Arc<dyn git::GitHost>, Arc<dyn exec::Executor>)> {
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
            Some(done_tx.clone()),
        )
        .with_terraform(&config.terraform)
        .with_max_runs(config.max_runs)
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

/// Drives every unfinished request at start and then periodically.
async fn reconcile(flow: Arc<service::flow::Flow>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for pass in 0u64.. {
        tick.tick().await;
        // Open PRs waiting for a person are polled less often (webhooks
        // normally report them): at start and every tenth pass.
        let n = flow.reconcile_all(pass % 10 == 0).await;
        if n > 0 {
            tracing::debug!(requests = n, "reconciler pass");
        }
    }
}

/// Diffs the bucket every `index_refresh` and writes the snapshot every
/// `index_snapshot` when it changed.
async fn keep_index_fresh(index: Arc<Index>, config: Arc<Config>) {
    let mut refresh = tokio::time::interval(config.index_refresh);
    let mut snapshot = tokio::time::interval(config.index_snapshot);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    snapshot.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = refresh.tick() => {
                if let Err(e) = index.refresh().await {
                    tracing::warn!("index refresh failed (will retry): {e}");
                }
            }
            _ = snapshot.tick() => {
                if let Err(e) = index.save_snapshot().await {
                    tracing::warn!("index snapshot failed (will retry): {e}");
                }
            }
        }
    }
}

/// `tfpilot serve`: binds the configured address and serves until Ctrl-C.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let bind = config.bind;
    let registry = config.registry.clone();
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind} (TFPILOT_BIND)"))?;
    let running = start(config, listener, shutdown_signal()).await?;
    tracing::info!(registry = %registry.display(), "tfpilot is listening on http://{}", running.addr);
    running
        .handle
        .await
        .context("server task failed")?
        .context("server error")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
