//! The real S3-compatible server (moto) that `cargo xtask test` starts, and
//! fresh buckets on it.

use aws_sdk_s3::Client;
use server::store::s3::{S3Settings, S3Store, client};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::OnceCell;

/// The moto endpoint; the tests fail (never skip) without one.
pub fn endpoint() -> String {
    std::env::var("TFPILOT_TEST_S3_ENDPOINT").expect(
        "TFPILOT_TEST_S3_ENDPOINT is not set: run the tests through `cargo xtask test`, which starts moto",
    )
}

/// A moto that only the replicas' timing test uses (the other tests load
/// [`endpoint`]'s all at once); the test fails (never skips) without one.
pub fn quiet_endpoint() -> String {
    std::env::var("TFPILOT_TEST_S3_QUIET_ENDPOINT").expect(
        "TFPILOT_TEST_S3_QUIET_ENDPOINT is not set: run the tests through `cargo xtask test`, which starts a second moto for the replicas' timing test",
    )
}

/// A client for the moto at `endpoint`, as it is (no reset).
pub async fn client_at(endpoint: &str) -> Client {
    client(&settings(endpoint)).await
}

/// Settings that reach moto with static test credentials.
pub fn settings(endpoint: &str) -> S3Settings {
    S3Settings {
        endpoint: Some(endpoint.to_owned()),
        path_style: true,
        region: Some("us-east-1".into()),
        credentials: Some(("test".into(), "test".into())),
        ..Default::default()
    }
}

/// Resets moto once per test binary, before the first bucket is made.
async fn reset_once() {
    static RESET: OnceCell<()> = OnceCell::const_new();
    RESET
        .get_or_init(|| async {
            let res = reqwest::Client::new()
                .post(format!("{}/moto-api/reset", endpoint()))
                .send()
                .await
                .expect("moto answers");
            assert!(
                res.status().is_success(),
                "moto reset failed: {}",
                res.status()
            );
        })
        .await;
}

/// A client for moto.
pub async fn moto_client() -> Client {
    reset_once().await;
    client(&settings(&endpoint())).await
}

/// Creates a bucket with a unique name and returns the name.
pub async fn fresh_bucket(client: &Client, label: &str) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "t-{}-{}-{}",
        label.replace('_', "-"),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    client
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("create bucket on moto");
    name
}

/// A store over a fresh bucket on moto.
pub async fn fresh_store(label: &str, sse: bool) -> Arc<S3Store> {
    let client = moto_client().await;
    let bucket = fresh_bucket(&client, label).await;
    Arc::new(S3Store::new(client, bucket, sse))
}
