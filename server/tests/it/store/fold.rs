//! Repeated refusals fold into one audit record with a count, on write.

use super::{fs_store, s3_store};
use server::store::journal::{AuditLog, AuditRecord, FOLD_WINDOW};
use server::store::{ObjectStore, list_all};
use std::sync::Arc;

const HOUR_MS: u64 = 3_600_000;
const T0: u64 = 1_767_225_600_000;

fn refusal(actor: &str, action: &str, at: &str) -> AuditRecord {
    AuditRecord {
        at: at.into(),
        actor: actor.into(),
        action: "auth.denied".into(),
        request: Some("0123456789abcdef".into()),
        before_version: None,
        after_version: None,
        detail: format!("{action} refused by role.approver: approvers only"),
        count: 1,
        until: None,
        via: None,
    }
}

async fn folds(store: Arc<dyn ObjectStore>) {
    assert_eq!(FOLD_WINDOW.as_millis() as u64, HOUR_MS);
    let audit = AuditLog::new(store.clone());
    let approve = "approve:role.approver";
    let merge = "merge:role.approver";
    // Alternating refusals of two kinds, and another actor's.
    for n in 0..40u64 {
        let at = format!("2026-01-01T00:00:{:02}Z", n % 60);
        let (action, rule) = if n % 2 == 0 {
            ("approve", approve)
        } else {
            ("merge", merge)
        };
        audit
            .append_folded_at(&refusal("mallory", action, &at), rule, T0 + n * 1000)
            .await
            .unwrap();
    }
    audit
        .append_folded_at(
            &refusal("eve", "approve", "2026-01-01T00:01:00Z"),
            approve,
            T0,
        )
        .await
        .unwrap();
    let records = audit.read(Some("0123456789abcdef")).await.unwrap();
    let summary: Vec<_> = records
        .iter()
        .map(|r| (r.actor.as_str(), r.count, r.until.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            ("mallory", 20, Some("2026-01-01T00:00:38Z")),
            ("mallory", 20, Some("2026-01-01T00:00:39Z")),
            ("eve", 1, None),
        ],
        "one record per actor, action and rule, counting"
    );
    assert_eq!(
        records[0].at, "2026-01-01T00:00:00Z",
        "the first stays first"
    );

    // Past the window, a new record starts counting.
    let later = T0 + HOUR_MS + 1;
    for n in 0..3 {
        audit
            .append_folded_at(
                &refusal("mallory", "approve", "2026-01-01T01:00:01Z"),
                approve,
                later + n,
            )
            .await
            .unwrap();
    }
    let records = audit.read(Some("0123456789abcdef")).await.unwrap();
    assert_eq!(records.len(), 4);
    assert_eq!(records[3].count, 3);
    assert_eq!(records[0].count, 20, "the closed record is unchanged");
    // Pointers live outside the audit listing.
    assert_eq!(
        list_all(store.as_ref(), "audit/0123456789abcdef/")
            .await
            .unwrap()
            .len(),
        4
    );
}

#[tokio::test]
async fn refusals_fold_per_kind_within_the_window_on_disk() {
    folds(fs_store("fold").await).await;
}

#[tokio::test]
async fn refusals_fold_per_kind_within_the_window_on_s3() {
    folds(s3_store("fold").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refusals_are_one_record_counting_all() {
    let audit = AuditLog::new(fs_store("fold-race").await);
    let tasks: Vec<_> = (0..32)
        .map(|n| {
            let audit = audit.clone();
            tokio::spawn(async move {
                audit
                    .append_folded_at(
                        &refusal("mallory", "approve", "2026-01-01T00:00:00Z"),
                        "approve:role.approver",
                        T0 + n,
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let records = audit.read(Some("0123456789abcdef")).await.unwrap();
    assert_eq!(
        records.iter().map(|r| r.count).sum::<u64>(),
        32,
        "no refusal lost"
    );
    assert_eq!(records.len(), 1, "one record for 32 simultaneous refusals");
}
