//! The e-mail notifier against a real SMTP server: who gets a mail, what it says, and a failure that hides the password.

use crate::support::smtp::{SmtpServer, free_port};
use app::domain::ids::{EnvName, ModuleType, ProjectKey, RequestId};
use app::domain::policy::Role;
use app::domain::request::PlanSummary;
use server::auth::Users;
use server::config::{SecretString, SmtpSettings};
use server::notify::{EmailNotifier, Notice, NoticeKind, Notifier, NotifyError};
use server::store::fs::FsStore;
use std::sync::Arc;

const FROM: &str = "tfpilot <tfpilot@example.com>";

fn notice(kind: NoticeKind, requester: &str) -> Notice {
    let request = RequestId::generate(1_767_225_600_000, 42);
    Notice {
        id: format!("{request}.000007.{}", kind.as_str()),
        kind,
        request,
        project: ProjectKey::parse("sandbox").unwrap(),
        environment: EnvName::parse("dev").unwrap(),
        module: ModuleType::parse("sqs-queue").unwrap(),
        link: format!("https://tfpilot.example.com/requests/{request}"),
        requester: requester.into(),
        actor: None,
        at: "2026-01-01T00:00:00Z".into(),
        origin: None,
        pr_url: Some("https://github.com/acme/infra/pull/7".into()),
        plan: None,
        risks: Vec::new(),
        explanation: None,
        failed_step: None,
        error: None,
        message: None,
    }
}

/// A user directory on a temp dir: `alice` with an address, `bob`
/// without, `carol` with one but disabled.
async fn users(dir: &tempfile::TempDir) -> Users {
    let users = Users::new(Arc::new(FsStore::open(dir.path()).unwrap()));
    for login in ["alice", "bob", "carol"] {
        users.add(login, Role::Requester, None).await.unwrap();
    }
    for (login, disabled) in [("alice", false), ("carol", true)] {
        users
            .update(login, |u| {
                u.email = Some(format!("{}@example.com", u.login));
                u.disabled = disabled;
                Ok(())
            })
            .await
            .unwrap();
    }
    users
}

fn settings(url: String) -> SmtpSettings {
    SmtpSettings {
        url: SecretString::new(url),
        from: FROM.into(),
    }
}

#[tokio::test]
async fn the_requester_gets_a_mail_that_says_what_happened() {
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let email = EmailNotifier::new(&settings(smtp.url()), users(&dir).await).unwrap();
    assert_eq!(email.name(), "email");
    let applied = notice(NoticeKind::Applied, "alice");

    email.notify(&applied).await.unwrap();

    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{}", smtp.log());
    let mail = &mails[0];
    let headline = format!("sqs-queue {} in sandbox/dev: applied", applied.request);
    assert_eq!(mail.header("To"), Some("alice@example.com"), "{mail:#?}");
    assert_eq!(mail.header("X-RcptTo"), Some("alice@example.com"));
    assert_eq!(mail.header("From"), Some(FROM));
    assert_eq!(
        mail.header("Subject"),
        Some(format!("[tfpilot] {headline}").as_str())
    );
    assert_eq!(
        mail.header("Message-ID"),
        Some(format!("<{}@tfpilot>", applied.id).as_str())
    );
    let text = mail.text();
    eprintln!("MAIL {mail:#?}");
    assert!(text.starts_with(&headline), "{text}");
    assert!(
        text.contains("Pull request: https://github.com/acme/infra/pull/7"),
        "{text}"
    );
    assert!(
        text.contains(&format!("Request: {}", applied.link)),
        "{text}"
    );
    let html = mail.part("text/html").expect("an HTML alternative");
    assert!(
        html.contains(&format!("<a href=\"{}\">", applied.link)),
        "{html}"
    );
}

#[tokio::test]
async fn an_approval_mail_carries_the_counts_and_the_risk_notes() {
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let email = EmailNotifier::new(&settings(smtp.url()), users(&dir).await).unwrap();
    let mut needed = notice(NoticeKind::ApprovalNeeded, "alice");
    needed.plan = Some(PlanSummary {
        import: 0,
        add: 1,
        change: 0,
        destroy: 0,
    });
    needed.risks = vec!["fifo = true".into()];

    email.notify(&needed).await.unwrap();

    let mail = &smtp.messages()[0];
    let subject = mail.header("Subject").unwrap();
    assert!(
        subject.ends_with("in sandbox/dev: approval needed (+1 ~0 -0)"),
        "{subject}"
    );
    let text = mail.text();
    assert!(
        text.contains("High-risk inputs:\n  - fifo = true"),
        "{text}"
    );
}

#[tokio::test]
async fn nobody_without_an_address_is_mailed_nor_told_what_they_did() {
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let email = EmailNotifier::new(&settings(smtp.url()), users(&dir).await).unwrap();

    for requester in ["bob", "carol", "nobody"] {
        let applied = notice(NoticeKind::Applied, requester);
        assert_eq!(email.notify(&applied).await, Ok(()), "{requester}");
    }
    let filed = notice(NoticeKind::Created, "alice");
    assert_eq!(email.notify(&filed).await, Ok(()));

    assert!(smtp.messages().is_empty(), "{:#?}", smtp.messages());
}

#[tokio::test]
async fn a_server_that_is_down_fails_without_telling_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("smtp://tfpilot:hunter2@127.0.0.1:{}", free_port());
    let email = EmailNotifier::new(&settings(url), users(&dir).await).unwrap();

    let result = email.notify(&notice(NoticeKind::Applied, "alice")).await;

    let Err(NotifyError::Failed(sentence)) = result else {
        panic!("expected a failure, got {result:?}");
    };
    eprintln!("SENTENCE {sentence}");
    assert!(sentence.contains("was not sent"), "{sentence}");
    assert!(!sentence.contains("hunter2"), "{sentence}");
}

#[tokio::test]
async fn the_settings_come_from_the_environment_and_build_a_notifier() {
    let smtp = SmtpServer::start();
    let config = crate::support::config_from(&[
        ("TFPILOT_SMTP_URL", &smtp.url()),
        ("TFPILOT_SMTP_FROM", FROM),
    ])
    .unwrap();
    let settings = config.smtp.expect("SMTP settings");
    let dir = tempfile::tempdir().unwrap();
    let email = EmailNotifier::new(&settings, users(&dir).await).unwrap();
    email
        .notify(&notice(NoticeKind::Destroyed, "alice"))
        .await
        .unwrap();
    assert_eq!(smtp.messages().len(), 1);

    assert!(crate::support::config_from(&[]).unwrap().smtp.is_none());
    let e = crate::support::config_from(&[
        (
            "TFPILOT_SMTP_URL",
            "smtps://tfpilot:hunter2@mail.example.com",
        ),
        ("TFPILOT_SMTP_FROM", "not a mailbox"),
    ])
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("TFPILOT_SMTP_FROM: `not a mailbox`"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");
}
