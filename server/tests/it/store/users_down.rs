//! A token whose owner cannot be read because the store fails is not a bad
//! token: the check says the store is unavailable (503 at the API; an open
//! event stream is kept), while a missing owner is still an invalid token.

use async_trait::async_trait;
use bytes::Bytes;
use server::auth::{TokenError, Tokens, Users};
use server::store::fs::FsStore;
use server::store::{Object, ObjectStore, Page, Precondition, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A store whose reads of `users/` fail while `down` is set.
struct UsersDown {
    inner: Arc<FsStore>,
    down: AtomicBool,
}

#[async_trait]
impl ObjectStore for UsersDown {
    async fn get(&self, key: &str) -> Result<Object, StoreError> {
        if self.down.load(Ordering::SeqCst) && key.starts_with("users/") {
            return Err(StoreError::Unavailable(format!("{key}: timed out")));
        }
        self.inner.get(key).await
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
        self.inner.list(prefix, token, limit).await
    }
    async fn copy(&self, from: &str, to: &str) -> Result<String, StoreError> {
        self.inner.copy(from, to).await
    }
    fn describe(&self) -> String {
        "users-down".into()
    }
}

#[tokio::test]
async fn an_unreadable_owner_is_unavailable_and_a_missing_one_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(UsersDown {
        inner: Arc::new(FsStore::open(dir.path()).unwrap()),
        down: AtomicBool::new(false),
    });
    Users::new(store.clone())
        .add("ana", app::domain::policy::Role::Requester, None)
        .await
        .unwrap();
    let tokens = Tokens::new(store.clone());
    let (_, token) = tokens.create("ana", "test").await.unwrap();
    assert_eq!(tokens.authenticate(&token).await.unwrap().login, "ana");

    store.down.store(true, Ordering::SeqCst);
    assert!(
        matches!(tokens.authenticate(&token).await, Err(TokenError::Store(_))),
        "a store that fails is not a bad token"
    );

    store.down.store(false, Ordering::SeqCst);
    store.inner.delete("users/ana.json").await.unwrap();
    assert!(matches!(
        tokens.authenticate(&token).await,
        Err(TokenError::Invalid)
    ));
}
