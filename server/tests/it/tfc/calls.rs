//! The JSON:API calls one plan and one apply make, counted by the fake.
//! The run is left to move in the fake between the executor's reads, so
//! the counts hold no polls: each poll of a running run adds one
//! `GET /runs/{id}`.

use super::wait_run;
use crate::exec::cases::{apply, request, spec};
use crate::exec::tfc::{WORKSPACE, harness_with};
use crate::support::tfc::TOKEN;
use app::domain::request::{Conclusion, RunStatus};
use server::exec::{RunKind, run_name};
use std::collections::BTreeMap;

fn tally(calls: Vec<String>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in calls {
        *out.entry(c).or_default() += 1;
    }
    out
}

fn print(what: &str, counts: &BTreeMap<String, usize>) {
    let total: usize = counts.values().sum();
    eprintln!("HCP Terraform calls per {what}: {total}");
    for (call, n) in counts {
        eprintln!("  {n:>2}  {call}");
    }
}

fn expect(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(c, n)| (c.to_string(), *n)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tfc_api_calls_per_plan_and_per_apply() {
    let (h, fake, _) = harness_with(TOKEN, WORKSPACE, None).await;
    let r = request(40);
    let tip = h.world.merge_block(&r).await;

    // Plan: dispatch, then one read once it ended, as the follower's last poll.
    let plan = spec(RunKind::Plan, &r, &tip, 1);
    fake.take_calls();
    h.exec.dispatch(&plan).await.unwrap();
    wait_run(&fake, &run_name(&plan), |r| r.fin).await;
    let info = h.exec.status(&plan).await.unwrap();
    assert_eq!(info.conclusion, Some(Conclusion::Success));
    h.exec.plan_output(&plan).await.unwrap();
    let counts = tally(fake.take_calls());
    print("plan (dispatch to plan shown)", &counts);
    assert_eq!(
        counts,
        expect(&[
            ("GET /api/v2/organizations/{org}/workspaces/{name}", 1),
            ("GET /api/v2/workspaces/{id}/runs", 1),
            ("POST /api/v2/workspaces/{id}/configuration-versions", 1),
            ("PUT /_archivist/upload/{cv}", 1),
            ("GET /api/v2/configuration-versions/{id}", 1),
            ("POST /api/v2/runs", 1),
            ("GET /api/v2/runs/{id}", 2),
            ("GET /api/v2/plans/{id}", 1),
            ("GET /_archivist/log/{kind}/{id}", 1),
            ("GET /api/v2/plans/{id}/json-output", 2),
            ("GET /_archivist/json/{plan}", 1),
        ])
    );

    // Apply: dispatch, the check once the plan waits for confirmation
    // (then `actions/apply`), one read once it ended.
    let run = apply(&r, &tip, &[r]);
    h.exec.dispatch(&run).await.unwrap();
    wait_run(&fake, &run_name(&run), |r| r.confirmable).await;
    let info = h.exec.status(&run).await.unwrap();
    assert_eq!(info.status, RunStatus::Running);
    wait_run(&fake, &run_name(&run), |r| r.fin).await;
    let info = h.exec.status(&run).await.unwrap();
    assert_eq!(info.conclusion, Some(Conclusion::Success), "{info:?}");
    let counts = tally(fake.take_calls());
    print("apply (dispatch to applied)", &counts);
    assert_eq!(
        counts,
        expect(&[
            ("GET /api/v2/workspaces/{id}/runs", 1),
            ("POST /api/v2/workspaces/{id}/configuration-versions", 1),
            ("PUT /_archivist/upload/{cv}", 1),
            ("GET /api/v2/configuration-versions/{id}", 1),
            ("POST /api/v2/runs", 1),
            ("GET /api/v2/runs/{id}", 2),
            ("GET /api/v2/plans/{id}", 1),
            ("GET /_archivist/log/{kind}/{id}", 1),
            ("GET /api/v2/plans/{id}/json-output", 2),
            ("GET /_archivist/json/{plan}", 1),
            ("POST /api/v2/runs/{id}/actions/{action}", 1),
        ])
    );
}
