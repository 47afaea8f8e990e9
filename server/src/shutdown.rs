//! Graceful shutdown: one [`CancellationToken`] tells everything to stop
//! (SIGTERM or Ctrl-C cancels it); [`Tasks`] holds the background tasks
//! started with the server and waits for them, up to a deadline
//! (`TFPILOT_SHUTDOWN_SECS` after the signal), naming those that did not
//! finish.

use crate::logs::event;
use crate::service::index::Index;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
pub use tokio_util::sync::CancellationToken;

/// The background tasks of one server, stopped together.
pub struct Tasks {
    stop: CancellationToken,
    running: Vec<(&'static str, JoinHandle<()>)>,
}

impl Tasks {
    /// No tasks yet; `stop` is the server's stop signal.
    pub fn new(stop: CancellationToken) -> Self {
        Self {
            stop,
            running: Vec::new(),
        }
    }

    /// Spawns `work`, a task with nothing to finish (it only waits and
    /// reads, or each of its steps is repaired if cut): it is dropped where
    /// it waits when the stop comes.
    pub fn spawn(&mut self, name: &'static str, work: impl Future<Output = ()> + Send + 'static) {
        let stop = self.stop.clone();
        self.running.push((
            name,
            tokio::spawn(async move {
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = work => {}
                }
            }),
        ));
    }

    /// Spawns `work`, which watches the stop signal itself and returns
    /// between its steps, handing back what it holds.
    pub fn spawn_watching(
        &mut self,
        name: &'static str,
        work: impl Future<Output = ()> + Send + 'static,
    ) {
        self.running.push((name, tokio::spawn(work)));
    }

    /// Waits for every task until `deadline`; the names of those still
    /// running then (which are aborted).
    pub async fn join(self, deadline: Instant) -> Vec<&'static str> {
        let mut unfinished = Vec::new();
        for (name, mut task) in self.running {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
                unfinished.push(name);
            }
        }
        unfinished
    }
}

/// Serves until `stop`, then stops within `limit`: the server's
/// connections end (SSE streams end themselves at the stop; in-flight
/// requests finish), what they changed is written to the change log, the
/// background tasks return and hand back their leases, the requests being
/// driven finish their step and hand theirs back (no new drive starts),
/// the dropped leases' releases are written, the index snapshot is
/// written. Past `limit`, it returns anyway with a warning naming what did
/// not finish. Logs `server.stopping` and `server.stopped` (with the time
/// taken).
pub(crate) async fn drain(
    server: impl Future<Output = std::io::Result<()>>,
    stop: CancellationToken,
    tasks: Tasks,
    index: Arc<Index>,
    flow: Arc<crate::service::flow::Flow>,
    limit: Duration,
) -> std::io::Result<()> {
    tokio::pin!(server);
    let early = tokio::select! {
        served = &mut server => Some(served),
        _ = stop.cancelled() => None,
    };
    stop.cancel();
    let began = Instant::now();
    let deadline = began + limit;
    tracing::info!(
        event = event::SERVER_STOPPING,
        limit_secs = limit.as_secs(),
        "stopping: no new connections; finishing in-flight requests and background work"
    );
    let mut unfinished: Vec<&'static str> = Vec::new();
    let served = match early {
        Some(served) => served,
        None => match tokio::time::timeout_at(deadline, server).await {
            Ok(served) => served,
            Err(_) => {
                unfinished.push("open HTTP connections");
                Ok(())
            }
        },
    };
    // What in-flight requests changed reaches the change log (the
    // others' indexes and streams) before the tasks stop.
    if !index
        .flush_log(deadline.saturating_duration_since(Instant::now()))
        .await
    {
        unfinished.push("change log appends");
    }
    unfinished.extend(tasks.join(deadline).await);
    if tokio::time::timeout_at(deadline, flow.settle())
        .await
        .is_err()
    {
        unfinished.push("request drives");
    }
    if tokio::time::timeout_at(deadline, crate::store::lease::releases_settled())
        .await
        .is_err()
    {
        unfinished.push("lease releases");
    }
    match tokio::time::timeout_at(deadline, index.save_snapshot()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!("could not write the index snapshot at shutdown: {e}"),
        Err(_) => unfinished.push("index snapshot"),
    }
    let took_ms = began.elapsed().as_millis() as u64;
    if unfinished.is_empty() {
        tracing::info!(event = event::SERVER_STOPPED, took_ms, "stopped");
    } else {
        tracing::warn!(
            event = event::SERVER_STOPPED,
            took_ms,
            unfinished = %unfinished.join(", "),
            "stopped after TFPILOT_SHUTDOWN_SECS ({} s) with work unfinished: {}",
            limit.as_secs(),
            unfinished.join(", ")
        );
    }
    served
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT).
pub async fn signal() {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tasks_end_at_the_stop_and_those_past_the_deadline_are_named() {
        let stop = CancellationToken::new();
        let mut tasks = Tasks::new(stop.clone());
        tasks.spawn("idle", std::future::pending());
        let watcher = stop.clone();
        tasks.spawn_watching("watching", async move {
            watcher.cancelled().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        });
        tasks.spawn_watching("stuck", std::future::pending());
        stop.cancel();
        let unfinished = tasks
            .join(Instant::now() + Duration::from_millis(300))
            .await;
        assert_eq!(unfinished, vec!["stuck"]);
    }
}
