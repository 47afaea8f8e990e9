//! Crash points for the crash tests: with `TFPILOT_CRASH_AT=<point>` the
//! process aborts right after the step named `<point>` took effect and
//! before tfpilot recorded it — the worst moment to die. Unset (always, in
//! normal operation) a point costs one comparison.
//!
//! Points, in the order a request meets them: `request.branch`,
//! `request.commit`, `request.pr`, `run.plan.dispatched`,
//! `run.plan.finished`, `merge.merged`, `run.apply.dispatched`,
//! `run.apply.finished`, `cleanup.branch`, `cleanup.commit`, `cleanup.pr`,
//! `cleanup.merged`, `run.destroy.dispatched`, `run.destroy.finished`.
//! A remediation job has `job.revision_filed` (its new revision stored,
//! not yet recorded on the job), met on a job's first attempt only, so
//! every replica may run with it and the one that takes the job over
//! finishes it. `tfpilot keys rotate` has `keys.rotated.<n>`: the `n`th
//! record sealed again with the new key and written, the rest not yet.

use std::sync::OnceLock;

/// Aborts the process if `TFPILOT_CRASH_AT` names this point.
pub fn point(name: &str) {
    static AT: OnceLock<Option<String>> = OnceLock::new();
    let at = AT.get_or_init(|| {
        std::env::var("TFPILOT_CRASH_AT")
            .ok()
            .filter(|s| !s.is_empty())
    });
    if at.as_deref() == Some(name) {
        eprintln!("tfpilot: crash point {name} reached; aborting (TFPILOT_CRASH_AT)");
        std::process::abort();
    }
}
