//! `tfpilot keys rotate` on the real binary: 40 records sealed with the
//! old key; a run stopped after its 20th record (crash point
//! `keys.rotated.20`) leaves every record readable by one of the two keys;
//! the next run finishes the rest, with progress counts; a third does
//! nothing; a record of an unknown key is named and fails the run.

use super::key_of;
use crate::support::root;
use server::ids::OsIds;
use server::integrations::crypto::{Keyring, MasterKey};
use server::integrations::store::{IntegrationRecord, IntegrationStore};
use server::integrations::{open_secrets, seal_secrets};
use server::store::fs::FsStore;
use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::Arc;

fn rotate(data: &std::path::Path, envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tfpilot"))
        .args(["keys", "rotate", "--every", "10"])
        .env("TFPILOT_DATA_DIR", data)
        .env("TFPILOT_REGISTRY", root().join("modules-registry.toml"))
        .env("TFPILOT_MASTER_KEY", key_of(2))
        .env("TFPILOT_MASTER_KEY_OLD", key_of(1))
        .envs(envs.iter().copied())
        .output()
        .unwrap()
}

async fn seed(store: &IntegrationStore, keyring: &Keyring, names: std::ops::Range<usize>) {
    for n in names {
        let name = format!("r{n:03}");
        let secrets = BTreeMap::from([("secret".to_owned(), format!("hook-{n}"))]);
        let record = IntegrationRecord {
            kind: "webhook_secret".into(),
            name: name.clone(),
            metadata: BTreeMap::new(),
            secret_fields: vec!["secret".into()],
            secret: seal_secrets(keyring, &OsIds, "webhook_secret", &name, &secrets),
            set_at: "2026-12-02T10:00:00.000Z".into(),
            set_by: "ada".into(),
            version: 1,
        };
        store.put(&record, None).await.unwrap();
    }
}

/// How many records are sealed with each key id; every one must open
/// with the old or the new key and hold its value.
async fn census(store: &IntegrationStore) -> BTreeMap<String, usize> {
    let both = Keyring {
        current: MasterKey::new([2; 32]),
        old: Some(MasterKey::new([1; 32])),
    };
    let mut by_key = BTreeMap::new();
    for key in store.keys().await.unwrap() {
        let r = store.get_key(&key).await.unwrap().unwrap().value;
        let n: usize = r.name[1..].parse().unwrap();
        let secrets =
            open_secrets(&both, &r.kind, &r.name, &r.secret).expect("readable by one key");
        assert_eq!(secrets["secret"], format!("hook-{n}"));
        *by_key.entry(r.secret.key_id).or_default() += 1;
    }
    by_key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_stopped_halfway_is_finished_by_the_next_run() {
    let data = tempfile::tempdir().unwrap();
    let store = IntegrationStore::new(Arc::new(
        FsStore::open(data.path().join("store/requests")).unwrap(),
    ));
    let old = Keyring::single(MasterKey::new([1; 32]));
    let (old_id, new_id) = (
        MasterKey::new([1; 32]).id().to_owned(),
        MasterKey::new([2; 32]).id().to_owned(),
    );
    seed(&store, &old, 0..40).await;

    let stopped = rotate(data.path(), &[("TFPILOT_CRASH_AT", "keys.rotated.20")]);
    assert!(!stopped.status.success());
    let said = String::from_utf8_lossy(&stopped.stdout);
    assert!(
        said.contains(&format!(
            "rotating integration credentials to key {new_id} (old key {old_id})"
        )),
        "{said}"
    );
    assert!(
        said.contains("rotated 10/40 (0 already current, 0 failed)"),
        "{said}"
    );
    assert_eq!(
        census(&store).await,
        BTreeMap::from([(new_id.clone(), 20), (old_id.clone(), 20)])
    );

    let resumed = rotate(data.path(), &[]);
    let said = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        resumed.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(
        said.contains("rotated 0/40 (10 already current, 0 failed)"),
        "{said}"
    );
    assert!(
        said.trim_end()
            .ends_with("rotated 20/40 (20 already current, 0 failed)"),
        "{said}"
    );
    assert_eq!(census(&store).await, BTreeMap::from([(new_id.clone(), 40)]));

    let again = rotate(data.path(), &[]);
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout)
            .contains("rotated 0/40 (40 already current, 0 failed)")
    );
    // Rotated records were written by compare-and-swap: their version grew once.
    let r = store
        .get_key(&store.keys().await.unwrap()[0])
        .await
        .unwrap()
        .unwrap()
        .value;
    assert_eq!(r.version, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_that_do_not_open_are_named_and_fail_the_run() {
    let data = tempfile::tempdir().unwrap();
    let store = IntegrationStore::new(Arc::new(
        FsStore::open(data.path().join("store/requests")).unwrap(),
    ));
    seed(&store, &Keyring::single(MasterKey::new([1; 32])), 0..3).await;
    seed(&store, &Keyring::single(MasterKey::new([7; 32])), 3..4).await;
    let out = rotate(data.path(), &[]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("rotated 3/4 (0 already current, 1 failed)"),
        "{said}"
    );
    let foreign = MasterKey::new([7; 32]).id().to_owned();
    assert!(
        err.contains(&format!(
            "integrations/webhook_secret/r003.json: encrypted with key {foreign}"
        )),
        "{err}"
    );
    assert!(err.contains("1 of 4 records do not open"), "{err}");
}
