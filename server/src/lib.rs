//! tfpilot's server: configuration, adapters, services and HTTP.
//!
//! `main.rs` only parses the command line; everything it runs lives here so
//! tests start the real server in-process ([`start`]).

pub mod auth;
pub mod cli;
pub mod config;
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
    let background = tokio::spawn(keep_index_fresh(index.clone(), config.clone()));
    let state = http::AppState::new(config, registry, stores, index.clone());
    let app = http::router(state);
    // Streamed SSR responses stall on Nagle without TCP_NODELAY.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY: {e}");
        }
    });
    let handle = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        background.abort();
        if let Err(e) = index.save_snapshot().await {
            tracing::warn!("could not write the index snapshot at shutdown: {e}");
        }
        served
    });
    Ok(Running { addr, handle })
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
