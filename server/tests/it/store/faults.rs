//! A fault-injecting proxy in front of moto: 503s and dropped connections
//! (before and after the request reaches the server). Every repository
//! operation ends in success or `Unavailable`, and every stored document
//! stays readable.

use super::repo::sample_request;
use crate::support::s3;
use app::domain::ids::RequestId;
use app::domain::request::{Event, Request};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request as HttpRequest, Response};
use hyper_util::rt::TokioIo;
use server::store::repo::{RepoError, RequestRepo};
use server::store::s3::S3Store;
use server::store::{ObjectStore, StoreError, list_all};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Default)]
struct FaultCounts {
    requests: AtomicUsize,
    refused: AtomicUsize,
    dropped_before: AtomicUsize,
    dropped_after: AtomicUsize,
}

/// Forwards to `upstream`, failing 10% of requests: 4% answer 503, 3% drop
/// the connection before forwarding, 3% forward and then drop the response.
async fn start_proxy(upstream: String) -> (String, Arc<FaultCounts>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counts = Arc::new(FaultCounts::default());
    let client = reqwest::Client::new();
    let c = counts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (client, upstream, counts) = (client.clone(), upstream.clone(), c.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: HttpRequest<Incoming>| {
                    let (client, upstream, counts) =
                        (client.clone(), upstream.clone(), counts.clone());
                    async move { forward(req, &client, &upstream, &counts).await }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), counts)
}

async fn forward(
    req: HttpRequest<Incoming>,
    client: &reqwest::Client,
    upstream: &str,
    counts: &FaultCounts,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    counts.requests.fetch_add(1, Ordering::Relaxed);
    let roll = fastrand::u32(0..100);
    if roll < 4 {
        counts.refused.fetch_add(1, Ordering::Relaxed);
        let body = "<Error><Code>ServiceUnavailable</Code><Message>injected</Message></Error>";
        return Ok(Response::builder()
            .status(503)
            .body(Full::new(Bytes::from(body)))
            .unwrap());
    }
    if roll < 7 {
        counts.dropped_before.fetch_add(1, Ordering::Relaxed);
        return Err(std::io::Error::other(
            "injected: connection dropped before forwarding",
        ));
    }
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let url = format!(
        "{upstream}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut out = client.request(parts.method, url).body(body);
    for (name, value) in &parts.headers {
        if name != "host" {
            out = out.header(name, value);
        }
    }
    let res = out.send().await.map_err(std::io::Error::other)?;
    if roll < 10 {
        counts.dropped_after.fetch_add(1, Ordering::Relaxed);
        return Err(std::io::Error::other(
            "injected: response dropped after forwarding",
        ));
    }
    let mut builder = Response::builder().status(res.status());
    for (name, value) in res.headers() {
        builder = builder.header(name, value);
    }
    let bytes = res.bytes().await.map_err(std::io::Error::other)?;
    Ok(builder.body(Full::new(bytes)).unwrap())
}

fn ok_or_unavailable<T>(what: &str, r: Result<T, RepoError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(RepoError::Store(StoreError::Unavailable(_))) => None,
        Err(e) => panic!("{what}: expected success or Unavailable, got {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_operation_succeeds_or_is_unavailable_and_nothing_is_corrupted() {
    let direct = s3::moto_client().await;
    let bucket = s3::fresh_bucket(&direct, "faults").await;
    let (proxy, counts) = start_proxy(s3::endpoint()).await;
    let flaky = RequestRepo::new(Arc::new(S3Store::new(
        server::store::s3::client(&s3::settings(&proxy)).await,
        &bucket,
        true,
    )));

    let ids: Vec<RequestId> = (0..12)
        .map(|i| RequestId::generate(1_700_000_000_000 + i, 3))
        .collect();
    let mut created = Vec::new();
    for id in &ids {
        if ok_or_unavailable(
            "create",
            flaky
                .create(&sample_request(*id, "dev", "s3-bucket", "a"))
                .await,
        )
        .is_some()
        {
            created.push(*id);
        }
    }
    assert!(
        created.len() >= 6,
        "most creates succeed through 10% faults: {}",
        created.len()
    );

    let acknowledged = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let (repo, ids, ack) = (flaky.clone(), created.clone(), acknowledged.clone());
            tokio::spawn(async move {
                for u in 0..10 {
                    let id = &ids[(w + u) % ids.len()];
                    let detail = format!("w{w}-u{u}");
                    let result = repo
                        .update(
                            id,
                            || "2026-03-01T00:00:00Z".into(),
                            |doc: &Request| {
                                let mut next = doc.clone();
                                next.events.push(Event {
                                    at: "t".into(),
                                    actor: "w".into(),
                                    kind: "test".into(),
                                    detail: detail.clone(),
                                });
                                Ok::<_, ()>(next)
                            },
                        )
                        .await;
                    if ok_or_unavailable("update", result).is_some() {
                        ack.lock().unwrap().insert(detail);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    for id in created.iter().take(3) {
        ok_or_unavailable("archive", flaky.archive(id).await);
    }

    // Read everything back directly from moto.
    let clean = S3Store::new(direct, &bucket, true);
    let mut events = Vec::new();
    for prefix in ["requests/", "history/"] {
        for entry in list_all(&clean, prefix).await.unwrap() {
            let obj = clean.get(&entry.key).await.unwrap();
            let doc: Request = serde_json::from_slice(&obj.bytes)
                .unwrap_or_else(|e| panic!("{} is unreadable after faults: {e}", entry.key));
            assert_eq!(
                doc.version as usize,
                1 + doc.events.len(),
                "{}: one version per event",
                entry.key
            );
            events.extend(doc.events.into_iter().map(|e| e.detail));
        }
    }
    let unique: BTreeSet<_> = events.iter().cloned().collect();
    assert_eq!(unique.len(), events.len(), "no update was applied twice");
    let acked = acknowledged.lock().unwrap().clone();
    assert!(
        acked.is_subset(&unique),
        "every acknowledged update is stored"
    );
    let total = counts.requests.load(Ordering::Relaxed);
    let faults = counts.refused.load(Ordering::Relaxed)
        + counts.dropped_before.load(Ordering::Relaxed)
        + counts.dropped_after.load(Ordering::Relaxed);
    assert!(
        faults > 0 && total > 100,
        "faults were injected: {faults} of {total}"
    );
}
