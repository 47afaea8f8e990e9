//! Fresh buckets on moto holding the seeded requests, a requester and
//! their token — written straight through the store, as a running server
//! would have left them.

use crate::common;
use app::domain::policy::Role;
use app::domain::request::{Attempt, Conclusion, Request, RunHistory, RunStatus};
use app::domain::status::derive_status;
use futures::StreamExt;
use server::store::ObjectStore;
use server::store::repo::RequestRepo;
use server::store::s3::{S3Settings, S3Store, client};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// The buckets and who may call the server.
pub struct Seeded {
    pub requests_bucket: String,
    pub chat_bucket: String,
    pub state_bucket: String,
    /// The seeded request ids, oldest first.
    pub ids: Vec<String>,
    /// A requester's bearer token.
    pub token: String,
}

/// Settings that reach moto with static test credentials.
fn settings(endpoint: &str) -> S3Settings {
    S3Settings {
        endpoint: Some(endpoint.to_owned()),
        path_style: true,
        region: Some("us-east-1".into()),
        credentials: Some(("test".into(), "test".into())),
        ..Default::default()
    }
}

fn attempt(run: &str, sha: &str, conclusion: Conclusion) -> RunHistory {
    RunHistory {
        current_attempt: 1,
        attempts: vec![Attempt {
            attempt: 1,
            run_id: run.to_owned(),
            url: None,
            head_sha: sha.to_owned(),
            status: RunStatus::Completed,
            conclusion: Some(conclusion),
            dispatched_at: "2026-01-01T00:00:00Z".into(),
            completed_at: Some("2026-01-01T00:05:00Z".into()),
            summary: None,
            ..Default::default()
        }],
    }
}

/// Request `i`: settled, so the reconciler leaves it alone — three in four
/// applied, one in four with a failed plan.
fn request(i: u64) -> Request {
    let env = if i.is_multiple_of(2) { "prod" } else { "dev" };
    let module = [
        "s3-bucket",
        "sqs-queue",
        "ecs-service",
        "sns-topic",
        "cloudwatch-log-group",
    ][(i % 5) as usize];
    let mut doc = common::request(i, "sandbox", env, module);
    let failed = i.is_multiple_of(4);
    let pr = common::pull_request(i, &doc, !failed);
    if failed {
        doc.runs.plan = attempt(&format!("plan-{i}"), &pr.head_sha, Conclusion::Failure);
    } else {
        doc.runs.plan = attempt(&format!("plan-{i}"), &pr.head_sha, Conclusion::Success);
        let merged = pr.merged_sha.clone().unwrap_or_default();
        doc.runs.apply = attempt(&format!("apply-{i}"), &merged, Conclusion::Success);
    }
    doc.pr = Some(pr);
    doc
}

/// Makes the three buckets and seeds `count` requests (32 writes at a
/// time), a requester `load` and a token of theirs.
pub async fn seed(endpoint: &str, count: u64) -> Seeded {
    let s3 = client(&settings(endpoint)).await;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let bucket = |what: &str| format!("load-{stamp}-{}-{what}", std::process::id());
    let (requests_bucket, chat_bucket, state_bucket) =
        (bucket("requests"), bucket("chat"), bucket("state"));
    for name in [&requests_bucket, &chat_bucket, &state_bucket] {
        s3.create_bucket()
            .bucket(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create bucket {name} on moto: {e:?}"));
    }
    let store: Arc<dyn ObjectStore> = Arc::new(S3Store::new(s3, &requests_bucket, true));
    let repo = RequestRepo::new(store.clone());
    let started = Instant::now();
    let docs: Vec<Request> = (0..count).map(request).collect();
    let mut statuses = BTreeMap::<&str, u64>::new();
    for doc in &docs {
        *statuses.entry(derive_status(doc).as_str()).or_default() += 1;
    }
    futures::stream::iter(&docs)
        .map(|doc| {
            let repo = &repo;
            async move {
                repo.create(doc)
                    .await
                    .unwrap_or_else(|e| panic!("seed {}: {e}", doc.id))
            }
        })
        .buffer_unordered(32)
        .for_each(|_| async {})
        .await;
    println!(
        "seeded {count} requests into s3://{requests_bucket} in {:.1?} ({statuses:?})",
        started.elapsed()
    );
    server::auth::Users::new(store.clone())
        .add("load", Role::Requester, None)
        .await
        .expect("add the requester");
    let (_, token) = server::auth::Tokens::new(store)
        .create("load", "load")
        .await
        .expect("create the token");
    Seeded {
        requests_bucket,
        chat_bucket,
        state_bucket,
        ids: docs.iter().map(|d| d.id.to_string()).collect(),
        token,
    }
}

/// How many change log records (`changes/`) in `bucket` name each of
/// `ids`.
pub async fn in_change_log(endpoint: &str, bucket: &str, ids: &[String]) -> Vec<usize> {
    let s3 = client(&settings(endpoint)).await;
    let store = S3Store::new(s3, bucket, true);
    let mut counts = vec![0; ids.len()];
    let Ok(records) = server::store::list_all(&store, "changes/").await else {
        return counts;
    };
    for record in records {
        if let Ok(obj) = store.get(&record.key).await {
            let text = String::from_utf8_lossy(&obj.bytes);
            for (n, id) in ids.iter().enumerate() {
                counts[n] += usize::from(text.contains(id.as_str()));
            }
        }
    }
    counts
}
