//! Bench: the request index against the naive dashboard load.
//!
//! Needs an S3-compatible server: `cargo xtask bench` starts moto and runs
//! this with `TFPILOT_BENCH_S3_ENDPOINT` set. Prints (a) the index answering
//! "first 50 of environment=prod, status=plan_ready", (b) the naive approach
//! (ListObjectsV2 + GET of every document + filter) against the same bucket,
//! their medians and ratio; cold start with 10k documents with and without a
//! snapshot; query p50/p99 and RSS with 100k entries in memory.

mod common;
use common::percentile;

use app::domain::request::{Attempt, Conclusion, Request, RunHistory, RunStatus};
use app::domain::status::{Status, derive_status};
use futures::StreamExt;
use server::service::index::{Index, Query};
use server::store::s3::{S3Settings, S3Store, client};
use server::store::{ObjectStore, Precondition, list_all};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SEEDED: u64 = 10_000;
const IN_MEMORY: u64 = 100_000;

fn request(i: u64) -> Request {
    let env = if i.is_multiple_of(2) { "prod" } else { "dev" };
    let module = [
        "s3-bucket",
        "sqs-queue",
        "ecs-service",
        "sns-topic",
        "cloudwatch-log-group",
    ][(i % 5) as usize];
    let project = ["sandbox", "payments", "search"][(i % 3) as usize];
    let mut doc = common::request(i, project, env, module);
    doc.config
        .insert("tags".into(), serde_json::json!({"team": "bench"}));
    if !i.is_multiple_of(7) {
        doc.pr = Some(common::pull_request(i, &doc, false));
        let status = if i.is_multiple_of(3) {
            RunStatus::Running
        } else {
            RunStatus::Completed
        };
        doc.runs.plan = RunHistory {
            current_attempt: 1,
            attempts: vec![Attempt {
                attempt: 1,
                run_id: format!("run-{i}"),
                url: None,
                head_sha: format!("{i:040x}"),
                status,
                conclusion: (status == RunStatus::Completed).then_some(Conclusion::Success),
                dispatched_at: "2026-01-01T00:00:00Z".into(),
                completed_at: None,
                summary: None,
                ..Default::default()
            }],
        };
    }
    doc
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_owned)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn prod_plan_ready() -> Query {
    Query {
        environment: Some("prod".into()),
        status: Some("plan_ready".into()),
        limit: 50,
        ..Default::default()
    }
}

