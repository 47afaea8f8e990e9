//! A replica dies while it drives a request — right after it opened the
//! request's PR, before it recorded it (crash point `request.pr`, an
//! abort: no cleanup, its hold on the request left to expire). The other
//! two take the request over once the hold ran out and finish it: one PR,
//! one plan run, one apply run, and each notice mailed once.

use super::user;
use crate::support::binary::Binary;
use crate::support::smtp::SmtpServer;
use crate::support::wait_until;
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a replica's hold on a request lasts unrenewed.
const LEASE_SECS: &str = "3";

/// The files under `dir` (a store prefix on disk) whose name starts with
/// `start`.
fn files(dir: &Path, start: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(start))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_whose_replica_dies_is_finished_once_by_the_others() {
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let url = smtp.url();
    let envs = [
        ("TFPILOT_LEASE_SECS", LEASE_SECS),
        ("TFPILOT_SMTP_URL", url.as_str()),
        ("TFPILOT_SMTP_FROM", "tfpilot@example.com"),
    ];
    let alice = user(data, &envs, "alice", "requester");
    let pat = user(data, &envs, "pat", "approver");
    let mut dying_envs = envs.to_vec();
    dying_envs.push(("TFPILOT_CRASH_AT", "request.pr"));
    let mut a = Binary::start(data, &dying_envs).await;
    let b = Binary::start(data, &envs).await;
    let c = Binary::start(data, &envs).await;

    // Filed on A, which dies opening its PR (its answer may or may not
    // have left first).
    let _ = a
        .client
        .post(format!("{}/api/v1/requests", a.url))
        .bearer_auth(&alice)
        .json(
            &serde_json::json!({"project": "sandbox", "environment": "dev",
            "module": "sqs-queue", "config": {"name": "orphan", "dlq_max_receive_count": 3}}),
        )
        .send()
        .await;
    let status = tokio::task::spawn_blocking(move || {
        let status = a.child.wait().unwrap();
        let mut stderr = String::new();
        use std::io::Read as _;
        let _ = a.child.stderr.take().unwrap().read_to_string(&mut stderr);
        (status, stderr)
    });
    let (status, stderr) = tokio::time::timeout(Duration::from_secs(60), status)
        .await
        .expect("A reaches request.pr")
        .unwrap();
    let died = Instant::now();
    assert_eq!(status.signal(), Some(6), "{stderr}");
    assert!(
        stderr.contains("crash point request.pr reached"),
        "{stderr}"
    );

    let id = wait_until(Duration::from_secs(20), "the request on B", || async {
        let list: Value = b
            .client
            .get(format!("{}/api/v1/requests?q=orphan", b.url))
            .bearer_auth(&alice)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        list["items"][0]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| list.to_string())
    })
    .await;
    b.wait_for(&alice, &id, "plan_ready").await;
    let took = died.elapsed();
    eprintln!(
        "replica takeover: A died holding request {id} at request.pr; B or C planned it {:.1} s later (lease {LEASE_SECS} s)",
        took.as_secs_f64()
    );
    assert!(
        took >= Duration::from_secs(2),
        "not before A's hold ran out: {took:?}"
    );
    for action in ["approve", "merge", "apply"] {
        assert_eq!(c.act(&pat, &id, action).await, Some(202), "{action}");
    }
    let view = b.wait_for(&alice, &id, "applied").await;
    let request = &view["request"];

    // One PR, one plan run, one apply run.
    let store = data.join("store/requests");
    let prs: Vec<Value> = files(&store.join("prs/sandbox"), "")
        .iter()
        .map(|f| {
            serde_json::from_slice(&std::fs::read(store.join("prs/sandbox").join(f)).unwrap())
                .unwrap()
        })
        .collect();
    let mine = prs
        .iter()
        .filter(|p| p["head"] == format!("request/{id}"))
        .count();
    assert_eq!(mine, 1, "one PR for the request: {prs:#?}");
    assert_eq!(request["pr"]["number"], prs[0]["number"]);
    assert_eq!(files(&store.join("runs"), &format!("{id}-plan-")).len(), 1);
    assert_eq!(files(&store.join("runs"), &format!("{id}-apply-")).len(), 1);

    // Each notice mailed once, to its requester.
    let mails = wait_until(Duration::from_secs(30), "the applied mail", || async {
        let mails = smtp.messages();
        let applied = mails
            .iter()
            .any(|m| m.header("Subject").is_some_and(|s| s.contains("applied")));
        if applied {
            Ok(mails)
        } else {
            Err(format!("{} mails", mails.len()))
        }
    })
    .await;
    let mut per_notice: BTreeMap<String, usize> = BTreeMap::new();
    for m in &mails {
        *per_notice
            .entry(m.header("Message-ID").unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    assert!(per_notice.len() >= 4, "{per_notice:#?}");
    assert!(
        per_notice.values().all(|n| *n == 1),
        "no notice twice: {per_notice:#?}"
    );
}
