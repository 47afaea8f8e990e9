//! The `ObjectStore` contract, run against every adapter, plus the request
//! repository, the index and the fault tests.

mod callers;
mod cases;
mod faults;
mod fold;
mod index;
mod journal;
mod lease;
pub mod repo;

use crate::support::s3 as moto;
use async_trait::async_trait;
use bytes::Bytes;
use server::store::fs::FsStore;
use server::store::{Object, ObjectStore, Page, Precondition, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why a GET of a key fails instead of reaching the store, if it does.
type GetFault = Box<dyn Fn(&str) -> Option<StoreError> + Send + Sync>;

/// Something done once while a LIST is under way.
pub type Between = Box<dyn FnOnce() -> futures::future::BoxFuture<'static, ()> + Send>;

/// A store that sees every GET first: it counts them and fails those
/// `fault` names; it can also act once between a LIST's reading of the
/// bucket and its answer ([`WatchGets::between_list`]); everything else
/// goes to `inner` as it is.
pub struct WatchGets {
    inner: Arc<dyn ObjectStore>,
    gets: AtomicUsize,
    fault: GetFault,
    between: std::sync::Mutex<Option<Between>>,
}

impl WatchGets {
    /// Counts the GETs of `inner`, failing none.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self::failing(inner, Box::new(|_| None))
    }

    /// Counts the GETs of `inner`, failing those `fault` names.
    pub fn failing(inner: Arc<dyn ObjectStore>, fault: GetFault) -> Self {
        Self {
            inner,
            gets: AtomicUsize::new(0),
            fault,
            between: Default::default(),
        }
    }

    /// Runs `act` once, after the next LIST has read the bucket and
    /// before it answers (a write racing the LIST).
    pub fn between_list(&self, act: Between) {
        *self.between.lock().unwrap() = Some(act);
    }

    /// GETs so far.
    pub fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl ObjectStore for WatchGets {
    async fn get(&self, key: &str) -> Result<Object, StoreError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        match (self.fault)(key) {
            Some(e) => Err(e),
            None => self.inner.get(key).await,
        }
    }
    async fn put(&self, key: &str, bytes: Bytes, cond: Precondition) -> Result<String, StoreError> {
        self.inner.put(key, bytes, cond).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn list(
        &self,
        prefix: &str,
        token: Option<String>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let page = self.inner.list(prefix, token, limit).await;
        let act = self.between.lock().unwrap().take();
        if let Some(act) = act {
            act().await;
        }
        page
    }
    async fn copy(&self, from: &str, to: &str) -> Result<String, StoreError> {
        self.inner.copy(from, to).await
    }
    fn describe(&self) -> String {
        format!("watched {}", self.inner.describe())
    }
}

/// A fresh bucket on disk (the directory lives for the test process).
pub async fn fs_store(_label: &str) -> Arc<dyn ObjectStore> {
    let dir = tempfile::tempdir().expect("temp dir").keep();
    Arc::new(FsStore::open(dir).expect("open"))
}

/// A fresh bucket on moto.
pub async fn s3_store(label: &str) -> Arc<dyn ObjectStore> {
    moto::fresh_store(label, true).await
}

/// Instantiates every contract case for one adapter.
macro_rules! contract {
    ($adapter:ident, $make:path) => {
        mod $adapter {
            contract!(@cases $make;
                get_missing_is_not_found,
                create_succeeds_once,
                compare_and_swap,
                if_match_on_a_missing_key_is_not_found,
                thirty_two_simultaneous_creates_have_one_winner,
                pagination_over_2500_keys,
                copy_then_delete_archives,
                etags_agree_between_put_get_and_list,
                bad_keys_are_invalid
            );
        }
    };
    (@cases $make:path; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                super::cases::$case($make(stringify!($case)).await).await;
            }
        )*
    };
}

contract!(fs, super::fs_store);
contract!(s3, super::s3_store);

#[tokio::test]
async fn s3_writes_are_encrypted_at_rest() {
    let store = moto::fresh_store("sse", true).await;
    store
        .put("a/b.json", "{}".into(), server::store::Precondition::None)
        .await
        .unwrap();
    assert_eq!(
        store.encryption_of("a/b.json").await.unwrap().as_deref(),
        Some("AES256")
    );
    store.copy("a/b.json", "c/d.json").await.unwrap();
    assert_eq!(
        store.encryption_of("c/d.json").await.unwrap().as_deref(),
        Some("AES256")
    );
    let plain = moto::fresh_store("plain", false).await;
    plain
        .put("x.json", "{}".into(), server::store::Precondition::None)
        .await
        .unwrap();
    assert_eq!(plain.encryption_of("x.json").await.unwrap(), None);
}