/// The naive dashboard: LIST, GET every document (16 at a time), filter.
async fn naive(store: &Arc<dyn ObjectStore>) -> usize {
    let keys = list_all(store.as_ref(), "requests/").await.unwrap();
    let mut docs: Vec<Request> = futures::stream::iter(keys)
        .map(|e| {
            let store = store.clone();
            async move {
                serde_json::from_slice::<Request>(&store.get(&e.key).await.unwrap().bytes).unwrap()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    docs.retain(|d| d.environment.as_str() == "prod" && derive_status(d) == Status::PlanReady);
    docs.sort_by_key(|d| std::cmp::Reverse(d.id));
    docs.truncate(50);
    docs.len()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let endpoint = std::env::var("TFPILOT_BENCH_S3_ENDPOINT")
        .expect("TFPILOT_BENCH_S3_ENDPOINT is not set: run `cargo xtask bench`, which starts moto");
    let registry_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../modules-registry.toml");
    let registry = Arc::new(server::registry::load(std::path::Path::new(registry_path)).unwrap());
    let settings = S3Settings {
        endpoint: Some(endpoint),
        path_style: true,
        region: Some("us-east-1".into()),
        credentials: Some(("bench".into(), "bench".into())),
        ..Default::default()
    };
    let s3 = client(&settings).await;
    let bucket = format!("bench-{}", std::process::id());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(S3Store::new(s3, &bucket, true));

    // 100k entries in memory, measured first so the process holds nothing else.
    let rss_before = rss_kib();
    let big = Index::new(store.clone(), registry.clone());
    for i in 0..IN_MEMORY {
        let doc = request(i);
        big.upsert(&doc, "\"etag\"");
    }
    let rss_after = rss_kib();
    let queries = [
        prod_plan_ready(),
        Query {
            environment: Some("dev".into()),
            limit: 50,
            ..Default::default()
        },
        Query {
            module: Some("sqs-queue".into()),
            project: Some("payments".into()),
            limit: 50,
            ..Default::default()
        },
        Query {
            text: Some("resource-99".into()),
            limit: 50,
            ..Default::default()
        },
        Query {
            status: Some("applied".into()),
            limit: 50,
            ..Default::default()
        },
    ];
    let mut lat: Vec<Duration> = (0..10_000)
        .map(|n| {
            let q = &queries[n % queries.len()];
            let t = Instant::now();
            std::hint::black_box(big.query(q));
            t.elapsed()
        })
        .collect();
    let (p50, p99) = (percentile(&mut lat, 0.5), percentile(&mut lat, 0.99));
    drop(big);

    println!("seeding {SEEDED} requests into {bucket} …");
    let started = Instant::now();
    futures::stream::iter(0..SEEDED)
        .map(|i| {
            let store = store.clone();
            async move {
                let doc = request(i);
                let key = format!("requests/{}.json", doc.id);
                store
                    .put(
                        &key,
                        serde_json::to_vec(&doc).unwrap().into(),
                        Precondition::IfAbsent,
                    )
                    .await
                    .unwrap();
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    println!("seeded in {:.1?}", started.elapsed());

    // Cold start without and with a snapshot.
    let t = Instant::now();
    let index = Index::new(store.clone(), registry.clone());
    let stats = index.load().await.unwrap();
    let cold_no_snapshot = t.elapsed();
    assert_eq!(stats.fetched as u64, SEEDED);
    index.save_snapshot().await.unwrap();
    let t = Instant::now();
    let warm = Index::new(store.clone(), registry.clone());
    let stats = warm.load().await.unwrap();
    let cold_with_snapshot = t.elapsed();
    assert_eq!(stats.fetched, 0);

    // (a) the index.
    let expected = index.query(&prod_plan_ready()).items.len();
    let mut indexed: Vec<Duration> = (0..2000)
        .map(|_| {
            let t = Instant::now();
            let page = warm.query(&prod_plan_ready());
            assert_eq!(page.items.len(), expected);
            t.elapsed()
        })
        .collect();
    // (b) the naive approach.
    let mut naive_runs = Vec::new();
    for run in 1..=3 {
        let t = Instant::now();
        assert_eq!(naive(&store).await, expected);
        naive_runs.push(t.elapsed());
        println!("naive run {run}: {:.2?}", naive_runs.last().unwrap());
    }
    let index_p50 = percentile(&mut indexed, 0.5);
    let naive_p50 = percentile(&mut naive_runs, 0.5);

    println!();
    println!("== request index bench ({SEEDED} documents in moto) ==");
    println!("cold start, no snapshot:   {cold_no_snapshot:.2?}");
    println!("cold start, with snapshot: {cold_with_snapshot:.2?}");
    println!("index  'first 50 prod plan_ready' median: {index_p50:.2?}");
    println!("naive  'first 50 prod plan_ready' median: {naive_p50:.2?}");
    println!(
        "ratio naive/index: {:.0}x",
        naive_p50.as_secs_f64() / index_p50.as_secs_f64()
    );
    println!("== {IN_MEMORY} entries in memory ==");
    println!("query p50: {p50:.2?}  p99: {p99:.2?} (mix of 5 queries, 10,000 runs)");
    println!(
        "RSS with the 100k index loaded: {:.1} MB for the whole process, {:.1} MB of it the index",
        rss_after as f64 / 1024.0,
        rss_after.saturating_sub(rss_before) as f64 / 1024.0
    );
}
