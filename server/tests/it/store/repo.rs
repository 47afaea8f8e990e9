//! `RequestRepo`: compare-and-swap updates lose nothing, on disk and on S3,
//! between tasks and between processes.

use super::{fs_store, s3_store};
use app::domain::ids::{EnvName, ModuleType, ProjectKey, RequestId};
use app::domain::request::{Event, Request};
use server::store::ObjectStore;
use server::store::fs::FsStore;
use server::store::repo::{RepoError, RequestRepo};
use std::collections::BTreeSet;
use std::sync::Arc;

pub fn sample_request(id: RequestId, env: &str, module: &str, by: &str) -> Request {
    Request {
        id,
        version: 1,
        project: ProjectKey::parse("sandbox").unwrap(),
        environment: EnvName::parse(env).unwrap(),
        module: ModuleType::parse(module).unwrap(),
        kind: Default::default(),
        revision: 1,
        config: serde_json::json!({"name": "logs-archive"})
            .as_object()
            .unwrap()
            .clone(),
        created_by: by.into(),
        authors: Vec::new(),
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
        pr: None,
        runs: Default::default(),
        approval: None,
        cleanup_pr: None,
        confirmation: None,
        events: vec![],
        origin: None,
        drift: None,
    }
}

fn now() -> String {
    "2026-01-02T00:00:00Z".into()
}

