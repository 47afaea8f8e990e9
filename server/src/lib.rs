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
pub mod logs;
pub mod meters;
pub mod notify;
pub mod ports;
pub mod projects;
pub mod registry;
pub mod service;
pub mod shutdown;
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
    // The shared change log's head first: whatever is written while the
    // index loads is read after it.
    let log_head = index
        .attach_log()
        .await
        .context("cannot read the change log")?;
    let loaded = index
        .load()
        .await
        .context("cannot load the request index")?;
    meters::index_refreshed();
    tracing::info!(
        event = logs::event::INDEX_LOADED,
        store = %ports.requests.describe(),
        requests = index.len(),
        fetched = loaded.fetched,
        "request index loaded"
    );
    let shutdown_limit = config.shutdown;
    let config = Arc::new(config);
    let outbox = Arc::new(notify::Outbox::new(
        ports.requests.clone(),
        ports.clock.clone(),
        ports.notifiers.clone(),
    ));
    let notices =
        notify::Notices::durable(outbox.clone(), &public_url).with_registry(registry.clone());
    let flow = Arc::new(
        service::flow::Flow::new(registry.clone(), index.clone(), &ports, notices.clone())
            .with_lease(config.lease),
    );
    if let Some(mut done) = ports.runs_done.take() {
        let on_done = flow.clone();
        tokio::spawn(async move {
            while let Some(info) = done.recv().await {
                on_done.on_run(info).await;
            }
        });
    }
    // Runs until the stop has written what this replica queued.
    let change_log = tokio::spawn(index.clone().follow_log(log_head));
    let stop = shutdown::CancellationToken::new();
    let mut tasks = shutdown::Tasks::new(stop.clone());
    tasks.spawn(
        "index refresh",
        keep_index_fresh(index.clone(), config.clone()),
    );
    tasks.spawn(
        "project refresh",
        served.clone().keep_fresh(config.index_refresh),
    );
    // Credentials other replicas store are read every refresh period.
    tasks.spawn(
        "credential refresh",
        ports.credentials.clone().follow(config.index_refresh),
    );
    tasks.spawn_watching(
        "reconciler",
        reconcile(flow.clone(), config.reconcile, stop.clone()),
    );
    tasks.spawn_watching("outbox", outbox.run(OUTBOX_EVERY, stop.clone()));
    tasks.spawn(
        "metrics upkeep",
        meters::upkeep(std::time::Duration::from_secs(5)),
    );
    let state = http::AppState::new(
        config,
        registry,
        &ports,
        index.clone(),
        flow,
        notices,
        &public_url,
    );
    tasks.spawn(
        "sign-in limit sweeper",
        state.limits.clone().sweep_forever(),
    );
    tasks.spawn_watching(
        "drift schedule",
        service::drift::run_schedule(state.drift.clone(), stop.clone()),
    );
    let workers = state.jobs.settings().workers;
    let replica = ports.ids.random_hex(8);
    tasks.spawn_watching(
        "job workers",
        state.jobs.clone().run_pool(workers, replica, stop.clone()),
    );
    let state = state.with_shutdown(stop.clone());
    let flow = state.flow.clone();
    let app = http::router(state);
    // Streamed SSR responses stall on Nagle without TCP_NODELAY.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY: {e}");
        }
    });
    let signalled = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        signalled.cancel();
    });
    let handle = tokio::spawn(async move {
        let server = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop.clone().cancelled_owned())
        .into_future();
        let stopped = shutdown::drain(server, stop, tasks, index, flow, shutdown_limit).await;
        change_log.abort();
        stopped
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
/// request at start and periodically, until `stop` (a pass under way
/// finishes its request steps first).
async fn reconcile(
    flow: Arc<service::flow::Flow>,
    every: std::time::Duration,
    stop: shutdown::CancellationToken,
) {
    let recovered = flow.recover_notices().await;
    if recovered > 0 {
        tracing::info!(notices = recovered, "stored the notices a stop cut off");
    }
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for pass in 0u64.. {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
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

/// `tfpilot serve`: binds the configured address and serves until SIGTERM
/// or Ctrl-C, then stops gracefully within `TFPILOT_SHUTDOWN_SECS`.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let bind = config.bind;
    let registry = config.registry.clone();
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind} (TFPILOT_BIND)"))?;
    let running = start(config, listener, shutdown::signal()).await?;
    tracing::info!(
        event = logs::event::SERVER_STARTED,
        registry = %registry.display(),
        "tfpilot is listening on http://{}",
        running.addr
    );
    running
        .handle
        .await
        .context("server task failed")?
        .context("server error")
}
