//! The contract every `ObjectStore` adapter passes.

use bytes::Bytes;
use server::store::{ObjectStore, Precondition, StoreError, list_all};
use std::collections::BTreeSet;
use std::sync::Arc;

type Store = Arc<dyn ObjectStore>;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

pub async fn get_missing_is_not_found(s: Store) {
    assert!(matches!(
        s.get("requests/nope.json").await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn create_succeeds_once(s: Store) {
    let etag = s
        .put("k.json", b("one"), Precondition::IfAbsent)
        .await
        .unwrap();
    let again = s.put("k.json", b("two"), Precondition::IfAbsent).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let obj = s.get("k.json").await.unwrap();
    assert_eq!(obj.bytes, b("one"));
    assert_eq!(obj.etag, etag);
}

pub async fn compare_and_swap(s: Store) {
    let v1 = s
        .put("doc.json", b("v1"), Precondition::IfAbsent)
        .await
        .unwrap();
    let v2 = s
        .put("doc.json", b("v2"), Precondition::IfMatch(v1.clone()))
        .await
        .unwrap();
    assert_ne!(v1, v2);
    let stale = s.put("doc.json", b("v3"), Precondition::IfMatch(v1)).await;
    assert!(
        matches!(stale, Err(StoreError::Conflict(_))),
        "a stale etag conflicts: {stale:?}"
    );
    let obj = s.get("doc.json").await.unwrap();
    assert_eq!((obj.bytes, obj.etag), (b("v2"), v2.clone()));
    let blind = s
        .put("doc.json", b("v4"), Precondition::None)
        .await
        .unwrap();
    assert_ne!(blind, v2);
}

pub async fn if_match_on_a_missing_key_is_not_found(s: Store) {
    let r = s
        .put(
            "missing.json",
            b("x"),
            Precondition::IfMatch("\"abc\"".into()),
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    assert!(matches!(
        s.get("missing.json").await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn thirty_two_simultaneous_creates_have_one_winner(s: Store) {
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                s.put(
                    "race.json",
                    b(&format!("writer {i}")),
                    Precondition::IfAbsent,
                )
                .await
            })
        })
        .collect();
    let mut winners = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(_) => winners.push(i),
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("writer {i}: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one winner: {winners:?}");
    let stored = s.get("race.json").await.unwrap();
    assert_eq!(stored.bytes, b(&format!("writer {}", winners[0])));
}

pub async fn pagination_over_2500_keys(s: Store) {
    let keys: Vec<String> = (0..2500).map(|i| format!("requests/{i:05}.json")).collect();
    let puts = futures::stream::iter(keys.clone())
        .map(|k| {
            let s = s.clone();
            async move { s.put(&k, b("{}"), Precondition::IfAbsent).await }
        })
        .buffer_unordered(16);
    let results: Vec<_> = futures::StreamExt::collect(puts).await;
    assert!(results.iter().all(Result::is_ok));
    s.put("other/outside.json", b("{}"), Precondition::None)
        .await
        .unwrap();

    let mut pages = 0;
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = s.list("requests/", token, 1000).await.unwrap();
        assert!(page.entries.len() <= 1000);
        pages += 1;
        seen.extend(page.entries.into_iter().map(|e| e.key));
        match page.next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen, keys,
        "every key once, in order, none outside the prefix"
    );
    assert_eq!(list_all(s.as_ref(), "requests/").await.unwrap().len(), 2500);
}

use futures::StreamExt;

pub async fn copy_then_delete_archives(s: Store) {
    s.put("requests/a.json", b("doc"), Precondition::IfAbsent)
        .await
        .unwrap();
    s.copy("requests/a.json", "history/a.json").await.unwrap();
    s.delete("requests/a.json").await.unwrap();
    assert!(matches!(
        s.get("requests/a.json").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.get("history/a.json").await.unwrap().bytes, b("doc"));
    s.delete("requests/a.json")
        .await
        .expect("deleting a missing key succeeds");
    let missing = s.copy("requests/a.json", "history/b.json").await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
}

pub async fn etags_agree_between_put_get_and_list(s: Store) {
    let put = s
        .put("requests/e.json", b("body"), Precondition::None)
        .await
        .unwrap();
    let got = s.get("requests/e.json").await.unwrap().etag;
    let listed: BTreeSet<_> = list_all(s.as_ref(), "requests/")
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.key, e.etag, e.size))
        .collect();
    assert_eq!(put, got);
    assert!(
        listed.contains(&("requests/e.json".to_owned(), put, 4)),
        "{listed:?}"
    );
}

pub async fn bad_keys_are_invalid(s: Store) {
    for key in [
        "",
        "../escape.json",
        "a//b",
        "a/./b",
        ".hidden",
        "spaces are bad",
        "a/.lock",
    ] {
        let r = s.put(key, b("x"), Precondition::None).await;
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{key:?}: {r:?}");
    }
}
