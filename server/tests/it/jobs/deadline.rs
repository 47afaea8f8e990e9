//! A job that waits on its request does not wait for ever: once it has
//! waited `TFPILOT_JOBS_WAIT_SECS` (1 h by default; 30 min here) by the
//! clock, the job fails with a sentence saying so.

use super::{alert, automation_token, payload, put_policy, scale_policy, send, wait_job};
use crate::support::{TestApp, WAIT};
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::clock::ManualClock;
use server::exec::fake::{FakeExecutor, Outcome};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_whose_request_never_finishes_planning_fails_after_its_wait_limit() {
    let clock = Arc::new(ManualClock::at_system_time());
    let exec = Arc::new(FakeExecutor::new().with_auto_complete(|_| Outcome::success()));
    let app = TestApp::builder()
        .clock(clock.clone())
        .executor(exec.clone())
        // The lease outlives the clock's jumps: only the deadline ends the job.
        .env(&[
            ("TFPILOT_JOBS_LEASE_SECS", "3600"),
            ("TFPILOT_JOBS_WAIT_SECS", "1800"),
        ])
        .spawn()
        .await;
    let bot = automation_token(&app, "alertmanager").await;
    let alice = app.token("alice", Role::Requester).await;
    put_policy(&app, scale_policy()).await;
    let id = app
        .file(
            &alice,
            "dev",
            "sqs-queue",
            json!({"name": "slow", "dlq_max_receive_count": 3}),
        )
        .await;
    app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;

    // From now on runs never finish: the job's revision plans for ever.
    exec.manual();
    let body = payload(vec![alert(
        "QueueBacklog",
        "fp-slow",
        json!({"tfpilot_request": id}),
        json!({"new_max": "7"}),
    )]);
    let receipt: Value = send(&app, &bot, &body).await.json().await.unwrap();
    let job_id = receipt["jobs"][0].as_str().unwrap().to_owned();
    let waiting = crate::support::wait_until(
        Duration::from_secs(30),
        "the job to wait on the request's plan",
        || async {
            let job: Value = app
                .get_as(&alice, &format!("/api/v1/jobs/{job_id}"))
                .await
                .json()
                .await
                .map_err(|e| e.to_string())?;
            if job["steps"]["waiting_since"].is_u64() {
                Ok(job)
            } else {
                Err(job.to_string())
            }
        },
    )
    .await;
    assert_eq!(waiting["status"], "running");
    assert_eq!(waiting["steps"]["revision_filed"], 2);

    // 29 minutes: still waiting.
    clock.advance(Duration::from_secs(29 * 60));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let job: Value = app
        .get_as(&alice, &format!("/api/v1/jobs/{job_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(job["status"], "running", "{job:#}");

    // Past the limit: failed, saying why, on its first attempt.
    clock.advance(Duration::from_secs(2 * 60));
    let job = wait_job(&app, &alice, &job_id, "failed").await;
    let result = job["result"].as_str().unwrap();
    assert_eq!(
        result,
        format!(
            "gave up waiting after 30 min: request {id} is still planning (the limit is TFPILOT_JOBS_WAIT_SECS)"
        ),
        "{job:#}"
    );
    assert_eq!(job["attempts"], 1);
    assert!(job["lease"].is_null());
    assert!(job["finished_at"].is_string());
}
