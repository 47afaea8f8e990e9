//! Run ids of a request across its revisions: attempt numbers only rise,
//! so a run of a new revision never has the id of an earlier run (whose
//! record it would otherwise read as its own).

use crate::exec::RunKind;
use crate::fixtures::request;
use app::domain::config::Config as InputConfig;
use app::domain::request::{Approval, PullRequest};
use app::domain::transitions;
use std::collections::BTreeSet;

const AT: &str = "2026-01-01T00:00:00Z";

fn pr(revision: u32) -> PullRequest {
    PullRequest {
        number: u64::from(revision),
        head_sha: format!("head-of-revision-{revision}"),
        merged_sha: Some(format!("merge-of-revision-{revision}")),
        ..Default::default()
    }
}

#[test]
fn attempts_rise_across_revisions_and_run_ids_never_repeat() {
    let mut doc = request();
    let mut seen = BTreeSet::new();
    let mut last = (0, 0);
    for revision in 1..=4 {
        assert_eq!(doc.revision, revision);
        doc.pr = Some(pr(revision));
        for _ in 0..3 {
            let n =
                transitions::queue_attempt(&mut doc, transitions::RunKind::Plan, "alice", None, AT)
                    .unwrap();
            assert!(n > last.0, "plan attempt {n} after {}", last.0);
            last.0 = n;
        }
        let n = transitions::queue_attempt(&mut doc, transitions::RunKind::Apply, "bob", None, AT)
            .unwrap();
        assert!(n > last.1, "apply attempt {n} after {}", last.1);
        last.1 = n;
        doc.approval = Some(Approval {
            by: "bob".into(),
            at: "2026-01-01T00:00:00Z".into(),
            plan_attempt: last.0,
            head_sha: pr(revision).head_sha,
            base_sha: None,
        });
        for a in doc
            .runs
            .plan
            .attempts
            .iter()
            .chain(&doc.runs.apply.attempts)
        {
            seen.insert(a.run_id.clone());
        }
        // Stored and read back, as every revision is.
        let stored = serde_json::to_vec(&doc).unwrap();
        doc = serde_json::from_slice(&stored).unwrap();
        let mut config = InputConfig::new();
        config.insert("name".into(), format!("q{revision}").into());
        doc = transitions::new_revision(&doc, &config, "carol", "2026-01-02T00:00:00Z");
        assert!(doc.pr.is_none() && doc.approval.is_none());
        assert_eq!(doc.runs.plan.current_attempt, last.0, "the history is kept");
        // The first run of the new revision is new.
        doc.pr = Some(pr(revision + 1));
        let next = crate::exec::run_id(&doc.id, RunKind::Plan, doc.runs.plan.current_attempt + 1);
        assert!(!seen.contains(&next), "{next} was used before");
        doc.pr = None;
    }
    assert_eq!(seen.len(), 4 * 3 + 4, "every run id once");
    assert_eq!(doc.revision, 5);
    let plans: Vec<u32> = doc.runs.plan.attempts.iter().map(|a| a.attempt).collect();
    assert_eq!(plans, (1..=12).collect::<Vec<_>>());
    for a in &doc.runs.plan.attempts {
        assert_eq!(a.run_id, format!("{}-plan-{}", doc.id, a.attempt));
    }
}
