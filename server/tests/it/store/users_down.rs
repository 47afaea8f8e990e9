//! A token whose owner cannot be read because the store fails is not a bad
//! token: the check says the store is unavailable (503 at the API; an open
//! event stream is kept), while a missing owner is still an invalid token.

use super::WatchGets;
use server::auth::{TokenError, Tokens, Users};
use server::store::fs::FsStore;
use server::store::{ObjectStore, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[tokio::test]
async fn an_unreadable_owner_is_unavailable_and_a_missing_one_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let inner = Arc::new(FsStore::open(dir.path()).unwrap());
    // Reads of `users/` fail while `down` is set.
    let down = Arc::new(AtomicBool::new(false));
    let failing = down.clone();
    let store = Arc::new(WatchGets::failing(
        inner.clone(),
        Box::new(move |key| {
            (failing.load(Ordering::SeqCst) && key.starts_with("users/"))
                .then(|| StoreError::Unavailable(format!("{key}: timed out")))
        }),
    ));
    Users::new(store.clone())
        .add("ana", app::domain::policy::Role::Requester, None)
        .await
        .unwrap();
    let tokens = Tokens::new(store.clone());
    let (_, token) = tokens.create("ana", "test").await.unwrap();
    assert_eq!(tokens.authenticate(&token).await.unwrap().login, "ana");

    down.store(true, Ordering::SeqCst);
    assert!(
        matches!(tokens.authenticate(&token).await, Err(TokenError::Store(_))),
        "a store that fails is not a bad token"
    );

    down.store(false, Ordering::SeqCst);
    inner.delete("users/ana.json").await.unwrap();
    assert!(matches!(
        tokens.authenticate(&token).await,
        Err(TokenError::Invalid)
    ));
}
