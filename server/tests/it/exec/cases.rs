//! The `Executor` contract: every adapter passes these.

use super::{Harness, block, resource, sandbox};
use app::domain::ids::{EnvName, RequestId};
use app::domain::request::{Conclusion, RunStatus};
use server::exec::{DriftSpec, ExecError, RunInfo, RunKind, RunSpec, Scope, ScopeKind, Unexpected};
use std::time::{Duration, Instant};

/// The `n`th request id of a case.
pub fn request(n: u64) -> RequestId {
    RequestId::generate(1_760_000_000_000 + n, n as u32)
}

pub fn spec(kind: RunKind, request: &RequestId, sha: &str, attempt: u32) -> RunSpec {
    RunSpec {
        project: sandbox(),
        environment: EnvName::parse("dev").unwrap(),
        request: *request,
        kind,
        sha: sha.to_owned(),
        attempt,
        scope: None,
    }
}

fn destroy(request: &RequestId, sha: &str) -> RunSpec {
    RunSpec {
        scope: Some(Scope {
            kind: ScopeKind::Destroy,
            apply: Vec::new(),
            destroy: vec![*request],
            confirmed: Vec::new(),
            target: Some(block(request)),
        }),
        ..spec(RunKind::Destroy, request, sha, 1)
    }
}

pub fn apply(request: &RequestId, sha: &str, may_apply: &[RequestId]) -> RunSpec {
    RunSpec {
        scope: Some(Scope {
            kind: ScopeKind::Apply,
            apply: may_apply.to_vec(),
            destroy: Vec::new(),
            confirmed: Vec::new(),
            target: None,
        }),
        ..spec(RunKind::Apply, request, sha, 1)
    }
}

/// Reads `status` until the run completes, letting it move on in between;
/// its status never goes back and it has a conclusion exactly when it has
/// completed.
pub async fn finish(h: &Harness, spec: &RunSpec) -> RunInfo {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = RunStatus::Queued;
    loop {
        let info = h.exec.status(spec).await.unwrap();
        assert_eq!(info.run_id, spec.run_id());
        assert_eq!(&info.spec, spec);
        assert!(info.status >= last, "went back from {last:?}: {info:?}");
        last = info.status;
        if info.status == RunStatus::Completed {
            assert!(info.conclusion.is_some(), "{info:?}");
            return info;
        }
        assert_eq!(info.conclusion, None, "{info:?}");
        assert!(Instant::now() < deadline, "never completed: {info:?}");
        h.world.advance(spec).await;
    }
}

fn is_not_found<T: std::fmt::Debug>(result: Result<T, ExecError>) -> bool {
    matches!(result, Err(ExecError::NotFound(_)))
}

pub async fn dispatch_starts_one_run_under_its_deterministic_id(h: &Harness) {
    let r = request(1);
    let tip = h.world.merge_block(&r).await;
    let plan = spec(RunKind::Plan, &r, &tip, 1);
    assert!(is_not_found(h.exec.status(&plan).await));

    let first = h.exec.dispatch(&plan).await.unwrap();
    assert_eq!(first.run_id, format!("{r}-plan-1"));
    assert_eq!(first.spec, plan);
    assert!(
        matches!(first.status, RunStatus::Queued | RunStatus::Running),
        "{first:?}"
    );
    assert_eq!(first.conclusion, None);
    let again = h.exec.dispatch(&plan).await.unwrap();
    assert_eq!(again.run_id, first.run_id);
    assert_eq!(again.url, first.url, "the same run, not a second one");

    let done = finish(h, &plan).await;
    assert_eq!(done.conclusion, Some(Conclusion::Success), "{done:?}");
    let after = h.exec.dispatch(&plan).await.unwrap();
    assert_eq!(
        (after.status, after.conclusion),
        (RunStatus::Completed, done.conclusion),
        "a completed run is returned, not started again"
    );
    assert_eq!(h.world.executions(&plan).await, 1);

    // Another attempt is another run; the first one is untouched.
    let second = spec(RunKind::Plan, &r, &tip, 2);
    let other = h.exec.dispatch(&second).await.unwrap();
    assert_eq!(other.run_id, format!("{r}-plan-2"));
    assert_eq!(
        finish(h, &second).await.conclusion,
        Some(Conclusion::Success)
    );
    assert_eq!(h.exec.status(&plan).await.unwrap(), done);
    assert_eq!(h.world.executions(&plan).await, 1);
    assert_eq!(h.world.executions(&second).await, 1);
}

