//! A job whose worker died is claimed again once its lease ran out by the
//! clock, and the steps it recorded are not done again.

use super::automation_token;
use crate::support::TestApp;
use app::domain::jobs::{Job, JobAction, JobAlert, JobLease, JobStatus, JobSteps};
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::clock::{Clock, ManualClock};
use server::exec::fake::{FakeExecutor, Outcome};
use server::notify::{MemoryNotifier, NoticeKind};
use server::store::{ObjectStore, Precondition};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_worker_s_job_is_taken_over_after_its_lease_and_nothing_is_done_twice() {
    let clock = Arc::new(ManualClock::at_system_time());
    let notices = Arc::new(MemoryNotifier::new());
    let app = TestApp::builder()
        .clock(clock.clone())
        .executor(Arc::new(
            FakeExecutor::new().with_auto_complete(|_| Outcome::success()),
        ))
        .notifier(notices.clone())
        .spawn()
        .await;
    let _bot = automation_token(&app, "alertmanager").await;
    let alice = app.token("alice", Role::Requester).await;
    let id = app
        .file(&alice, "dev", "sqs-queue", json!({"name": "held"}))
        .await;

    // A replica that died holding two jobs: one had stored its notice,
    // the other had not.
    let now = clock.unix_millis();
    let held = |job_id: &str, notified: Option<&str>| Job {
        id: job_id.into(),
        status: JobStatus::Running,
        alert: JobAlert {
            name: "QueueBacklog".into(),
            status: "firing".into(),
            fingerprint: job_id.into(),
            starts_at: "2026-01-01T00:00:00Z".into(),
            ..JobAlert::default()
        },
        policy: Some("tell".into()),
        action: Some(JobAction {
            kind: "notify".into(),
            request: Some(id.clone()),
            message: Some("look".into()),
            ..JobAction::default()
        }),
        request: Some(id.clone()),
        attempts: 1,
        lease: Some(JobLease {
            holder: "dead/0".into(),
            expires_at: now + 30_000,
        }),
        steps: JobSteps {
            notified: notified.map(str::to_owned),
            ..JobSteps::default()
        },
        result: None,
        created_at: clock.rfc3339_millis(),
        updated_at: clock.rfc3339_millis(),
        finished_at: None,
    };
    let store = app.requests_store();
    for job in [
        held("0000000000000001", Some("stored-before-the-crash")),
        held("0000000000000002", None),
    ] {
        store
            .put(
                &format!("jobs-open/{}", job.id),
                bytes::Bytes::new(),
                Precondition::None,
            )
            .await
            .unwrap();
        store
            .put(
                &format!("jobs/{}.json", job.id),
                serde_json::to_vec(&job).unwrap().into(),
                Precondition::IfAbsent,
            )
            .await
            .unwrap();
    }

    // Within the lease nobody touches them.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for job_id in ["0000000000000001", "0000000000000002"] {
        let job: Value = app
            .get_as(&alice, &format!("/api/v1/jobs/{job_id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(job["status"], "running");
        assert_eq!(job["lease"]["holder"], "dead/0");
    }

    clock.advance(Duration::from_secs(31));
    for job_id in ["0000000000000001", "0000000000000002"] {
        let job = super::wait_job(&app, &alice, job_id, "succeeded").await;
        assert_eq!(job["attempts"], 2, "{job}");
        assert!(job["lease"].is_null());
    }
    crate::support::wait_until(
        Duration::from_secs(30),
        "one remediation notice",
        || async {
            let told = notices
                .notices()
                .into_iter()
                .filter(|n| n.kind == NoticeKind::Remediation)
                .count();
            if told == 1 {
                Ok(())
            } else {
                Err(format!("{told} told"))
            }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let told = notices
        .notices()
        .into_iter()
        .filter(|n| n.kind == NoticeKind::Remediation)
        .count();
    assert_eq!(
        told, 1,
        "the job that had stored its notice stores none again"
    );
    assert!(
        store
            .list("jobs-open/", None, 10)
            .await
            .unwrap()
            .entries
            .is_empty()
    );
}
