//! Prometheus metrics: one recorder per process, rendered by `GET /metrics`.
//!
//! The recorder is installed once ([`handle`]); every server of the
//! process renders the same one. Call sites record through the small
//! functions of [`record`], so each family's name and labels live here
//! and nowhere else. Gauges that mirror in-memory state (requests by
//! status, index size, refresh lag) are set when the page is scraped
//! ([`scrape`]); the others move where things happen.

pub mod names;
pub mod record;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use record::*;

/// Latency buckets in seconds, from a millisecond to ten minutes: HTTP
/// answers, store calls and the workflow's steps share them.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0, 600.0,
];

/// Longer buckets for the workflow's steps (a plan or an apply takes
/// minutes): ten seconds to two hours.
const STEP_BUCKETS: &[f64] = &[
    1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
static STARTED: OnceLock<Instant> = OnceLock::new();

/// The process's recorder, installed on first use: histograms with
/// buckets (never summaries), every family described, and the series of
/// fixed label sets present from the start at zero.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new().set_buckets(BUCKETS).and_then(|b| {
            b.set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(names::STEP_SECONDS.into()),
                STEP_BUCKETS,
            )
        });
        let recorder = match builder {
            Ok(b) => b.build_recorder(),
            // The bucket lists are constants and never empty.
            Err(e) => {
                tracing::warn!("metrics buckets refused ({e}); histograms become summaries");
                PrometheusBuilder::new().build_recorder()
            }
        };
        let handle = recorder.handle();
        if let Err(e) = metrics::set_global_recorder(recorder) {
            tracing::warn!("another metrics recorder is installed; /metrics stays empty: {e}");
        }
        names::describe();
        record::preset();
        handle
    })
}

/// Keeps the recorder's histograms drained (they grow until upkeep runs)
/// until the task is dropped.
pub async fn upkeep(every: Duration) {
    let handle = handle();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        handle.run_upkeep();
    }
}

/// What a scrape reads from memory: the index's counts per status (every
/// status, zeros included) and its size.
pub struct Scrape<'a> {
    /// Requests per status name.
    pub by_status: &'a [(&'static str, usize)],
    /// Rows in the index.
    pub indexed: usize,
}

/// The exposition text, after setting the gauges that mirror memory.
pub fn scrape(now: Scrape<'_>) -> String {
    let handle = handle();
    for (status, n) in now.by_status {
        metrics::gauge!(names::REQUESTS, "status" => *status).set(*n as f64);
    }
    metrics::gauge!(names::INDEX_REQUESTS).set(now.indexed as f64);
    if let Some(lag) = refresh_lag() {
        metrics::gauge!(names::INDEX_REFRESH_LAG).set(lag.as_secs_f64());
    }
    handle.render()
}

/// Milliseconds after [`STARTED`] of the last successful index refresh
/// (`0`: none yet).
static REFRESHED_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The index was loaded or refreshed from the store just now.
pub fn index_refreshed() {
    let started = STARTED.get_or_init(Instant::now);
    let ms = started.elapsed().as_millis() as u64;
    // `max(1)`: zero means "never".
    REFRESHED_MS.store(ms.max(1), std::sync::atomic::Ordering::Relaxed);
}

/// Time since the last successful refresh, once there was one.
fn refresh_lag() -> Option<Duration> {
    let at = REFRESHED_MS.load(std::sync::atomic::Ordering::Relaxed);
    let started = STARTED.get()?;
    (at > 0).then(|| started.elapsed().saturating_sub(Duration::from_millis(at)))
}
