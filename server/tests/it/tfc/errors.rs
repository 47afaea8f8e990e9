//! The API's refusals, as people read them.

use crate::exec::cases::{finish, request, spec};
use crate::exec::tfc::{WORKSPACE, harness_with};
use crate::metrics::series;
use crate::support::tfc::TOKEN;
use app::domain::request::Conclusion;
use server::exec::{ExecError, RunKind};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tfc_a_refused_token_is_named_and_nothing_runs() {
    let (h, fake, _) = harness_with("not-the-token", WORKSPACE, None).await;
    let r = request(20);
    let tip = h.world.merge_block(&r).await;
    let err = h
        .exec
        .dispatch(&spec(RunKind::Plan, &r, &tip, 1))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("TFPILOT_TFC_TOKEN") && message.contains("401"),
        "{message}"
    );
    assert!(
        !message.contains("not-the-token"),
        "the token is never shown"
    );
    assert!(fake.runs().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tfc_an_unknown_workspace_is_named() {
    let (h, fake, _) = harness_with(TOKEN, "payments-dev", None).await;
    let r = request(21);
    let tip = h.world.merge_block(&r).await;
    let err = h
        .exec
        .dispatch(&spec(RunKind::Plan, &r, &tip, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, ExecError::Invalid(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("payments-dev") && message.contains("acme") && message.contains("404"),
        "{message}"
    );
    assert!(fake.runs().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tfc_rate_limits_are_waited_out() {
    let (h, fake, _) = harness_with(TOKEN, WORKSPACE, None).await;
    let r = request(22);
    let tip = h.world.merge_block(&r).await;
    let plan = spec(RunKind::Plan, &r, &tip, 1);
    fake.take_calls();
    let waits = r#"tfpilot_rate_limit_waits_total{service="tfc"}"#;
    let limited = r#"tfpilot_upstream_calls_total{service="tfc",outcome="rate_limited"}"#;
    let (waits_before, limited_before) = (series(waits), series(limited));
    // The next two calls answer 429 with `Retry-After: 1`.
    fake.fail_next(429, 2, Some(1));
    let started = Instant::now();
    h.exec.dispatch(&plan).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After was waited out twice: {:?}",
        started.elapsed()
    );
    let calls = fake.take_calls();
    assert_eq!(
        calls[..3],
        [
            "GET /api/v2/organizations/{org}/workspaces/{name}",
            "GET /api/v2/organizations/{org}/workspaces/{name}",
            "GET /api/v2/organizations/{org}/workspaces/{name}",
        ],
        "the same call, sent again after each 429"
    );
    // Counted as calls that were rate limited, and as waits.
    assert!(series(limited) >= limited_before + 2.0, "{limited}");
    assert!(series(waits) >= waits_before + 2.0, "{waits}");
    let done = finish(&h, &plan).await;
    assert_eq!(done.conclusion, Some(Conclusion::Success), "{done:?}");
    assert_eq!(fake.runs().len(), 1, "one run, not one per attempt");
}
