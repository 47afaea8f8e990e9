//! Drift where terraform is not the point (the fake executor): the
//! `drift.detected` notice once per drift, and a bad `drift_schedule`
//! named by its file line.

use super::{applied, drift_run};
use crate::support::{TestApp, WAIT, config_from, wait_until};
use app::domain::drift::{AttrChange, DriftChange};
use app::domain::policy::Role;
use serde_json::json;
use server::exec::fake::{FakeExecutor, Outcome};
use server::notify::MemoryNotifier;
use std::io::Write;
use std::sync::Arc;

fn changed(id: &str, current: &str) -> Vec<DriftChange> {
    vec![DriftChange {
        address: format!("module.sqs-queue_{id}.terraform_data.this"),
        action: "update".into(),
        attributes: vec![AttrChange {
            name: "input".into(),
            current: Some(format!(r#"{{"visibility_timeout_seconds":{current}}}"#)),
            desired: Some(r#"{"visibility_timeout_seconds":30}"#.into()),
            sensitive: false,
        }],
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drift_is_told_once_per_drift() {
    let notices = Arc::new(MemoryNotifier::new());
    let exec = Arc::new(FakeExecutor::new().with_auto_complete(|_| Outcome::success()));
    let app = TestApp::builder()
        .executor(exec.clone())
        .notifier(notices.clone())
        .spawn()
        .await;
    let alice = app.token("alice", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;
    let id = app
        .file(&alice, "dev", "sqs-queue", json!({"name": "told"}))
        .await;
    applied(&app, &bob, &id).await;
    let told = || {
        notices
            .events()
            .into_iter()
            .filter(|e| *e == "drift.detected")
            .count()
    };
    let expect = |n: usize| {
        let told = &told;
        async move {
            wait_until(WAIT, &format!("{n} drift notice(s)"), || async {
                match told() {
                    got if got == n => Ok(()),
                    got => Err(format!("{got}")),
                }
            })
            .await
        }
    };
    // (drift the run finds, drift notices told after it)
    let steps: [(Vec<DriftChange>, usize); 5] = [
        (changed(&id, "60"), 1),
        (changed(&id, "60"), 1), // the same drift again: nobody told
        (changed(&id, "90"), 2), // drifted differently
        (vec![], 2),             // clean
        (changed(&id, "90"), 3), // drifted again
    ];
    for (changes, n) in steps {
        exec.set_drift("sandbox", "dev", Ok(changes));
        drift_run(&app, &bob).await;
        expect(n).await;
    }
    let last = notices.notices().into_iter().last().unwrap();
    assert_eq!(last.request.as_str(), id, "{last:?}");
}

#[test]
fn a_bad_drift_schedule_is_named_by_its_file_line() {
    for (schedule, says) in [
        ("\"every 6 hours\"", "is not a schedule"),
        ("\"every 0h\"", "is not a schedule"),
        (
            "{ staging = \"every 1h\" }",
            "`staging` is not one of the project's environments",
        ),
        ("42", "write \"every 6h\""),
    ] {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            file,
            "[projects.sandbox]\nenvironments = [\"dev\", \"prod\"]\n\ndrift_schedule = {schedule}"
        )
        .unwrap();
        let path = file.path().to_str().unwrap();
        let e = config_from(&[("TFPILOT_CONFIG", path)])
            .expect_err(schedule)
            .to_string();
        assert!(e.contains(&format!("{path}:4")), "{e}");
        assert!(e.contains("projects.sandbox.drift_schedule"), "{e}");
        assert!(e.contains(says), "{e}");
    }
}
