//! E-mail notices end to end: a request driven to applied on the fake executor mails its requester once per step, through the outbox, over a real SMTP server.

use crate::flow::act;
use crate::support::smtp::SmtpServer;
use crate::support::{TestApp, WAIT, wait_until};
use app::domain::policy::Role;
use serde_json::json;
use server::auth::Users;
use server::auth::contact::LinkChange;
use server::exec::fake::{FakeExecutor, Outcome};
use std::collections::HashSet;
use std::sync::Arc;

const FROM: &str = "tfpilot <tfpilot@example.com>";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_requester_is_mailed_each_step_once_through_to_applied() {
    let smtp = SmtpServer::start();
    let exec = Arc::new(FakeExecutor::new().with_auto_complete(|_| Outcome::success()));
    let url = smtp.url();
    let app = TestApp::builder()
        .executor(exec)
        .env(&[("TFPILOT_SMTP_URL", &url), ("TFPILOT_SMTP_FROM", FROM)])
        .spawn()
        .await;
    let alice = app.token("alice", Role::Requester).await;
    let bob = app.token("bob", Role::Approver).await;
    Users::new(app.requests_store())
        .set_links(
            "alice",
            LinkChange {
                slack_user_id: None,
                email: Some(Some("alice@example.com".into())),
            },
        )
        .await
        .expect("alice's e-mail");

    let id = app
        .file(&alice, "dev", "sqs-queue", json!({"name": "mailed"}))
        .await;
    app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    for step in ["approve", "merge", "apply"] {
        assert_eq!(act(&app, &bob, &id, step).await.status(), 202, "{step}");
    }
    app.wait_for_status(&bob, &id, "applied", WAIT).await;

    let steps = [
        "planning",
        "approval needed",
        "approved by bob",
        "merged by bob",
        "applying",
        "applied",
    ];
    let subjects = |mails: &[crate::support::smtp::Mail]| -> Vec<String> {
        mails
            .iter()
            .map(|m| m.header("Subject").unwrap_or_default().to_owned())
            .collect()
    };
    let mails = wait_until(WAIT, "a mail for each step", || async {
        let mails = smtp.messages();
        if mails.len() >= steps.len() {
            Ok(mails)
        } else {
            Err(format!("{:#?}\n{}", subjects(&mails), smtp.log()))
        }
    })
    .await;
    // Nothing more comes.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let mails = {
        let mut again = smtp.messages();
        assert_eq!(again.len(), mails.len(), "{:#?}", subjects(&again));
        // Notice ids sort in the order things happened.
        again.sort_by_key(|m| m.header("Message-ID").unwrap_or_default().to_owned());
        again
    };
    eprintln!("mails: {:#?}", subjects(&mails));
    assert_eq!(mails.len(), steps.len(), "{:#?}", subjects(&mails));
    let ids: HashSet<&str> = mails
        .iter()
        .map(|m| m.header("Message-ID").expect("a Message-ID"))
        .collect();
    assert_eq!(ids.len(), mails.len(), "each mail once");
    for mail in &mails {
        assert_eq!(mail.header("To"), Some("alice@example.com"), "{mail:#?}");
        assert_eq!(mail.header("From"), Some(FROM));
        let id_header = mail.header("Message-ID").unwrap();
        assert!(id_header.contains(&id), "{id_header}");
        assert!(mail.text().contains(&format!("/requests/{id}")));
    }
    let subjects = subjects(&mails);
    for (subject, step) in subjects.iter().zip(steps) {
        assert!(
            subject.starts_with("[tfpilot] ") && subject.contains(&id),
            "{subject}"
        );
        assert!(subject.contains(step), "{step} in {subjects:#?}");
    }
}
