//! Checking a caller's token against the store.
//!
//! - A token whose owner cannot be read because the store fails is not a
//!   bad token: the check says the store is unavailable (503 at the API;
//!   an open event stream is kept), while a missing owner is still an
//!   invalid token.
//! - What a check read is trusted for a few seconds, so a busy client
//!   costs no store reads; a revoke or a change of the owner made in this
//!   process counts at once, one made elsewhere when the trust runs out.

use super::WatchGets;
use server::auth::{TokenError, Tokens, Users};
use server::store::fs::FsStore;
use server::store::{ObjectStore, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

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
    // Trusting nothing: every check reads the store.
    let tokens = Tokens::new(store.clone()).with_trust(Duration::ZERO);
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

#[tokio::test]
async fn a_checked_token_is_trusted_for_a_while_and_a_change_here_counts_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let inner = Arc::new(FsStore::open(dir.path()).unwrap());
    let store = Arc::new(WatchGets::new(inner.clone()));
    let users = Users::new(store.clone());
    users
        .add("bea", app::domain::policy::Role::Requester, None)
        .await
        .unwrap();
    // Long enough for the 100 checks below to stay inside the first half
    // of the trust (past it a value is read again in the background).
    let tokens = Tokens::over(users.clone(), store.clone()).with_trust(Duration::from_secs(4));
    let (record, token) = tokens.create("bea", "test").await.unwrap();

    assert_eq!(tokens.authenticate(&token).await.unwrap().login, "bea");
    let after_first = store.gets();
    for _ in 0..100 {
        tokens.authenticate(&token).await.unwrap();
    }
    assert_eq!(
        store.gets(),
        after_first,
        "100 checks within the trust read nothing"
    );
    assert!(
        tokens
            .authenticate("tfp_000000000000_00000000000000000000000000000000")
            .await
            .is_err(),
        "an unknown token is never trusted"
    );

    // Changed behind this process's back (another replica, the CLI): seen
    // once the trust runs out.
    let key = format!("tokens/{}.json", record.id);
    let mut stored: serde_json::Value =
        serde_json::from_slice(&inner.get(&key).await.unwrap().bytes).unwrap();
    stored["revoked_at"] = "2026-12-05T00:00:00.000Z".into();
    inner
        .put(
            &key,
            serde_json::to_vec(&stored).unwrap().into(),
            server::store::Precondition::None,
        )
        .await
        .unwrap();
    assert!(tokens.authenticate(&token).await.is_ok(), "still trusted");
    tokio::time::sleep(Duration::from_millis(4100)).await;
    assert!(matches!(
        tokens.authenticate(&token).await,
        Err(TokenError::Invalid)
    ));

    // Changed here: at once, for every check in the process.
    let (fresh, token) = tokens.create("bea", "second").await.unwrap();
    tokens.authenticate(&token).await.unwrap();
    users
        .update("bea", |u| {
            u.disabled = true;
            Ok(())
        })
        .await
        .unwrap();
    assert!(
        matches!(tokens.authenticate(&token).await, Err(TokenError::Invalid)),
        "disabled"
    );
    users
        .update("bea", |u| {
            u.disabled = false;
            Ok(())
        })
        .await
        .unwrap();
    tokens.authenticate(&token).await.unwrap();
    tokens.revoke(&fresh.id).await.unwrap();
    assert!(
        matches!(tokens.authenticate(&token).await, Err(TokenError::Invalid)),
        "revoked"
    );
}
