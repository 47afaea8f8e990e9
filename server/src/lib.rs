//! tfpilot's server: configuration, adapters, services and HTTP.
//!
//! `main.rs` only parses the command line; everything it runs lives here so
//! tests start the real server in-process ([`start`]).

pub mod config;
pub mod http;
pub mod registry;
pub mod service;

use anyhow::Context as _;
use axum::serve::ListenerExt;
use config::Config;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// A running server.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Resolves when the server stops.
    pub handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Loads the registry named by `config`, binds `listener` and serves until
/// `shutdown` resolves. Errors name what is wrong (registry line, address).
pub async fn start(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    let registry = registry::load(&config.registry)?;
    let addr = listener.local_addr().context("listener has no address")?;
    let state = http::AppState::new(config, registry);
    let app = http::router(state);
    // Streamed SSR responses stall on Nagle without TCP_NODELAY.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY: {e}");
        }
    });
    let handle = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    });
    Ok(Running { addr, handle })
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
