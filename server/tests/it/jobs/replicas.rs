//! Two real `tfpilot` processes on one data dir: the one that claims a
//! remediation job dies without any cleanup right after it filed the
//! job's revision (crash point `job.revision_filed`, which every replica
//! may run with: it is met on a job's first attempt only). The other
//! takes the job over once the lease ran out and finishes it once: one
//! new revision, one new PR, one new apply.

use crate::support::binary::Binary;
use crate::support::wait_until;
use app::domain::policy::{Role, TokenScope};
use serde_json::{Value, json};
use server::store::fs::FsStore;
use std::os::unix::process::ExitStatusExt as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The job lease of both processes (`TFPILOT_JOBS_LEASE_SECS`).
const LEASE_SECS: &str = "5";

async fn token(store: &Arc<FsStore>, login: &str, role: Role, scope: Option<TokenScope>) -> String {
    server::auth::Users::new(store.clone())
        .add(login, role, None)
        .await
        .unwrap();
    server::auth::Tokens::new(store.clone())
        .create_scoped(login, "replicas test", scope)
        .await
        .unwrap()
        .1
}

async fn call(
    server: &Binary,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Value {
    let url = format!("{}{path}", server.url);
    let req = match method {
        "POST" => server.client.post(url),
        _ => server.client.get(url),
    };
    let req = req.bearer_auth(token);
    let req = match body {
        Some(b) => req.json(b),
        None => req,
    };
    let res = req.send().await.expect("the server answers");
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status < 300, "{method} {path}: {status} {body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_process_is_killed_is_finished_once_by_the_other_process() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let store = Arc::new(FsStore::open(data.join("store/requests")).unwrap());
    let alice = token(&store, "alice", Role::Requester, None).await;
    let pat = token(&store, "pat", Role::Approver, None).await;
    let ada = token(&store, "ada", Role::Admin, None).await;
    let bot = token(
        &store,
        "alertmanager",
        Role::Admin,
        Some(TokenScope::Automation),
    )
    .await;
    let env = [
        ("TFPILOT_CRASH_AT", "job.revision_filed"),
        ("TFPILOT_JOBS_LEASE_SECS", LEASE_SECS),
        ("TFPILOT_INDEX_REFRESH_SECS", "1"),
    ];

    // A files and plans a dev queue; B starts on the same data dir once
    // no run is in flight, and both serve from then on.
    let a = Binary::start(data, &env).await;
    let created = call(
        &a,
        &alice,
        "POST",
        "/api/v1/requests",
        Some(
            &json!({"project": "sandbox", "environment": "dev", "module": "sqs-queue",
                     "config": {"name": "orders", "dlq_max_receive_count": 3}}),
        ),
    )
    .await;
    let id = created["request"]["id"].as_str().unwrap().to_owned();
    a.wait_for(&alice, &id, "plan_ready").await;
    let b = Binary::start(data, &env).await;
    for action in ["approve", "merge", "apply"] {
        assert_eq!(a.act(&pat, &id, action).await, Some(202), "{action}");
    }
    b.wait_for(&alice, &id, "applied").await;
    call(
        &a,
        &ada,
        "POST",
        "/api/v1/policies",
        Some(&super::scale_policy()),
    )
    .await;

    // The alert: whichever process claims the job dies after filing its
    // revision, before the job records it.
    let alert = super::payload(vec![super::alert(
        "QueueBacklog",
        "fp-replicas",
        json!({"tfpilot_request": id}),
        json!({"new_max": "11"}),
    )]);
    let receipt = call(
        &a,
        &bot,
        "POST",
        "/api/v1/alerts/alertmanager",
        Some(&alert),
    )
    .await;
    let job_id = receipt["jobs"][0].as_str().unwrap().to_owned();
    let mut servers = [a, b];
    let deadline = Instant::now() + Duration::from_secs(60);
    let (dead, killed_at) = loop {
        if let Some(i) = (0..2).find(|&i| servers[i].child.try_wait().unwrap().is_some()) {
            break (i, Instant::now());
        }
        assert!(
            Instant::now() < deadline,
            "no process reached job.revision_filed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut stderr = String::new();
    {
        use std::io::Read as _;
        let child = &mut servers[dead].child;
        let status = child.wait().unwrap();
        let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
        assert_eq!(status.signal(), Some(6), "{stderr}");
    }
    assert!(
        stderr.contains("crash point job.revision_filed reached"),
        "{stderr}"
    );
    let alive = &servers[1 - dead];

    // The other process takes the job over after the lease and finishes it.
    let job = wait_until(
        Duration::from_secs(120),
        &format!("job {job_id} to succeed on the surviving process"),
        || async {
            let job = call(
                alive,
                &alice,
                "GET",
                &format!("/api/v1/jobs/{job_id}"),
                None,
            )
            .await;
            if job["status"] == "succeeded" {
                Ok(job)
            } else {
                Err(job.to_string())
            }
        },
    )
    .await;
    let took = killed_at.elapsed();
    eprintln!(
        "kill -9 result: process {} (of A, which received the alert, and B) claimed job \
         {job_id} and died at crash point job.revision_filed (abort: no cleanup); process {} \
         finished it {:.1} s later (lease {LEASE_SECS} s), attempts {}",
        ["A", "B"][dead],
        ["A", "B"][1 - dead],
        took.as_secs_f64(),
        job["attempts"]
    );
    assert_eq!(
        job["attempts"], 2,
        "claimed by the dead process, then taken over: {job:#}"
    );
    assert_eq!(job["steps"]["revision_filed"], 2, "{job:#}");
    assert!(job["lease"].is_null());
    assert!(
        took >= Duration::from_secs(5),
        "not before the lease ran out: {took:?}"
    );

    // Done once: one new revision, one new PR, one new apply.
    let view = alive.wait_for(&alice, &id, "applied").await;
    let request = &view["request"];
    assert_eq!(request["revision"], 2, "{request:#}");
    assert_eq!(request["config"]["dlq_max_receive_count"], 11);
    assert_eq!(
        request["runs"]["apply"]["attempts"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "the first apply and the job's: {request:#}"
    );
    let prs = server::store::list_all(store.as_ref(), "prs/sandbox/")
        .await
        .unwrap();
    assert_eq!(prs.len(), 2, "one PR per revision: {prs:?}");
    assert_eq!(request["approval"]["by"], "policy:raise-receives");
    let log = call(alive, &alice, "GET", "/api/v1/jobs", None).await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log:#}");
}