async fn lifecycle(store: Arc<dyn ObjectStore>) {
    let repo = RequestRepo::new(store);
    let id = RequestId::generate(1_700_000_000_000, 1);
    let created = repo
        .create(&sample_request(id, "dev", "s3-bucket", "alice"))
        .await
        .unwrap();
    assert_eq!(created.doc.version, 1);
    assert!(matches!(
        repo.create(&sample_request(id, "prod", "s3-bucket", "bob"))
            .await,
        Err(RepoError::Exists(_))
    ));

    let updated = repo
        .update(&id, now, |doc| {
            let mut next = doc.clone();
            next.revision += 1;
            Ok::<_, ()>(next)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!((updated.doc.version, updated.doc.revision), (2, 2));
    assert_eq!(updated.doc.updated_at, now());
    let refused = repo.update(&id, now, |_| Err("no")).await.unwrap();
    assert_eq!(refused.unwrap_err(), "no");
    assert_eq!(
        repo.get(&id).await.unwrap().doc.version,
        2,
        "a refusal writes nothing"
    );

    repo.archive(&id).await.unwrap();
    repo.archive(&id).await.expect("archiving twice is fine");
    assert!(matches!(repo.get(&id).await, Err(RepoError::NotFound(_))));
    assert_eq!(repo.get_archived(&id).await.unwrap().doc.version, 2);
    let missing = RequestId::generate(5, 5);
    assert!(matches!(
        repo.update(&missing, now, |d| Ok::<_, ()>(d.clone())).await,
        Err(RepoError::NotFound(_))
    ));
    assert!(matches!(
        repo.archive(&missing).await,
        Err(RepoError::NotFound(_))
    ));
}

#[tokio::test]
async fn lifecycle_on_disk() {
    lifecycle(fs_store("lifecycle").await).await;
}

#[tokio::test]
async fn lifecycle_on_s3() {
    lifecycle(s3_store("lifecycle").await).await;
}

#[tokio::test]
async fn corrupt_documents_are_reported_not_panicked_on() {
    let store = fs_store("corrupt").await;
    let id = RequestId::generate(9, 9);
    store
        .put(
            &format!("requests/{id}.json"),
            "{not json".into(),
            server::store::Precondition::None,
        )
        .await
        .unwrap();
    let repo = RequestRepo::new(store);
    let err = repo.get(&id).await.unwrap_err();
    assert!(
        matches!(&err, RepoError::Corrupt { key, .. } if key.contains(id.as_str())),
        "{err}"
    );
}

/// `writers` tasks each append `updates` events to one request, spread over
/// `replicas` repository instances (as separate server replicas would be).
async fn hammer(repos: &[RequestRepo], id: &RequestId, tag: &str, writers: usize, updates: usize) {
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let (repo, id, tag) = (repos[w % repos.len()].clone(), *id, tag.to_owned());
            tokio::spawn(async move {
                for u in 0..updates {
                    let detail = format!("{tag}-w{w}-u{u}");
                    repo.update(&id, now, |doc| {
                        let mut next = doc.clone();
                        next.events.push(Event {
                            at: now(),
                            actor: "writer".into(),
                            kind: "test".into(),
                            detail: detail.clone(),
                        });
                        Ok::<_, ()>(next)
                    })
                    .await
                    .unwrap_or_else(|e| panic!("{detail}: {e}"))
                    .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

fn expected(tags: &[&str], writers: usize, updates: usize) -> BTreeSet<String> {
    tags.iter()
        .flat_map(|t| {
            (0..writers).flat_map(move |w| (0..updates).map(move |u| format!("{t}-w{w}-u{u}")))
        })
        .collect()
}

async fn no_lost_update(store: Arc<dyn ObjectStore>) {
    let replicas: Vec<_> = (0..4).map(|_| RequestRepo::new(store.clone())).collect();
    let repo = &replicas[0];
    let id = RequestId::generate(1_700_000_000_000, 2);
    repo.create(&sample_request(id, "dev", "s3-bucket", "alice"))
        .await
        .unwrap();
    hammer(&replicas, &id, "t", 64, 50).await;
    let doc = repo.get(&id).await.unwrap().doc;
    assert_eq!(doc.version, 1 + 3_200);
    let details: BTreeSet<String> = doc.events.iter().map(|e| e.detail.clone()).collect();
    assert_eq!(doc.events.len(), 3_200, "no event twice");
    assert_eq!(details, expected(&["t"], 64, 50), "every event present");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_writers_lose_nothing_on_disk() {
    no_lost_update(fs_store("hammer").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_writers_lose_nothing_on_s3() {
    no_lost_update(s3_store("hammer").await).await;
}

const CHILD_DIR: &str = "TFPILOT_TEST_CHILD_DIR";
const CHILD_TAG: &str = "TFPILOT_TEST_CHILD_TAG";
const CHILD_ID: &str = "TFPILOT_TEST_CHILD_ID";

/// A writer process: with the variables set by the parent test it hammers
/// the parent's data dir; run on its own it hammers a private one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writer_process() {
    let (dir, tag, id) = match (
        std::env::var(CHILD_DIR),
        std::env::var(CHILD_TAG),
        std::env::var(CHILD_ID),
    ) {
        (Ok(dir), Ok(tag), Ok(id)) => (dir.into(), tag, RequestId::parse(&id).unwrap()),
        _ => {
            let dir = tempfile::tempdir().unwrap().keep();
            let id = RequestId::generate(1, 1);
            let repo = RequestRepo::new(Arc::new(FsStore::open(&dir).unwrap()));
            repo.create(&sample_request(id, "dev", "s3-bucket", "a"))
                .await
                .unwrap();
            (dir, "solo".to_owned(), id)
        }
    };
    let repo = RequestRepo::new(Arc::new(FsStore::open(dir).unwrap()));
    let before = repo.get(&id).await.unwrap().doc.version;
    hammer(std::slice::from_ref(&repo), &id, &tag, 16, 25).await;
    assert!(repo.get(&id).await.unwrap().doc.version >= before + 400);
}

#[tokio::test]
async fn two_processes_share_one_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let id = RequestId::generate(1_700_000_000_000, 3);
    let repo = RequestRepo::new(Arc::new(FsStore::open(dir.path()).unwrap()));
    repo.create(&sample_request(id, "dev", "s3-bucket", "alice"))
        .await
        .unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["p1", "p2"]
        .iter()
        .map(|tag| {
            std::process::Command::new(&exe)
                .args(["--exact", "store::repo::writer_process", "--test-threads=1"])
                .env(CHILD_DIR, dir.path())
                .env(CHILD_TAG, tag)
                .env(CHILD_ID, id.as_str())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a writer process failed");
    }
    let doc = repo.get(&id).await.unwrap().doc;
    assert_eq!(doc.version, 1 + 800);
    let details: BTreeSet<String> = doc.events.iter().map(|e| e.detail.clone()).collect();
    assert_eq!(doc.events.len(), 800);
    assert_eq!(details, expected(&["p1", "p2"], 16, 25));
}