pub async fn nothing_is_known_of_a_run_never_dispatched(h: &Harness) {
    let r = request(2);
    let tip = h.world.merge_block(&r).await;
    for kind in [RunKind::Plan, RunKind::Apply, RunKind::Destroy] {
        let never = spec(kind, &r, &tip, 1);
        assert!(is_not_found(h.exec.status(&never).await), "{kind:?}");
        assert!(is_not_found(h.exec.plan_output(&never).await), "{kind:?}");
        assert!(is_not_found(h.exec.log(&never).await), "{kind:?}");
        assert_eq!(h.exec.queued_ahead(&never.run_id()), None);
    }
}

pub async fn a_plan_reports_its_changes_in_status_plan_output_and_log(h: &Harness) {
    let r = request(3);
    let tip = h.world.merge_block(&r).await;
    let plan = spec(RunKind::Plan, &r, &tip, 1);
    h.exec.dispatch(&plan).await.unwrap();
    let done = finish(h, &plan).await;
    assert_eq!(done.conclusion, Some(Conclusion::Success), "{done:?}");
    assert_eq!(done.error, None);
    assert!(done.blocked.is_empty());
    assert_eq!(done.ran_at, None, "a plan runs at its own commit");
    let summary = done.summary.expect("a completed plan has its counts");
    assert_eq!((summary.add, summary.change, summary.destroy), (1, 0, 0));

    let output = h.exec.plan_output(&plan).await.unwrap();
    assert_eq!(output.summary, summary, "the same counts as the status");
    assert_eq!(output.changes.len(), 1, "{:?}", output.changes);
    let change = &output.changes[0];
    assert_eq!(change.address, resource(&r));
    assert_eq!(change.module.as_deref(), Some(block(&r).as_str()));
    assert_eq!(change.action, "create");
    assert!(output.log.contains("Plan: 1 to add"), "{}", output.log);

    let log = h.exec.log(&plan).await.unwrap();
    assert!(log.contains("Plan: 1 to add"), "{log}");
}

pub async fn an_apply_within_its_scope_applies_main_at_its_tip(h: &Harness) {
    let (first, second) = (request(4), request(5));
    let merged = h.world.merge_block(&first).await;
    let tip = h.world.merge_block(&second).await;
    // The run is for the older merge, and runs on the tip of main.
    let run = apply(&first, &merged, &[first, second]);
    let info = h.exec.dispatch(&run).await.unwrap();
    assert_eq!(info.run_id, format!("{first}-apply-1"));
    let done = finish(h, &run).await;
    assert_eq!(done.conclusion, Some(Conclusion::Success), "{done:?}");
    assert_eq!(done.ran_at.as_deref(), Some(tip.as_str()));
    assert!(done.blocked.is_empty());
    assert_eq!(done.summary.map(|s| s.add), Some(2));
    assert!(h.exec.log(&run).await.unwrap().contains("Plan: 2 to add"));

    let after = spec(RunKind::Plan, &second, &tip, 1);
    h.exec.dispatch(&after).await.unwrap();
    let planned = finish(h, &after).await;
    assert_eq!(planned.conclusion, Some(Conclusion::Success));
    assert_eq!(planned.summary.map(|s| s.add), Some(0), "both were applied");
    assert!(h.exec.plan_output(&after).await.unwrap().changes.is_empty());
}

pub async fn an_apply_beyond_its_scope_is_blocked_and_applies_nothing(h: &Harness) {
    let (outside, own) = (request(6), request(7));
    h.world.merge_block(&outside).await;
    let tip = h.world.merge_block(&own).await;
    let run = apply(&own, &tip, &[own]);
    h.exec.dispatch(&run).await.unwrap();
    let done = finish(h, &run).await;
    assert_eq!(done.conclusion, Some(Conclusion::Blocked), "{done:?}");
    assert_eq!(
        done.blocked,
        [Unexpected {
            address: resource(&outside),
            action: "create".into(),
            owner: Some(outside),
        }]
    );
    let error = done.error.clone().unwrap_or_default();
    assert!(
        error.contains("blocked before anything was applied")
            && error.contains(&resource(&outside)),
        "{error}"
    );
    assert_eq!(done.ran_at.as_deref(), Some(tip.as_str()));
    assert_eq!(done.summary.map(|s| s.add), Some(2));
    let output = h.exec.plan_output(&run).await.unwrap();
    assert_eq!(Some(output.summary), done.summary);
    let log = h.exec.log(&run).await.unwrap();
    assert!(
        log.contains("Nothing was applied") && log.contains(&resource(&outside)),
        "{log}"
    );

    // Nothing was applied: both blocks are still to create.
    let after = spec(RunKind::Plan, &own, &tip, 1);
    h.exec.dispatch(&after).await.unwrap();
    assert_eq!(finish(h, &after).await.summary.map(|s| s.add), Some(2));
    let addresses: Vec<_> = h
        .exec
        .plan_output(&after)
        .await
        .unwrap()
        .changes
        .into_iter()
        .map(|c| c.address)
        .collect();
    assert!(
        addresses.contains(&resource(&outside)) && addresses.contains(&resource(&own)),
        "{addresses:?}"
    );
}

