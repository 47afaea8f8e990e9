//! Leases in the store: one holder at a time across processes sharing it;
//! a crashed holder's lease is taken over when it expires.

use server::clock::SystemClock;
use server::store::fs::FsStore;
use server::store::lease::Lease;
use server::store::{ObjectStore, Precondition, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_holder_at_a_time_and_an_expired_lease_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    // Two handles on one directory: two processes sharing a data dir.
    let stores: Vec<Arc<dyn ObjectStore>> = (0..2)
        .map(|_| Arc::new(FsStore::open(dir.path()).unwrap()) as Arc<dyn ObjectStore>)
        .collect();
    let key = "locks/apply/sandbox/dev.json".to_owned();
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let (store, key) = (stores[i % 2].clone(), key.clone());
            let (inside, most) = (inside.clone(), most.clone());
            tokio::spawn(async move {
                let _lease = Lease::acquire(
                    store,
                    key,
                    format!("holder-{i}"),
                    Duration::from_secs(5),
                    Arc::new(SystemClock),
                )
                .await
                .unwrap();
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(150)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(most.load(Ordering::SeqCst), 1, "never two holders at once");

    // A holder that died leaves a lease that expires; the next one takes it.
    // (The last holder's release is written in the background: written
    // over by compare-and-swap, retried if the release lands in between.)
    let dead = br#"{"holder":"crashed","expires_at":1}"#.to_vec();
    loop {
        let current = stores[0].get(&key).await.unwrap();
        match stores[0]
            .put(
                &key,
                dead.clone().into(),
                Precondition::IfMatch(current.etag),
            )
            .await
        {
            Ok(_) => break,
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => panic!("{e}"),
        }
    }
    let taken = tokio::time::timeout(
        Duration::from_secs(5),
        Lease::acquire(
            stores[1].clone(),
            key.clone(),
            "next".into(),
            Duration::from_secs(5),
            Arc::new(SystemClock),
        ),
    )
    .await
    .expect("an expired lease is taken over")
    .unwrap();
    drop(taken);
    // A live lease is not: the second waiter is still waiting after a while.
    let held = Lease::acquire(
        stores[0].clone(),
        key.clone(),
        "a".into(),
        Duration::from_secs(30),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let waiting = tokio::time::timeout(
        Duration::from_millis(800),
        Lease::acquire(
            stores[1].clone(),
            key.clone(),
            "b".into(),
            Duration::from_secs(30),
            Arc::new(SystemClock),
        ),
    )
    .await;
    assert!(waiting.is_err(), "a held lease is not taken");
    drop(held);
}
