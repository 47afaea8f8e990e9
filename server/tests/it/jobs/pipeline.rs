//! Jobs through the normal pipeline on the fake executor: a dev alert
//! files a new revision, approves, merges and applies it as its policy; a
//! prod alert stops at waiting_approval; a bad interpolated value fails
//! the job naming the input and leaves the request untouched; a notify
//! policy stores one notice.

use super::{alert, automation_token, payload, put_policy, scale_policy, send, wait_job};
use crate::support::{TestApp, WAIT};
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::exec::fake::{FakeExecutor, Outcome};
use server::notify::{MemoryNotifier, NoticeKind};
use server::store::{ObjectStore, Precondition};
use std::sync::Arc;

async fn world() -> (TestApp, Arc<MemoryNotifier>, String, String) {
    let notices = Arc::new(MemoryNotifier::new());
    let exec = Arc::new(FakeExecutor::new().with_auto_complete(|_| Outcome::success()));
    let app = TestApp::builder()
        .executor(exec)
        .notifier(notices.clone())
        .spawn()
        .await;
    let bot = automation_token(&app, "alertmanager").await;
    let alice = app.token("alice", Role::Requester).await;
    put_policy(&app, scale_policy()).await;
    (app, notices, bot, alice)
}

async fn applied_queue(app: &TestApp, alice: &str, env: &str, name: &str) -> String {
    let pat = app.token("pat", Role::Approver).await;
    let id = app
        .file(
            alice,
            env,
            "sqs-queue",
            json!({"name": name, "dlq_max_receive_count": 3}),
        )
        .await;
    app.wait_for_status(alice, &id, "plan_ready", WAIT).await;
    if env == "dev" {
        for action in ["approve", "merge", "apply"] {
            assert_eq!(crate::flow::act(app, &pat, &id, action).await.status(), 202);
        }
        app.wait_for_status(alice, &id, "applied", WAIT).await;
    }
    id
}

