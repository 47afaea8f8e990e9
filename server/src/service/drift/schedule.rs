//! The drift schedule: for every project + environment with a
//! `drift_schedule`, a drift run each time the server's `Clock` enters a
//! new period. Periods are counted from the Unix epoch, so every replica
//! names a period's run alike (`drift-<project>-<env>-s<period start>`):
//! the drift lease lets one run it and the others find it done.

use super::DriftService;
use crate::clock::Clock;
pub use crate::config::Every;
use app::domain::ids::{EnvName, ProjectKey};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the schedule looks at the clock.
const TICK: Duration = Duration::from_millis(500);

/// The period `now` (Unix seconds) falls in, and its start.
fn period(now: u64, every: Every) -> (u64, u64) {
    let len = every.0.as_secs().max(1);
    (now / len, now / len * len)
}

/// Every schedule of the projects served now.
fn targets(service: &DriftService) -> Vec<(ProjectKey, EnvName, Every)> {
    service
        .projects
        .all()
        .iter()
        .flat_map(|p| {
            p.drift_schedules
                .iter()
                .map(|(env, every)| (p.key.clone(), env.clone(), *every))
        })
        .collect()
}

/// Runs the drift schedules until `stop` (spawned at start). The schedules are
/// those of the projects served at each tick, so a project created or
/// changed while the server runs is followed. A run is due when the clock
/// enters a period after the one a schedule was in when it was first seen.
/// At the stop no run starts; the runs under way (scheduled or asked for)
/// finish and give their drift lease back before this returns.
pub async fn run_schedule(service: Arc<DriftService>, stop: CancellationToken) {
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = schedule(&service) => {}
    }
    service.runs.close();
    service.runs.wait().await;
}

async fn schedule(service: &Arc<DriftService>) {
    let clock: Arc<dyn Clock> = service.clock.clone();
    let now = || clock.unix_millis() / 1000;
    let mut last: HashMap<(ProjectKey, EnvName, Every), u64> = HashMap::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let targets = targets(service);
        last.retain(|k, _| targets.contains(k));
        for target in targets {
            let (n, start) = period(now(), target.2);
            let seen = last.entry(target.clone()).or_insert(n);
            if n <= *seen {
                continue;
            }
            *seen = n;
            let (project, env, _) = target;
            let run = format!("drift-{project}-{env}-s{start}");
            tracing::info!(%project, %env, %run, "scheduled drift run");
            let me = service.clone();
            service.runs.spawn(async move {
                me.run(&project, &env, &run, "schedule").await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_count_from_the_epoch() {
        let six_hours = Every(Duration::from_secs(6 * 3600));
        let cases = [
            (0, (0, 0)),
            (21_599, (0, 0)),
            (21_600, (1, 21_600)),
            (50_000, (2, 43_200)),
        ];
        for (now, want) in cases {
            assert_eq!(period(now, six_hours), want, "{now}");
        }
    }
}
