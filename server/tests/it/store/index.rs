//! The index: cold start from a snapshot fetches only what changed, other
//! replicas' writes are picked up, bad documents are skipped, and queries
//! filter and paginate.

use super::repo::sample_request;
use super::{WatchGets, fs_store};
use app::domain::ids::RequestId;
use app::domain::registry::Registry;
use server::service::index::{Index, Query};
use server::store::repo::RequestRepo;
use server::store::{ObjectStore, Precondition};
use std::sync::Arc;

fn registry() -> Arc<Registry> {
    Arc::new(server::registry::load(&crate::support::root().join("modules-registry.toml")).unwrap())
}

fn id(n: u64) -> RequestId {
    RequestId::generate(1_700_000_000_000 + n, n as u32)
}

async fn seeded(n: u64) -> (Arc<dyn ObjectStore>, RequestRepo) {
    let store = fs_store("index").await;
    let repo = RequestRepo::new(store.clone());
    for i in 0..n {
        let env = if i % 3 == 0 { "prod" } else { "dev" };
        let module = if i % 2 == 0 { "s3-bucket" } else { "sqs-queue" };
        repo.create(&sample_request(
            id(i),
            env,
            module,
            &format!("user{}", i % 4),
        ))
        .await
        .unwrap();
    }
    (store, repo)
}

fn touch(doc: &app::domain::request::Request) -> Result<app::domain::request::Request, ()> {
    Ok(doc.clone())
}

#[tokio::test]
async fn cold_start_fetches_only_what_the_snapshot_lacks() {
    let (store, repo) = seeded(50).await;
    let first = Index::new(store.clone(), registry());
    let stats = first.load().await.unwrap();
    assert_eq!(
        (stats.listed, stats.fetched),
        (50, 50),
        "no snapshot: every document"
    );
    assert!(first.save_snapshot().await.unwrap());

    for i in 0..3 {
        repo.update(&id(i), || "2026-02-01T00:00:00Z".into(), touch)
            .await
            .unwrap()
            .unwrap();
    }
    for i in 50..52 {
        repo.create(&sample_request(id(i), "dev", "s3-bucket", "late"))
            .await
            .unwrap();
    }
    repo.archive(&id(10)).await.unwrap();

    let counting = Arc::new(WatchGets::new(store));
    let second = Index::new(counting.clone(), registry());
    let stats = second.load().await.unwrap();
    assert_eq!(stats.listed, 51);
    assert_eq!(stats.fetched, 5, "3 changed + 2 new");
    assert_eq!(stats.dropped, 1, "the archived one");
    assert_eq!(
        counting.gets(),
        1 + 5,
        "the snapshot, then only changed keys"
    );
    assert_eq!(second.len(), 51);
    let again = second.refresh().await.unwrap();
    assert_eq!(again.fetched, 0, "nothing changed since");
}

#[tokio::test]
async fn refresh_sees_other_replicas_and_local_writes_are_immediate() {
    let (store, repo) = seeded(5).await;
    let index = Index::new(store.clone(), registry());
    index.load().await.unwrap();
    let other = RequestRepo::new(store);
    other
        .create(&sample_request(id(100), "prod", "s3-bucket", "remote"))
        .await
        .unwrap();
    assert_eq!(index.len(), 5, "not yet seen");
    let stats = index.refresh().await.unwrap();
    assert_eq!((stats.fetched, index.len()), (1, 6));

    let local = repo
        .create(&sample_request(id(101), "dev", "sqs-queue", "local"))
        .await
        .unwrap();
    index.upsert(&local.doc, &local.etag);
    assert_eq!(index.len(), 7);
    assert_eq!(
        index.refresh().await.unwrap().fetched,
        0,
        "the local write is already indexed at its etag"
    );
}

