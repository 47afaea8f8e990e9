//! A stopping server hands back the lease of the job its worker runs: the
//! job stays running, claimable at once, and the next server claims it
//! without waiting for the lease to run out.

use super::{alert, automation_token, payload, put_policy, scale_policy, send};
use crate::support::{TestApp, WAIT, wait_until};
use app::domain::jobs::Job;
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::exec::fake::{FakeExecutor, Outcome};
use server::store::ObjectStore as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The job as stored.
async fn stored(store: &server::store::fs::FsStore, id: &str) -> Job {
    let obj = store.get(&format!("jobs/{id}.json")).await.unwrap();
    serde_json::from_slice(&obj.bytes).unwrap()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stopping_server_hands_its_job_back_and_the_next_claims_it_at_once() {
    let exec = Arc::new(FakeExecutor::new().with_auto_complete(|_| Outcome::success()));
    let a = TestApp::builder().executor(exec.clone()).spawn().await;
    let bot = automation_token(&a, "alertmanager").await;
    let alice = a.token("alice", Role::Requester).await;
    let pat = a.token("pat", Role::Approver).await;
    put_policy(&a, scale_policy()).await;
    let id = a
        .file(
            &alice,
            "dev",
            "sqs-queue",
            json!({"name": "handed", "dlq_max_receive_count": 3}),
        )
        .await;
    a.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    for action in ["approve", "merge", "apply"] {
        assert_eq!(crate::flow::act(&a, &pat, &id, action).await.status(), 202);
    }
    a.wait_for_status(&alice, &id, "applied", WAIT).await;

    // The job's new plan never ends here: its worker watches it, holding
    // the job's lease (30 s by default).
    exec.manual();
    let body = payload(vec![alert(
        "QueueBacklog",
        "fp-handback",
        json!({"tfpilot_request": id}),
        json!({"new_max": "9"}),
    )]);
    let receipt: Value = send(&a, &bot, &body).await.json().await.unwrap();
    let job_id = receipt["jobs"][0].as_str().unwrap().to_owned();
    let store = a.requests_store();
    let held = wait_until(
        Duration::from_secs(60),
        "the job to wait on its plan",
        || {
            let (store, job_id) = (store.clone(), job_id.clone());
            async move {
                let job = stored(&store, &job_id).await;
                match &job.lease {
                    Some(_) if job.steps.revision_filed.is_some() => Ok(job),
                    _ => Err(format!("{job:?}")),
                }
            }
        },
    )
    .await;
    let holder = held.lease.unwrap().holder;

    let TestApp { data, _stop, .. } = a;
    drop(_stop);
    let stopped = Instant::now();
    let handed = wait_until(
        Duration::from_secs(20),
        "the lease to be handed back",
        || {
            let (store, job_id) = (store.clone(), job_id.clone());
            async move {
                let job = stored(&store, &job_id).await;
                match &job.lease {
                    Some(lease) if lease.expires_at <= now_ms() => Ok(job),
                    _ => Err(format!("{job:?}")),
                }
            }
        },
    )
    .await;
    assert_eq!(handed.attempts, 1, "{handed:?}");
    assert!(handed.status.is_open(), "{handed:?}");
    let handed_after = stopped.elapsed();

    // The next server's worker claims it at once, well inside the 30 s
    // the lease would have lasted.
    let b = TestApp::builder()
        .data(data)
        .executor(Arc::new(
            FakeExecutor::new().with_auto_complete(|_| Outcome::success()),
        ))
        .spawn()
        .await;
    let started = Instant::now();
    let claimed = wait_until(
        Duration::from_secs(20),
        "the job to be claimed again",
        || {
            let (store, job_id) = (b.requests_store(), job_id.clone());
            async move {
                let job = stored(&store, &job_id).await;
                (job.attempts == 2)
                    .then_some(job.clone())
                    .ok_or(format!("{job:?}"))
            }
        },
    )
    .await;
    let took = started.elapsed();
    eprintln!(
        "job hand-back: lease handed back {:.2} s after the stop, claimed again {:.2} s after the next start",
        handed_after.as_secs_f64(),
        took.as_secs_f64()
    );
    assert_ne!(claimed.lease.map(|l| l.holder), Some(holder));
    assert!(took < Duration::from_secs(15), "{took:?}");
}
