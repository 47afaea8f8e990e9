//! The outbox surviving a kill -9: the real binary stores notices while Slack fails, is killed, restarts on the same data dir and delivers each notice to Slack once.

use crate::support::binary::Binary;
use crate::support::slack::FakeSlack;
use crate::support::{WAIT, wait_until};
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::store::fs::FsStore;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Where plan-failed notices go.
const CHANNEL: &str = "C0CRASHES";
/// Requests filed before the kill.
const REQUESTS: usize = 4;

/// The outbox's entries on disk: file name and parsed entry.
fn outbox(data: &Path) -> Vec<(String, Value)> {
    let dir = data.join("store/requests/outbox");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Value)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|e| {
            let bytes = std::fs::read(e.path()).ok()?;
            let entry = serde_json::from_slice(&bytes).ok()?;
            Some((e.file_name().to_string_lossy().into_owned(), entry))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The texts of the posts Slack took, with how many times each was posted.
fn delivered(slack: &FakeSlack) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for call in slack.calls_to("chat.postMessage") {
        if call.ok {
            let key = format!(
                "{} {} {}",
                call.channel.unwrap_or_default(),
                call.thread_ts.unwrap_or_default(),
                call.body["text"].as_str().unwrap_or_default()
            );
            *seen.entry(key).or_insert(0) += 1;
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_pending_at_a_kill_9_are_delivered_once_after_the_restart() {
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let store = Arc::new(FsStore::open(data.join("store/requests")).unwrap());
    server::auth::Users::new(store.clone())
        .add("alice", Role::Requester, None)
        .await
        .unwrap();
    let (_, alice) = server::auth::Tokens::new(store.clone())
        .create("alice", "outbox crash test")
        .await
        .unwrap();
    let no_terraform = data.join("no-terraform");
    let mut env: Vec<(String, String)> = slack.env();
    env.push(("TFPILOT_SLACK_CHANNEL".into(), CHANNEL.into()));
    // Plans fail at once: each request's plan-failed notice is for the channel.
    env.push((
        "TFPILOT_TERRAFORM".into(),
        no_terraform.to_string_lossy().into_owned(),
    ));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    let mut first = Binary::start(data, &env).await;
    assert!(first.child.try_wait().unwrap().is_none(), "tfpilot is up");
    // Slack fails every call from now on: notices pile up in the outbox.
    slack.fail_next(usize::MAX, "channel_not_found");
    let mut ids = Vec::new();
    for i in 0..REQUESTS {
        let created: Value = first
            .client
            .post(format!("{}/api/v1/requests", first.url))
            .bearer_auth(&alice)
            .json(
                &json!({"project": "sandbox", "environment": "dev", "module": "sqs-queue",
                "config": {"name": format!("outbox-crash-{i}")}}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(created["request"]["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        // The flow goes on while Slack fails.
        first.wait_for(&alice, id, "failed").await;
    }
    let pending = wait_until(WAIT, "a failed attempt for each notice", || async {
        let entries = outbox(data);
        let tried = entries
            .iter()
            .filter(|(_, e)| e["attempts"].as_u64().unwrap_or(0) >= 1)
            .count();
        if entries.len() == REQUESTS && tried == REQUESTS {
            Ok(entries)
        } else {
            Err(format!("{entries:#?}"))
        }
    })
    .await;
    for (name, entry) in &pending {
        assert!(name.contains("plan.failed"), "{name}");
        assert_eq!(entry["pending"], json!(["slack"]), "{name}: {entry}");
    }
    assert!(delivered(&slack).is_empty(), "nothing reached Slack yet");

    // SIGKILL: no shutdown hook runs.
    first.child.kill().unwrap();
    let status = first.child.wait().unwrap();
    assert!(!status.success(), "killed: {status}");
    drop(first);
    slack.fail_next(0, "");
    let at_kill = outbox(data).len();
    assert_eq!(at_kill, REQUESTS, "the outbox kept every notice");

    let mut second = Binary::start(data, &env).await;
    assert!(
        second.child.try_wait().unwrap().is_none(),
        "tfpilot restarted"
    );
    let posts = wait_until(WAIT, "every notice delivered after the restart", || async {
        let posts = delivered(&slack);
        let left = outbox(data);
        if left.is_empty() && posts.values().sum::<usize>() >= REQUESTS {
            Ok(posts)
        } else {
            Err(format!("outbox: {left:#?}, posted: {posts:#?}"))
        }
    })
    .await;
    // A little longer: a duplicate would show up now.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let after = delivered(&slack);
    assert_eq!(after, posts, "nothing posted after the outbox emptied");
    let duplicates: usize = after.values().map(|n| n - 1).sum();
    for id in &ids {
        let told: usize = after
            .iter()
            .filter(|(text, _)| text.contains(id.as_str()))
            .map(|(_, n)| n)
            .sum();
        assert_eq!(told, 1, "request {id} told once: {after:#?}");
    }
    assert!(after.keys().all(|k| k.starts_with(CHANNEL)), "{after:#?}");
    assert_eq!(duplicates, 0, "{after:#?}");
    assert!(outbox(data).is_empty());
    drop(second);
    eprintln!(
        "outbox crash test: {at_kill} notices pending at kill, {} delivered after restart, {duplicates} duplicates",
        after.len()
    );
}
