//! Snapshot rows written and read back, old and new.

use super::*;

fn entry(status: Status) -> IndexEntry {
    IndexEntry {
        id: RequestId::generate(1_700_000_000_000, 1),
        project: "sandbox".into(),
        environment: "dev".into(),
        module: "s3-bucket".into(),
        status,
        title: "S3 bucket logs".into(),
        requester: "ana".into(),
        updated_at: "2026-11-22T05:50:01Z".into(),
        note: String::new(),
        etag: "\"e1\"".into(),
        drifted: false,
        version: 3,
    }
}

fn read(json: serde_json::Value) -> Option<IndexEntry> {
    serde_json::from_value::<StoredEntry>(json)
        .ok()
        .and_then(StoredEntry::into_entry)
}

#[test]
fn snapshot_rows_read_back_with_their_status() {
    let statuses = NOT_FAILED
        .into_iter()
        .chain([Status::Failed(Step::Plan), Status::Failed(Step::Apply)]);
    for status in statuses {
        let e = entry(status);
        let json = serde_json::to_value(StoredEntry::of(&e)).unwrap();
        assert_eq!(json["status"], status.as_str(), "the name, as before");
        assert_eq!(json["version"], 3);
        assert_eq!(read(json), Some(e), "{status}");
    }
}

#[test]
fn older_rows_read_by_name_and_a_failed_one_is_read_again() {
    let old = |status: &str| {
        let mut json = serde_json::to_value(entry(Status::Created)).unwrap();
        json["status"] = status.into();
        json
    };
    let cases = [
        ("created", Some(Status::Created)),
        ("plan_ready", Some(Status::PlanReady)),
        ("destroyed", Some(Status::Destroyed)),
        ("failed", None),
        ("done", None),
    ];
    for (name, want) in cases {
        assert_eq!(read(old(name)).map(|e| e.status), want, "{name}");
    }
    // A row of a snapshot from before versions reads as version 0, so any
    // version read later replaces it.
    assert_eq!(read(old("created")).map(|e| e.version), Some(0));
}
