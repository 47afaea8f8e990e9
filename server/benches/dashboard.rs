//! Bench: server time of the requests dashboard (`GET /requests`, full SSR
//! response on loopback) with 10,000 requests in the store, for the first
//! page and for a filtered page. Run with `cargo bench -p server --bench
//! dashboard`; `cargo xtask test` runs it and prints the summary.

mod common;
use common::percentile;

use app::domain::policy::Role;
use app::domain::request::Request;
use futures::StreamExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const REQUESTS: u64 = 10_000;
const SAMPLES: usize = 200;

fn request(i: u64) -> Request {
    let env = if i.is_multiple_of(2) { "prod" } else { "dev" };
    let module = ["s3-bucket", "sqs-queue", "sns-topic"][(i % 3) as usize];
    let mut doc = common::request(i, "sandbox", env, module);
    // Merged, not applied: nothing for the reconciler to drive.
    doc.pr = Some(common::pull_request(i, &doc, true));
    doc
}

async fn measure(http: &reqwest::Client, url: &str, cookie: &str) -> (Duration, Duration, usize) {
    let mut times = Vec::with_capacity(SAMPLES);
    let mut size = 0;
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let res = http.get(url).header("cookie", cookie).send().await.unwrap();
        assert_eq!(res.status(), 200, "{url}");
        size = res.bytes().await.unwrap().len();
        times.push(started.elapsed());
    }
    (
        percentile(&mut times, 0.5),
        percentile(&mut times, 0.99),
        size,
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let data = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(
        server::store::fs::FsStore::open(data.path().join("store/requests")).unwrap(),
    );
    let repo = server::store::repo::RequestRepo::new(store.clone());
    let seeding = Instant::now();
    futures::stream::iter(0..REQUESTS)
        .map(|i| {
            let repo = &repo;
            async move { repo.create(&request(i)).await.unwrap() }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    eprintln!("seeded {REQUESTS} requests in {:.1?}", seeding.elapsed());
    let password = "bench passphrase 2026";
    server::auth::Users::new(store)
        .add("viewer", Role::Viewer, Some(password))
        .await
        .unwrap();

    let base = common::serve(
        data.path(),
        &[("TFPILOT_RECONCILE_SECS", PathBuf::from("3600"))],
    )
    .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = common::session_cookie(&http, &base, "viewer", password).await;

    // Warm up, then measure.
    measure(&http, &format!("{base}/requests"), &cookie).await;
    let (p50, p99, bytes) = measure(&http, &format!("{base}/requests"), &cookie).await;
    let filtered = format!("{base}/requests?environment=prod&module=s3-bucket&q=user7");
    let (f50, f99, _) = measure(&http, &filtered, &cookie).await;
    let summary = format!(
        "dashboard SSR, {REQUESTS} requests in the store: first page p50 {:.2} ms, p99 {:.2} ms ({} KB of HTML); filtered page p50 {:.2} ms, p99 {:.2} ms (goal: p50 ≤ 20 ms)",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        bytes / 1024,
        f50.as_secs_f64() * 1e3,
        f99.as_secs_f64() * 1e3,
    );
    println!("{summary}");
    if let Some(path) = std::env::var_os("TFPILOT_BENCH_REPORT") {
        std::fs::write(path, format!("{summary}\n")).unwrap();
    }
}