pub async fn a_destroy_removes_only_its_target(h: &Harness) {
    let (gone, kept) = (request(8), request(9));
    h.world.merge_block(&gone).await;
    let merged = h.world.merge_block(&kept).await;
    let run = apply(&kept, &merged, &[gone, kept]);
    h.exec.dispatch(&run).await.unwrap();
    assert_eq!(finish(h, &run).await.conclusion, Some(Conclusion::Success));

    // Both blocks leave main; the destroy is for one of them.
    let removed = h.world.remove_block(&gone).await;
    let tip = h.world.remove_block(&kept).await;
    let run = destroy(&gone, &removed);
    let info = h.exec.dispatch(&run).await.unwrap();
    assert_eq!(info.run_id, format!("{gone}-destroy-1"));
    let done = finish(h, &run).await;
    assert_eq!(done.conclusion, Some(Conclusion::Success), "{done:?}");
    assert_eq!(done.ran_at.as_deref(), Some(tip.as_str()));
    let summary = done.summary.unwrap();
    assert_eq!((summary.add, summary.destroy), (0, 1));
    let output = h.exec.plan_output(&run).await.unwrap();
    assert_eq!(output.changes.len(), 1, "{:?}", output.changes);
    assert_eq!(output.changes[0].address, resource(&gone));
    assert_eq!(output.changes[0].action, "delete");

    // Only the target was destroyed: the other block is still to destroy.
    let after = spec(RunKind::Plan, &kept, &tip, 1);
    h.exec.dispatch(&after).await.unwrap();
    assert_eq!(finish(h, &after).await.summary.map(|s| s.destroy), Some(1));
    let changes = h.exec.plan_output(&after).await.unwrap().changes;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].address, resource(&kept));
}

/// Drift run `n` of sandbox/dev.
pub fn drift(n: u64) -> DriftSpec {
    DriftSpec {
        project: sandbox(),
        environment: EnvName::parse("dev").unwrap(),
        run_id: format!("drift-sandbox-dev-{n}"),
    }
}

/// Applies `requests`' blocks (merged in order); returns main's tip.
async fn applied(h: &Harness, requests: &[RequestId]) -> String {
    let mut tip = String::new();
    for r in requests {
        tip = h.world.merge_block(r).await;
    }
    let run = apply(&requests[0], &tip, requests);
    h.exec.dispatch(&run).await.unwrap();
    let done = finish(h, &run).await;
    assert_eq!(done.conclusion, Some(Conclusion::Success), "{done:?}");
    tip
}

pub async fn a_drift_check_of_a_clean_environment_finds_nothing_and_runs_once(h: &Harness) {
    let tip = applied(h, &[request(10)]).await;
    let check = drift(1);
    // Asked twice at once: one check, one answer.
    let (first, second) = tokio::join!(h.exec.drift(&check), h.exec.drift(&check));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first, second);
    assert_eq!(first.run_id, check.run_id);
    assert_eq!(first.sha, tip, "the tip of main");
    assert!(first.changes.is_empty(), "{:?}", first.changes);
    // Asked again later: answered, not run again.
    assert_eq!(h.exec.drift(&check).await.unwrap(), first);
    assert_eq!(h.world.drift_executions(&check).await, 1);
}

pub async fn a_drift_check_finds_exactly_the_resource_changed_out_of_band(h: &Harness) {
    let (kept, changed) = (request(11), request(12));
    let tip = applied(h, &[kept, changed]).await;
    h.world.change_out_of_band(&changed).await;
    let check = drift(2);
    let report = h.exec.drift(&check).await.unwrap();
    assert_eq!(report.sha, tip);
    let found: Vec<_> = report
        .changes
        .iter()
        .map(|c| (c.address.as_str(), c.action.as_str()))
        .collect();
    assert_eq!(found, [(resource(&changed).as_str(), "update")]);
    let attributes = &report.changes[0].attributes;
    assert_eq!(attributes.len(), 1, "{attributes:?}");
    assert_eq!(attributes[0].name, "input");
    let current = attributes[0].current.clone().unwrap_or_default();
    assert!(current.contains(r#""versioning":false"#), "{current}");
    let desired = attributes[0].desired.clone().unwrap_or_default();
    assert!(desired.contains(r#""versioning":true"#), "{desired}");
    assert_eq!(h.world.drift_executions(&check).await, 1);
}
