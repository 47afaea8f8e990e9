//! Drift by the server's `Clock` (a manual one): a run that died leaves
//! its lease behind, the next run waits for it to expire, takes it over
//! and says so; a `drift_schedule` runs when the clock enters a new
//! period.

use super::drift_run;
use crate::support::{TestApp, WAIT, wait_until};
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::clock::{Clock, ManualClock};
use server::exec::fake::{FakeExecutor, Outcome};
use server::store::{ObjectStore, Precondition};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_runs_lease_is_taken_over_once_it_expires_and_the_run_says_so() {
    let clock = Arc::new(ManualClock::at_system_time());
    let exec = Arc::new(FakeExecutor::new().with_auto_complete(|_| Outcome::success()));
    let app = TestApp::builder()
        .executor(exec.clone())
        .clock(clock.clone())
        .spawn()
        .await;
    let bob = app.token("bob", Role::Approver).await;
    let admin = app.token("ada", Role::Admin).await;
    // A run on another replica took the lease and died: nobody renews it.
    let expires = clock.unix_millis() + 60_000;
    app.requests_store()
        .put(
            "locks/drift/sandbox/dev.json",
            serde_json::to_vec(&json!({"holder": "replica-b/drift-dead", "expires_at": expires}))
                .unwrap()
                .into(),
            Precondition::IfAbsent,
        )
        .await
        .unwrap();

    let res = app
        .post_as(&bob, "/api/v1/drift/sandbox/dev", &json!({}))
        .await;
    assert_eq!(res.status(), 202);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let waiting: Value = app
        .get_as(&bob, "/api/v1/drift/sandbox/dev")
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(waiting["state"], "done", "the lease still holds: {waiting}");
    assert!(
        exec.drift_runs().is_empty(),
        "nothing ran while the lease held"
    );

    clock.advance(Duration::from_secs(61));
    let done = wait_until(WAIT, "the run to take the lease over and end", || async {
        let got: Value = app
            .get_as(&bob, "/api/v1/drift/sandbox/dev")
            .await
            .json()
            .await
            .unwrap();
        if got["state"] == "done" {
            Ok(got)
        } else {
            Err(got.to_string())
        }
    })
    .await;
    assert_eq!(done["took_over_from"], "replica-b/drift-dead", "{done}");
    assert_eq!(exec.drift_runs().len(), 1);
    let audit: Value = app
        .get_as(&admin, "/api/v1/audit")
        .await
        .json()
        .await
        .unwrap();
    let takeover = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "drift.takeover")
        .unwrap_or_else(|| panic!("a drift.takeover record: {audit}"));
    assert!(
        takeover["detail"]
            .as_str()
            .unwrap()
            .contains("replica-b/drift-dead"),
        "{takeover}"
    );

    // And the run released its lease: the next one runs at once.
    drift_run(&app, &bob).await;
    assert_eq!(exec.drift_runs().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_drift_schedule_runs_when_the_clock_enters_a_new_period() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "[projects.sandbox]\nenvironments = [\"dev\", \"prod\"]\ndrift_schedule = {{ dev = \"every 1h\" }}"
    )
    .unwrap();
    let clock = Arc::new(ManualClock::at_system_time());
    let exec = Arc::new(FakeExecutor::new().with_auto_complete(|_| Outcome::success()));
    let app = TestApp::builder()
        .executor(exec.clone())
        .clock(clock.clone())
        .env(&[("TFPILOT_CONFIG", file.path().to_str().unwrap())])
        .spawn()
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        exec.drift_runs().is_empty(),
        "nothing is due within the first period"
    );

    clock.advance(Duration::from_secs(3600));
    let start = clock.unix_millis() / 1000 / 3600 * 3600;
    let runs = wait_until(WAIT, "the scheduled drift run", || async {
        match exec.drift_runs() {
            r if r.is_empty() => Err("no run yet".to_owned()),
            r => Ok(r),
        }
    })
    .await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].run_id, format!("drift-sandbox-dev-s{start}"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        exec.drift_runs().len(),
        1,
        "once per period, and prod has no schedule"
    );
    drop(app);
}
