//! What the executor uploads and how it drives runs in the workspace.

use super::wait_run;
use crate::exec::cases::{apply, finish, request, spec};
use crate::exec::tfc::{WORKSPACE, harness_with};
use crate::exec::{block, resource};
use crate::support::tfc::{Decision, Policy, TOKEN};
use app::domain::request::{CheckKind, Conclusion, RunStatus};
use server::exec::{Executor as _, RunKind, run_name};
use std::io::Read as _;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tfc_the_uploaded_archive_holds_the_block_and_the_module_sources() {
    let (h, fake, _) = harness_with(TOKEN, WORKSPACE, None).await;
    let r = request(30);
    let tip = h.world.merge_block(&r).await;
    let plan = spec(RunKind::Plan, &r, &tip, 1);
    h.exec.dispatch(&plan).await.unwrap();
    finish(&h, &plan).await;
    let run = fake.runs().pop().unwrap();
    assert!(run.plan_only, "a plan is a plan-only run");
    let cv = fake.state.lock().unwrap().cvs[0].clone();
    assert!(cv.speculative && !cv.auto_queue_runs, "{cv:?}");

    let bytes = fake.archive_of(&run);
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut files = std::collections::BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.header().entry_type().is_file() {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            files.insert(entry.path().unwrap().display().to_string(), text);
        }
    }
    let block_file = &files[&format!("envs/dev/contract.{r}.tf")];
    assert!(
        block_file.contains(&format!("module \"s3-bucket_{r}\""))
            && block_file.contains("source = \"../../modules/s3-bucket\""),
        "{block_file}"
    );
    assert!(files["modules/s3-bucket/main.tf"].contains("terraform_data"));
    assert!(files.contains_key("envs/dev/backend.tf"));
    assert!(
        files
            .keys()
            .all(|p| p.starts_with("envs/dev/") || p.starts_with("modules/")),
        "only the environment's root and the modules: {:?}",
        files.keys()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tfc_a_busy_workspace_queues_the_run_until_it_is_free() {
    let (sink, mut done) = tokio::sync::mpsc::unbounded_channel();
    let (h, fake, exec) = harness_with(TOKEN, WORKSPACE, Some(sink)).await;
    let r = request(31);
    let tip = h.world.merge_block(&r).await;
    let plan = spec(RunKind::Plan, &r, &tip, 1);
    fake.lock(WORKSPACE, true);
    let first = h.exec.dispatch(&plan).await.unwrap();
    assert_eq!(first.status, RunStatus::Queued);
    // Still waiting a while later, and said to be waiting for the workspace.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let info = h.exec.status(&plan).await.unwrap();
    assert_eq!((info.status, info.conclusion), (RunStatus::Queued, None));
    assert_eq!(
        h.exec.waiting(&plan.run_id()).as_deref(),
        Some("workspace busy")
    );
    assert_eq!(fake.runs()[0].status, "pending");

    fake.lock(WORKSPACE, false);
    let completed = tokio::time::timeout(Duration::from_secs(60), done.recv())
        .await
        .expect("the follower reports the run")
        .unwrap();
    assert_eq!(completed.run_id, plan.run_id());
    assert_eq!(
        completed.conclusion,
        Some(Conclusion::Success),
        "{completed:?}"
    );
    assert_eq!(exec.waiting(&plan.run_id()), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tfc_a_second_apply_waits_behind_the_first() {
    let (h, fake, exec) = harness_with(TOKEN, WORKSPACE, None).await;
    // Applies wait for confirmation after a passed policy check.
    fake.set_policy(WORKSPACE, Policy::Pass);
    let (a, b) = (request(32), request(33));
    h.world.merge_block(&a).await;
    let tip = h.world.merge_block(&b).await;
    // The first apply is blocked (b is outside its scope) and so holds the
    // workspace until tfpilot discards it: meanwhile the second waits.
    let first = apply(&a, &tip, &[a]);
    let second = spec(RunKind::Apply, &b, &tip, 1);
    let second = server::exec::RunSpec {
        scope: apply(&b, &tip, &[a, b]).scope,
        ..second
    };
    h.exec.dispatch(&first).await.unwrap();
    wait_run(&fake, &run_name(&first), |r| r.confirmable).await;
    h.exec.dispatch(&second).await.unwrap();
    let waiting = wait_run(&fake, &run_name(&second), |r| r.position == 1).await;
    assert_eq!(waiting.status, "pending");
    let info = h.exec.status(&second).await.unwrap();
    assert_eq!(info.status, RunStatus::Queued);
    assert_eq!(
        exec.waiting(&second.run_id()).as_deref(),
        Some("workspace busy")
    );
    assert_eq!(
        finish(&h, &first).await.conclusion,
        Some(Conclusion::Blocked)
    );
    let done = finish(&h, &second).await;
    assert_eq!(done.conclusion, Some(Conclusion::Success), "{done:?}");
    assert_eq!(done.summary.map(|s| s.add), Some(2));
    assert_eq!(done.checks.len(), 1, "{:?}", done.checks);
    assert_eq!(done.checks[0].outcome, "passed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tfc_a_blocked_apply_is_discarded_and_the_state_is_untouched() {
    let (h, fake, _) = harness_with(TOKEN, WORKSPACE, None).await;
    // Something applied first, so there is a state to keep.
    let (kept, outside, own) = (request(34), request(35), request(36));
    let merged = h.world.merge_block(&kept).await;
    let run = apply(&kept, &merged, &[kept]);
    h.exec.dispatch(&run).await.unwrap();
    assert_eq!(finish(&h, &run).await.conclusion, Some(Conclusion::Success));
    let ws = fake.state.lock().unwrap().workspaces[0].id.clone();
    let before = std::fs::read(fake.state_file(&ws)).unwrap();

    h.world.merge_block(&outside).await;
    let tip = h.world.merge_block(&own).await;
    let run = apply(&own, &tip, &[own]);
    h.exec.dispatch(&run).await.unwrap();
    fake.take_calls();
    let done = finish(&h, &run).await;
    assert_eq!(done.conclusion, Some(Conclusion::Blocked), "{done:?}");
    assert_eq!(done.blocked.len(), 1, "{:?}", done.blocked);
    assert_eq!(done.blocked[0].address, resource(&outside));
    let tfc_run = wait_run(&fake, &run_name(&run), |r| r.fin).await;
    assert_eq!(tfc_run.decision, Some(Decision::Discard));
    assert_eq!(tfc_run.status, "discarded");
    assert_eq!(tfc_run.apply_status, "unreachable", "never applied");
    let calls = fake.take_calls();
    assert!(
        calls
            .iter()
            .any(|c| c.ends_with("/runs/{id}/actions/{action}"))
    );
    assert_eq!(
        std::fs::read(fake.state_file(&ws)).unwrap(),
        before,
        "the state is untouched"
    );
    let log = h.exec.log(&run).await.unwrap();
    assert!(log.contains("Nothing was applied"), "{log}");
    assert!(log.contains(&block(&outside)), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tfc_cost_estimates_and_policy_checks_reach_the_run() {
    let (h, fake, _) = harness_with(TOKEN, WORKSPACE, None).await;
    fake.set_cost(WORKSPACE, "40.0", "12.4");
    fake.set_policy(WORKSPACE, Policy::SoftFail);
    fake.set_opa(WORKSPACE, 1);
    let r = request(37);
    let tip = h.world.merge_block(&r).await;
    let plan = spec(RunKind::Plan, &r, &tip, 1);
    h.exec.dispatch(&plan).await.unwrap();
    let done = finish(&h, &plan).await;
    // A soft-failed policy ends a plan-only run; its plan stands.
    assert_eq!(done.conclusion, Some(Conclusion::Success), "{done:?}");
    assert_eq!(done.summary.map(|s| s.add), Some(1));
    let checks: Vec<_> = done
        .checks
        .iter()
        .map(|c| (c.kind, c.outcome.as_str(), c.detail.as_str(), c.blocking))
        .collect();
    assert_eq!(
        checks,
        [
            (
                CheckKind::Cost,
                "finished",
                "+$12.40/month (proposed $40.00/month)",
                false
            ),
            (
                CheckKind::Policy,
                "soft failed",
                "1 of 2 policies passed, 1 soft-failed",
                false
            ),
            (
                CheckKind::Policy,
                "failed",
                "1 of 2 policies passed, 1 advisory failed",
                false
            ),
        ]
    );
    assert_eq!(done.checks[2].name, "OPA policies");

    // An apply whose policy hard-fails errors in TFC: a failure naming it.
    fake.set_policy(WORKSPACE, Policy::HardFail);
    let run = apply(&r, &tip, &[r]);
    h.exec.dispatch(&run).await.unwrap();
    let started = Instant::now();
    let done = finish(&h, &run).await;
    assert_eq!(done.conclusion, Some(Conclusion::Failure), "{done:?}");
    let error = done.error.clone().unwrap_or_default();
    assert!(
        error.contains("hard failed"),
        "{error} after {:?}",
        started.elapsed()
    );
    assert!(done.checks.iter().any(|c| c.blocking));
}