fn backlog(fp: &str, request: &str, new_max: &str) -> Value {
    payload(vec![alert(
        "QueueBacklog",
        fp,
        json!({"tfpilot_request": request, "severity": "critical"}),
        json!({"new_max": new_max}),
    )])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dev_alert_becomes_an_applied_revision_and_a_resend_nothing() {
    let (app, notices, bot, alice) = world().await;
    let id = applied_queue(&app, &alice, "dev", "orders").await;

    let receipt: Value = send(&app, &bot, &backlog("fp-dev", &id, "9"))
        .await
        .json()
        .await
        .unwrap();
    let job_id = receipt["jobs"][0].as_str().unwrap().to_owned();
    let job = wait_job(&app, &alice, &job_id, "succeeded").await;
    assert_eq!(job["request"], id.as_str());
    assert_eq!(job["attempts"], 1);
    assert_eq!(job["steps"]["revision_filed"], 2, "{job:#}");
    assert!(job["steps"]["approved"].as_u64().is_some());
    assert!(job["steps"]["merged"].as_str().is_some());
    assert!(job["result"].as_str().unwrap().contains("applied"), "{job}");
    let view = app.wait_for_status(&alice, &id, "applied", WAIT).await;
    assert_eq!(view["request"]["revision"], 2);
    assert_eq!(view["request"]["config"]["dlq_max_receive_count"], 9);
    assert_eq!(view["request"]["approval"]["by"], "policy:raise-receives");

    // The resend of the same alert files nothing.
    let again: Value = send(&app, &bot, &backlog("fp-dev", &id, "9"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (again["new"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
    let log: Value = app
        .get_as(&alice, "/api/v1/jobs")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
    // The job's steps are audited, naming the job and its policy.
    let audit: Value = app
        .get_as(&alice, &format!("/api/v1/audit?request={id}"))
        .await
        .json()
        .await
        .unwrap();
    let records = audit["records"].as_array().unwrap();
    assert!(
        records.iter().any(|r| r["action"] == "job.revision_filed"
            && r["detail"].as_str().unwrap().contains(&job_id)
            && r["detail"].as_str().unwrap().contains("raise-receives")),
        "{audit:#}"
    );
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "request.approve" && r["via"] == "remediation")
    );
    assert!(records.iter().any(|r| r["action"] == "job.succeeded"));
    let applied = notices
        .notices()
        .into_iter()
        .filter(|n| n.request.as_str() == id && n.kind == NoticeKind::Applied)
        .count();
    assert_eq!(applied, 2, "the first apply and the job's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_prod_alert_waits_for_a_person_whatever_the_policy_says() {
    let (app, notices, bot, alice) = world().await;
    // The policy API refuses prod in auto_approve_environments (422); a
    // record that says it anyway (written by hand) changes nothing.
    let store = app.requests_store();
    let key = "policies/raise-receives.json";
    let mut stored: Value = serde_json::from_slice(&store.get(key).await.unwrap().bytes).unwrap();
    stored["auto_approve_environments"] = json!(["dev", "prod"]);
    store
        .put(
            key,
            serde_json::to_vec(&stored).unwrap().into(),
            Precondition::None,
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let id = applied_queue(&app, &alice, "prod", "payments").await;

    let receipt: Value = send(&app, &bot, &backlog("fp-prod", &id, "8"))
        .await
        .json()
        .await
        .unwrap();
    let job_id = receipt["jobs"][0].as_str().unwrap();
    let job = wait_job(&app, &alice, job_id, "waiting_approval").await;
    assert!(
        job["result"].as_str().unwrap().contains("production"),
        "{job}"
    );
    let view = app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    assert_eq!(view["request"]["config"]["dlq_max_receive_count"], 8);
    assert!(view["request"]["approval"].is_null());
    // The outbox delivers a moment after the write that made the notice.
    let asked = || {
        notices
            .notices()
            .into_iter()
            .filter(|n| n.request.as_str() == id && n.kind == NoticeKind::ApprovalNeeded)
            .count()
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while asked() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(asked() >= 2, "approvers are asked for the new revision");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_value_fails_the_job_naming_the_input_and_leaves_the_request() {
    let (app, _notices, bot, alice) = world().await;
    let id = applied_queue(&app, &alice, "dev", "bounded").await;
    let before: Value = app
        .get_as(&alice, &format!("/api/v1/requests/{id}"))
        .await
        .json()
        .await
        .unwrap();

    for (fp, value) in [("fp-big", "100000"), ("fp-word", "lots")] {
        let receipt: Value = send(&app, &bot, &backlog(fp, &id, value))
            .await
            .json()
            .await
            .unwrap();
        let job = wait_job(&app, &alice, receipt["jobs"][0].as_str().unwrap(), "failed").await;
        let result = job["result"].as_str().unwrap();
        assert!(result.contains("dlq_max_receive_count"), "{result}");
    }
    // An unknown request fails too, naming it.
    let receipt: Value = send(&app, &bot, &backlog("fp-gone", "0000000000000000", "5"))
        .await
        .json()
        .await
        .unwrap();
    let job = wait_job(&app, &alice, receipt["jobs"][0].as_str().unwrap(), "failed").await;
    assert!(
        job["result"].as_str().unwrap().contains("0000000000000000"),
        "{job}"
    );

    let after: Value = app
        .get_as(&alice, &format!("/api/v1/requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["request"]["version"], before["request"]["version"]);
    assert_eq!(after["request"]["config"], before["request"]["config"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_notify_policy_tells_the_request_s_people_once() {
    let (app, notices, bot, alice) = world().await;
    put_policy(
        &app,
        json!({
            "name": "tell",
            "priority": 1,
            "enabled": true,
            "condition": {"labels": {"alertname": "QueueBacklog"}},
            "action": {"kind": "notify", "request": "${label.tfpilot_request}",
                       "message": "backlog at ${annotation.new_max}"}
        }),
    )
    .await;
    let id = applied_queue(&app, &alice, "dev", "told").await;
    let receipt: Value = send(&app, &bot, &backlog("fp-tell", &id, "42"))
        .await
        .json()
        .await
        .unwrap();
    let job = wait_job(
        &app,
        &alice,
        receipt["jobs"][0].as_str().unwrap(),
        "succeeded",
    )
    .await;
    assert_eq!(job["policy"], "tell", "the lower priority number wins");
    crate::support::wait_until(WAIT, "the remediation notice", || async {
        let told: Vec<_> = notices
            .notices()
            .into_iter()
            .filter(|n| n.kind == NoticeKind::Remediation)
            .collect();
        match told.as_slice() {
            [one] if one.message.as_deref() == Some("backlog at 42") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
}
