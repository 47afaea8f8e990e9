//! Bench: `tfpilot keys rotate` over 1,000 integration records on the disk
//! store. The records (every kind, one ciphertext each) are sealed with
//! the old key, then the real binary seals each one again with the new key
//! by compare-and-swap, printing its progress every 250 records; the time
//! is the binary's whole run. A second run finds every record current.
//!
//! Run with `cargo bench -p server --bench rotate` (`TFPILOT_BENCH_RECORDS`
//! sets the count, default 1000); with `TFPILOT_BENCH_REPORT` set, the
//! summary is also written to that file.

use base64::Engine as _;
use server::ids::OsIds;
use server::integrations::crypto::{Keyring, MasterKey};
use server::integrations::kinds::KINDS;
use server::integrations::seal_secrets;
use server::integrations::store::{IntegrationRecord, IntegrationStore};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

fn key(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

#[tokio::main]
async fn main() {
    let count: usize = std::env::var("TFPILOT_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let data = tempfile::tempdir().unwrap();
    let fs = server::store::fs::FsStore::open(data.path().join("store/requests")).unwrap();
    let store = IntegrationStore::new(Arc::new(fs));
    let old = Keyring::single(MasterKey::new([1; 32]));
    for n in 0..count {
        let kind = KINDS[n % KINDS.len()];
        let name = format!("bench-{n:05}");
        let secrets: BTreeMap<String, String> = kind
            .fields()
            .iter()
            .filter(|f| f.secret)
            .map(|f| (f.name.to_owned(), format!("{}-{n}", f.name)))
            .collect();
        let record = IntegrationRecord {
            kind: kind.as_str().into(),
            name: name.clone(),
            metadata: BTreeMap::new(),
            secret_fields: secrets.keys().cloned().collect(),
            secret: seal_secrets(&old, &OsIds, kind.as_str(), &name, &secrets),
            set_at: "2026-12-02T10:00:00.000Z".into(),
            set_by: "bench".into(),
            version: 1,
        };
        store.put(&record, None).await.unwrap();
    }
    let rotate = || {
        Command::new(env!("CARGO_BIN_EXE_tfpilot"))
            .args(["keys", "rotate", "--every", "250"])
            .env("TFPILOT_DATA_DIR", data.path())
            .env("TFPILOT_MASTER_KEY", key(2))
            .env("TFPILOT_MASTER_KEY_OLD", key(1))
            .env("TFPILOT_LOG", "warn")
            .output()
            .unwrap()
    };
    let started = Instant::now();
    let out = rotate();
    let took = started.elapsed();
    let progress = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{progress}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    print!("{progress}");
    let again = rotate();
    let second = String::from_utf8_lossy(&again.stdout).into_owned();
    let done = format!("rotated 0/{count} ({count} already current, 0 failed)");
    assert!(second.contains(&done), "{second}");
    let lines: Vec<&str> = progress
        .lines()
        .filter(|l| l.starts_with("rotated "))
        .collect();
    let line = format!(
        "keys rotate: {count} records in {:.2} s ({:.0} records/s), progress shown {} times, last: {}",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64(),
        lines.len(),
        lines.last().unwrap_or(&"-")
    );
    println!("{line}");
    if let Ok(path) = std::env::var("TFPILOT_BENCH_REPORT") {
        let _ = std::fs::write(path, format!("{line}\n"));
    }
}
