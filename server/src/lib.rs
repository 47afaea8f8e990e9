//! tfpilot's server: configuration, adapters, services and HTTP.
//!
//! `main.rs` only parses the command line; everything it runs lives here so
//! tests start the real server in-process. [`start_with`] is the one
//! composition root: it wires every service over the [`Ports`] it is given
//! (built by [`Ports::from_config`] in production, with fakes injected by
//! tests); [`start`] is `Ports::from_config` + `start_with`.

pub mod assistant;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crash;
pub mod exec;
#[cfg(test)]
mod fixtures;
pub mod git;
pub mod github;
pub mod http;
pub mod ids;
pub mod integrations;
pub mod meters;
pub mod notify;
pub mod ports;
pub mod projects;
pub mod registry;
pub mod service;
pub mod slack;
pub mod store;

use anyhow::Context as _;
use axum::serve::ListenerExt;
use config::Config;
pub use ports::Ports;
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

/// Builds the ports from `config` ([`Ports::from_config`]) and starts the
/// server on them ([`start_with`]).
pub async fn start(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    // A broken registry is named before any store or repo is opened (a
    // cheap parse; `start_with` loads the one it serves).
    registry::load(&config.registry)?;
    let ports = Ports::from_config(&config).await?;
    start_with(config, ports, listener, shutdown).await
}

/// The composition root: loads the registry, wires every service over
/// `ports`, loads the index, and serves on `listener` until `shutdown`
/// resolves (then writes the index snapshot). Errors name what is wrong
/// (registry line, store, address).
pub async fn start_with(
    config: Config,
    mut ports: Ports,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    let registry = Arc::new(registry::load(&config.registry)?);
    meters::handle();
    let addr = listener.local_addr().context("listener has no address")?;
    let public_url = if config.sessions.public_url.ends_with(":0") {
        format!("http://{addr}")
    } else {
        config.sessions.public_url.clone()
    };
    let setup_link = auth::setup::Setup::new(ports.users())
        .issue_if_needed(&config.admins)
        .await
        .context("cannot check for an admin account")?
        .map(|token| format!("{public_url}/setup?token={token}"));
    if let Some(link) = &setup_link {
        // Printed, not logged: the link is a one-time secret for the operator.
        println!(
            "\ntfpilot: there is no admin yet. Open this link within an hour to create one:\n\n    {link}\n"
        );
    }
    let served = projects::seed::Served::new(
        projects::store::ProjectStore::new(ports.requests.clone()),
        ports.projects.clone(),
        ports.clock.clone(),
    );
    let seeded = served
        .seed(&config.projects)
        .await
        .context("cannot write the configured projects into the store")?;
    let served_count = served
        .load()
        .await
        .context("cannot read the projects from the store")?;
    tracing::info!(
        projects = served_count,
        created = seeded.created,
        updated = seeded.updated,
        released = seeded.released,
        "projects loaded"
    );
    let index = Arc::new(Index::new(ports.requests.clone(), registry.clone()));
    let loaded = index
        .load()
        .await
        .context("cannot load the request index")?;
    meters::index_refreshed();
    tracing::info!(
        store = %ports.requests.describe(),
        requests = index.len(),
        fetched = loaded.fetched,
        "request index loaded"
    );
    let config = Arc::new(config);
    let outbox = Arc::new(notify::Outbox::new(
        ports.requests.clone(),
        ports.clock.clone(),
        ports.notifiers.clone(),
    ));
    let notices =
        notify::Notices::durable(outbox.clone(), &public_url).with_registry(registry.clone());
    let flow = Arc::new(service::flow::Flow::new(
        registry.clone(),
        index.clone(),
        &ports,
        notices.clone(),
    ));
    if let Some(mut done) = ports.runs_done.take() {
        let on_done = flow.clone();
        tokio::spawn(async move {
            while let Some(info) = done.recv().await {
                on_done.on_run(info).await;
            }
        });
    }
    let background = tokio::spawn(keep_index_fresh(index.clone(), config.clone()));
    let projects_fresh = tokio::spawn(served.clone().keep_fresh(config.index_refresh));
    // Credentials other replicas store are read every refresh period.
    let credentials = tokio::spawn(ports.credentials.clone().follow(config.index_refresh));
    let reconciler = tokio::spawn(reconcile(flow.clone(), config.reconcile));
    let deliveries = tokio::spawn(outbox.run(OUTBOX_EVERY));
    let upkeep = tokio::spawn(meters::upkeep(std::time::Duration::from_secs(5)));
    let state = http::AppState::new(
        config,
        registry,
        &ports,
        index.clone(),
        flow,
        notices,
        &public_url,
    );
    let sweeper = tokio::spawn(state.limits.clone().sweep_forever());
    let drift_schedule = tokio::spawn(service::drift::run_schedule(state.drift.clone()));
    let workers = state.jobs.settings().workers;
    let replica = ports.ids.random_hex(8);
    let job_pool = tokio::spawn(state.jobs.clone().run_pool(workers, replica));
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
        projects_fresh.abort();
        credentials.abort();
        reconciler.abort();
        deliveries.abort();
        sweeper.abort();
        drift_schedule.abort();
        job_pool.abort();
        upkeep.abort();
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

/// How often the outbox looks for due notices when nothing woke it.
const OUTBOX_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Stores the notices a crash cut off, then drives every unfinished
/// request at start and periodically.
async fn reconcile(flow: Arc<service::flow::Flow>, every: std::time::Duration) {
    let recovered = flow.recover_notices().await;
    if recovered > 0 {
        tracing::info!(notices = recovered, "stored the notices a stop cut off");
    }
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
                match index.refresh().await {
                    Ok(_) => meters::index_refreshed(),
                    Err(e) => tracing::warn!("index refresh failed (will retry): {e}"),
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
