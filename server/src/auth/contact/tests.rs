//! The rules of Slack ids and e-mail addresses, and the lookups by them.

use super::*;
use crate::store::ObjectStore;
use crate::store::fs::FsStore;
use std::sync::Arc;

fn user(login: &str) -> User {
    User {
        login: login.into(),
        role: Role::Requester,
        password_hash: None,
        created_at: "2026-01-01T00:00:00Z".into(),
        disabled: false,
        identity: Identity::Local,
        sessions_epoch: 0,
        slack_user_id: None,
        email: None,
    }
}

fn users() -> (tempfile::TempDir, Users) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(FsStore::open(dir.path()).unwrap());
    (dir, Users::new(store))
}

#[test]
fn slack_ids_follow_the_rule() {
    for ok in ["U123", "W0123ABCD", "U12", "UABCDEFGHIJ0123456789"] {
        assert_eq!(parse_slack_id(ok).unwrap(), ok);
    }
    for bad in [
        "",
        "U1",
        "u123",
        "X123",
        "U12a",
        "U 123",
        "U123\n",
        "UABCDEFGHIJ01234567890",
        "U12-3",
        "Ü123",
    ] {
        let e = parse_slack_id(bad).unwrap_err().to_string();
        assert!(
            e.starts_with("slack_user_id `") && e.contains("`U` or `W` then 2 to 20"),
            "{bad:?}: {e}"
        );
    }
}

#[test]
fn emails_follow_the_rule() {
    for ok in ["a@b", "Ann.Lee+ops@example.com", "jürgen@bücher.de"] {
        assert_eq!(parse_email(ok).unwrap(), ok);
    }
    let long = format!("{}@example.com", "a".repeat(243));
    assert_eq!(long.len(), 255);
    for (bad, why) in [
        ("", "not local@domain"),
        ("ann", "not local@domain"),
        ("@b", "not local@domain"),
        ("a@", "not local@domain"),
        ("a@b@c", "not local@domain"),
        ("a b@c", "a space or a control"),
        (" a@b", "a space or a control"),
        ("a@b\u{7}", "a space or a control"),
        ("a@b\u{a0}", "a space or a control"),
        (long.as_str(), "longer than 254"),
    ] {
        let e = parse_email(bad).unwrap_err().to_string();
        assert!(
            e.starts_with("email is invalid: ") && e.contains(why),
            "{bad:?}: {e}"
        );
    }
    assert!(parse_email(&long[1..]).is_ok(), "254 characters is fine");
}

#[test]
fn a_change_says_what_it_changed() {
    let mut user = user("ann");
    let set = LinkChange {
        slack_user_id: Some(Some("U1AB".into())),
        email: Some(Some("ann@example.com".into())),
    };
    assert_eq!(
        set.apply(&mut user),
        ["Slack U1AB", "e-mail ann@example.com"]
    );
    assert!(
        set.apply(&mut user).is_empty(),
        "the same again changes nothing"
    );
    let clear = LinkChange {
        slack_user_id: Some(None),
        email: None,
    };
    assert_eq!(clear.apply(&mut user), ["Slack unlinked"]);
    assert_eq!(user.slack_user_id, None);
    assert_eq!(user.email.as_deref(), Some("ann@example.com"));
    assert!(LinkChange::default().is_empty());
}

#[tokio::test]
async fn a_slack_id_belongs_to_one_user_and_finds_them() {
    let (_dir, users) = users();
    let links = |slack: &str, email: &str| Links {
        slack_user_id: Some(slack.into()),
        email: Some(email.into()),
    };
    users
        .add_linked(
            "ann",
            Role::Requester,
            None,
            links("U1AB", "Ann@Example.com"),
        )
        .await
        .unwrap();
    let taken = users
        .add_linked(
            "bob",
            Role::Requester,
            None,
            links("U1AB", "bob@example.com"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        taken.to_string(),
        "Slack user U1AB is already linked to `ann`; unlink it there first"
    );
    assert!(matches!(
        users.get("bob").await,
        Err(UserError::NotFound(_))
    ));
    let bad = users
        .add_linked(
            "bob",
            Role::Requester,
            None,
            links("u1ab", "bob@example.com"),
        )
        .await
        .unwrap_err();
    assert!(matches!(bad, UserError::InvalidSlackId(_)), "{bad}");
    users.add("bob", Role::Approver, None).await.unwrap();

    let found = users.by_slack_id("U1AB").await.unwrap().unwrap();
    assert_eq!(found.login, "ann");
    assert!(users.by_slack_id("U9ZZ").await.unwrap().is_none());
    let by_mail = users.by_email("ann@EXAMPLE.com").await.unwrap().unwrap();
    assert_eq!(by_mail.login, "ann", "e-mail ignores case");

    let moved = LinkChange {
        slack_user_id: Some(Some("U1AB".into())),
        email: None,
    };
    let unknown = users.set_links("nobody", moved.clone()).await.unwrap_err();
    assert!(matches!(unknown, UserError::NotFound(_)), "{unknown}");
    let refused = users.set_links("bob", moved.clone()).await.unwrap_err();
    assert!(
        matches!(refused, UserError::SlackIdTaken { .. }),
        "{refused}"
    );
    let unlink = LinkChange {
        slack_user_id: Some(None),
        email: None,
    };
    let (ann, notes) = users.set_links("ann", unlink).await.unwrap();
    assert_eq!(
        (ann.slack_user_id, notes),
        (None, vec!["Slack unlinked".to_owned()])
    );
    let (bob, _) = users.set_links("bob", moved).await.unwrap();
    assert_eq!(bob.slack_user_id.as_deref(), Some("U1AB"));
    assert_eq!(
        users.by_slack_id("U1AB").await.unwrap().unwrap().login,
        "bob"
    );

    users
        .update("bob", |u| {
            u.disabled = true;
            Ok(())
        })
        .await
        .unwrap();
    assert!(
        users.by_slack_id("U1AB").await.unwrap().is_none(),
        "a disabled user is never a match"
    );
    let still = users
        .set_links(
            "ann",
            LinkChange {
                slack_user_id: Some(Some("U1AB".into())),
                email: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        still.to_string().contains("already linked to `bob`"),
        "a disabled holder still holds it: {still}"
    );
}

#[tokio::test]
async fn two_holders_are_refused_not_chosen() {
    let (_dir, users) = users();
    for login in ["ann", "bob"] {
        users.add(login, Role::Requester, None).await.unwrap();
        // As a race between two admins could leave them.
        users
            .update(login, |u| {
                u.slack_user_id = Some("U1AB".into());
                u.email = Some("team@example.com".into());
                Ok(())
            })
            .await
            .unwrap();
    }
    let e = users.by_slack_id("U1AB").await.unwrap_err().to_string();
    assert!(
        e.contains("Slack user U1AB is linked to more than one user (`ann`, `bob`)"),
        "{e}"
    );
    let e = users
        .by_email("TEAM@example.com")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("(`ann`, `bob`)"), "{e}");
}
