//! The stored counters over a real disk store, at chosen times.

use super::*;
use std::net::Ipv4Addr;

fn limits() -> (tempfile::TempDir, Arc<dyn ObjectStore>, LoginLimits) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> =
        Arc::new(crate::store::fs::FsStore::open(dir.path()).unwrap());
    (
        dir,
        store.clone(),
        LoginLimits::new(
            store,
            Arc::new(crate::clock::SystemClock),
            Arc::new(crate::ids::OsIds),
        ),
    )
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

fn from(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

async fn fail(limits: &LoginLimits, keys: &AttemptKeys, now: u64) -> Result<(), LimitError> {
    limits.reserve(keys, now).await?;
    limits.settle(keys, false, now).await;
    Ok(())
}

#[tokio::test]
async fn successes_never_count_and_reset_the_login_from_that_address() {
    let (_dir, _, limits) = limits();
    let now = 1_000_000;
    let keys = AttemptKeys::anonymous("alice", from(1));
    for _ in 0..4 {
        fail(&limits, &keys, now).await.unwrap();
    }
    limits.reserve(&keys, now).await.unwrap();
    limits.settle(&keys, true, now).await;
    for n in 0..(MAX_FROM_ADDRESS + 5) {
        limits
            .reserve(&keys, now)
            .await
            .unwrap_or_else(|e| panic!("{n}: {e}"));
        limits.settle(&keys, true, now).await;
    }
    // The reset gives the address its five free failures again.
    for _ in 0..4 {
        fail(&limits, &keys, now).await.unwrap();
    }
}

#[tokio::test]
async fn a_device_is_judged_by_its_own_counter_only() {
    let (_dir, _, limits) = limits();
    let now = 1_000_000;
    for last in 1..=5 {
        let keys = AttemptKeys::anonymous("alice", from(last));
        for _ in 0..MAX_FAILURES {
            fail(&limits, &keys, now).await.unwrap();
        }
    }
    let elsewhere = AttemptKeys::anonymous("alice", from(99));
    let Err(LimitError::Wait { wait, whose }) = limits.reserve(&elsewhere, now).await else {
        panic!("the login is blocked");
    };
    assert_eq!((wait, whose), (FIRST_WAIT, "for this account"));
    let device = AttemptKeys::device("alice", "d1");
    limits.reserve(&device, now).await.unwrap();
    limits.settle(&device, true, now).await;
    for _ in 0..MAX_FAILURES {
        fail(&limits, &device, now).await.unwrap();
    }
    assert!(limits.reserve(&device, now).await.is_err());
    let other_device = AttemptKeys::device("alice", "d2");
    assert!(limits.reserve(&other_device, now).await.is_ok());
}

#[tokio::test]
async fn the_sweep_deletes_only_forgotten_counters() {
    let (_dir, store, limits) = limits();
    let now = 1_000_000;
    fail(&limits, &AttemptKeys::anonymous("old", from(1)), now)
        .await
        .unwrap();
    let later = now + ms(FORGET) + 1;
    fail(&limits, &AttemptKeys::anonymous("new", from(2)), later)
        .await
        .unwrap();
    let count = || async { list_all(store.as_ref(), PREFIX).await.unwrap().len() };
    // login-ip, login and ip of each; both used `ip:` keys apart.
    assert_eq!(count().await, 6);
    assert_eq!(limits.sweep(later).await.unwrap(), 3);
    assert_eq!(count().await, 3);
    assert_eq!(limits.sweep(later + ms(FORGET)).await.unwrap(), 3);
    assert_eq!(count().await, 0);
}

#[test]
fn ipv6_addresses_share_a_counter_per_64() {
    let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
    let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
    let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
    assert_eq!(address_key(a), address_key(b));
    assert_ne!(address_key(a), address_key(c));
    let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
    assert_eq!(address_key(mapped), "192.0.2.1");
}