#[tokio::test]
async fn documents_that_are_not_requests_are_skipped_and_reported() {
    let (store, _repo) = seeded(3).await;
    let bad = id(7);
    store
        .put(
            &format!("requests/{bad}.json"),
            "{not json".into(),
            Precondition::None,
        )
        .await
        .unwrap();
    store
        .put("requests/garbage.json", "[]".into(), Precondition::None)
        .await
        .unwrap();
    let misplaced = sample_request(id(8), "dev", "s3-bucket", "x");
    store
        .put(
            &format!("requests/{}.json", id(9)),
            serde_json::to_vec(&misplaced).unwrap().into(),
            Precondition::None,
        )
        .await
        .unwrap();
    let counting = Arc::new(WatchGets::new(store));
    let index = Index::new(counting.clone(), registry());
    index.load().await.unwrap();
    assert_eq!(index.len(), 3, "the good ones are indexed");
    let problems = index.problems();
    let keys: Vec<_> = problems.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys.len(), 3, "{problems:?}");
    assert!(keys.contains(&format!("requests/{bad}.json").as_str()));
    assert!(keys.contains(&"requests/garbage.json"));
    let gets = counting.gets();
    index.refresh().await.unwrap();
    assert_eq!(counting.gets(), gets, "a bad version is not fetched again");
}

#[tokio::test]
async fn queries_filter_search_and_paginate_newest_first() {
    let (store, _repo) = seeded(30).await;
    let index = Index::new(store, registry());
    index.load().await.unwrap();
    let q = |f: fn(&mut Query)| {
        let mut q = Query {
            limit: 50,
            ..Default::default()
        };
        f(&mut q);
        index.query(&q)
    };
    let all = q(|_| {});
    assert_eq!(all.items.len(), 30);
    assert!(
        all.items.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
    let prod = q(|q| q.environment = Some("prod".into()));
    assert_eq!(prod.items.len(), 10);
    assert!(prod.items.iter().all(|r| &*r.environment == "prod"));
    let prod_s3 = q(|q| {
        q.environment = Some("prod".into());
        q.module = Some("s3-bucket".into());
        q.status = Some("created".into());
    });
    assert_eq!(prod_s3.items.len(), 5, "i % 6 == 0");
    assert_eq!(q(|q| q.status = Some("applied".into())).items.len(), 0);
    assert_eq!(q(|q| q.project = Some("nope".into())).items.len(), 0);
    let user1 = q(|q| q.text = Some("USER1".into()));
    assert!(!user1.items.is_empty() && user1.items.iter().all(|r| &*r.requester == "user1"));
    assert_eq!(all.items[0].title, "SQS queue logs-archive");

    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = index.query(&Query {
            limit: 7,
            cursor,
            environment: Some("dev".into()),
            ..Default::default()
        });
        seen.extend(page.items.iter().map(|r| r.id));
        match page.next_cursor {
            Some(c) => cursor = Some(RequestId::parse(&c).unwrap()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 20, "every dev request exactly once");
    assert_eq!(index.counts().get("created"), Some(&30));
}

#[tokio::test]
async fn a_read_of_an_unchanged_request_is_answered_from_memory() {
    use server::service::index::recent::Recent;
    let (store, repo) = seeded(3).await;
    let counting = Arc::new(WatchGets::new(store.clone()));
    let index = Index::new(store.clone(), registry());
    index.load().await.unwrap();
    assert_eq!(index.recent().len(), 3, "the cold start's reads are kept");
    index.recent().clear();
    let mine = RequestRepo::new(counting.clone());
    let read = |n: u64| {
        let (mine, index) = (&mine, &index);
        async move { index.document(&id(n), mine.get(&id(n))).await.unwrap() }
    };

    let first = read(1).await;
    assert_eq!((counting.gets(), index.recent().len()), (1, 1));
    for _ in 0..10 {
        assert_eq!(read(1).await.etag, first.etag);
    }
    assert_eq!(counting.gets(), 1, "ten more reads, none from the store");

    // Another replica writes; this index learns the new etag (from the
    // change log, or here its refresh, which keeps what it read): the
    // next read gets the new version, still without a read of its own.
    let written = repo
        .update(&id(1), || "2026-03-01T00:00:00Z".into(), touch)
        .await
        .unwrap()
        .unwrap();
    index.refresh().await.unwrap();
    let second = read(1).await;
    assert_eq!(
        (second.etag, second.doc.version),
        (written.etag, written.doc.version)
    );
    assert_eq!(counting.gets(), 1);
    // The index learns only the etag (as from the change log): one read.
    let third = repo
        .update(&id(1), || "2026-03-02T00:00:00Z".into(), touch)
        .await
        .unwrap()
        .unwrap();
    index.upsert(&third.doc, &third.etag);
    index.recent().clear();
    assert_eq!(read(1).await.doc.version, third.doc.version);
    assert_eq!(counting.gets(), 2);
    read(1).await;
    assert_eq!(counting.gets(), 2, "the new version is kept in turn");

    // What the index does not hold is always read from the store.
    index.remove(&id(2));
    index.recent().clear();
    read(2).await;
    read(2).await;
    assert_eq!(counting.gets(), 4);
    assert_eq!(index.recent().len(), 0, "nothing kept for it");

    // A full memory drops the least recently read.
    let small = Recent::with_capacity(1);
    small.put(&first);
    small.put(&repo.get(&id(0)).await.unwrap());
    assert_eq!(small.len(), 1);
    assert!(small.get(&id(1), &first.etag).is_none());
}

#[tokio::test]
async fn a_cold_start_appends_nothing_to_the_change_log() {
    let (store, repo) = seeded(5).await;
    let index = Arc::new(Index::new(store.clone(), registry()));
    let head = index.attach_log().await.unwrap();
    assert_eq!(index.load().await.unwrap().fetched, 5);
    let follow = tokio::spawn(index.clone().follow_log(head));
    let written = repo
        .update(&id(1), || "2026-03-01T00:00:00Z".into(), touch)
        .await
        .unwrap()
        .unwrap();
    index.upsert(&written.doc, &written.etag);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let records = loop {
        let page = store.list("changes/", None, 100).await.unwrap();
        if !page.entries.is_empty() {
            break page.entries;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no change log record in 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    follow.abort();
    assert_eq!(records.len(), 1);
    let record: serde_json::Value =
        serde_json::from_slice(&store.get(&records[0].key).await.unwrap().bytes).unwrap();
    let changes = record["changes"].as_array().unwrap();
    assert_eq!(
        changes.len(),
        1,
        "the write, not the 5 rows the start read: {record}"
    );
    assert_eq!(changes[0]["row"]["id"], id(1).to_string());
}

#[tokio::test]
async fn a_request_written_while_the_refresh_lists_stays_in_the_index() {
    let (store, repo) = seeded(3).await;
    let watched = Arc::new(WatchGets::new(store.clone()));
    let index = Arc::new(Index::new(watched.clone(), registry()));
    index.load().await.unwrap();
    // Filed on this replica after the refresh's LIST read the bucket and
    // before it answered: stored, then indexed, as a POST does.
    let (racing, filing) = (index.clone(), repo.clone());
    watched.between_list(Box::new(move || {
        Box::pin(async move {
            let filed = filing
                .create(&sample_request(id(50), "dev", "sqs-queue", "racer"))
                .await
                .unwrap();
            racing.upsert(&filed.doc, &filed.etag);
        })
    }));
    index.refresh().await.unwrap();
    assert!(
        index.etag_of(&id(50)).is_some(),
        "a request the LIST could not list is not dropped"
    );
    index.refresh().await.unwrap();
    assert_eq!(index.len(), 4);
    let page = index.query(&Query {
        limit: 10,
        ..Default::default()
    });
    assert!(page.items.iter().any(|row| row.id == id(50)));
}
