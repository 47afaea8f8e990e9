//! A user's Slack id and e-mail: set and cleared over the API and the admin
//! users page (the CLI's commands are in `cli.rs`), one Slack id per user,
//! found again by either.

use crate::support::TestApp;
use app::domain::policy::Role;
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use server::auth::Users;

pub(crate) fn users_in(data: &std::path::Path) -> Users {
    let store = server::store::fs::FsStore::open(data.join("store/requests")).expect("store");
    Users::new(std::sync::Arc::new(store))
}

#[tokio::test]
async fn admins_link_slack_ids_and_emails_over_the_api() {
    let app = TestApp::spawn().await;
    let root = app.token("root", Role::Admin).await;
    let alice = app.token("alice", Role::Requester).await;
    let created = app
        .post_as(
            &root,
            "/api/v1/users",
            &json!({"login": "bob", "role": "approver",
                    "slack_user_id": "U0BOB", "email": "Bob@Example.com"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let bob: Value = created.json().await.unwrap();
    assert_eq!(
        (&bob["slack_user_id"], &bob["email"]),
        (&json!("U0BOB"), &json!("Bob@Example.com"))
    );
    let patch = |login: &str, token: &str, body: Value| {
        app.client
            .patch(app.url(&format!("/api/v1/users/{login}")))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let error =
        |r: reqwest::Response| async move { r.json::<Value>().await.unwrap()["error"].clone() };

    let taken = app
        .post_as(
            &root,
            "/api/v1/users",
            &json!({"login": "carol", "role": "viewer", "slack_user_id": "U0BOB"}),
        )
        .await;
    assert_eq!(taken.status(), 409);
    assert_eq!(
        error(taken).await["message"],
        "Slack user U0BOB is already linked to `bob`; unlink it there first"
    );
    let res = patch("alice", &root, json!({"slack_user_id": "U0BOB"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 409, "one user per Slack id");
    assert!(
        error(res).await["message"]
            .as_str()
            .unwrap()
            .contains("already linked to `bob`")
    );

    let res = patch("alice", &root, json!({"slack_user_id": "u0alice"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let e = error(res).await;
    assert_eq!(e["field"], "slack_user_id");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("`U` or `W` then 2 to 20"),
        "{e}"
    );
    let res = patch("alice", &root, json!({"email": "alice at example"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let e = error(res).await;
    assert_eq!(e["field"], "email");
    assert!(
        e["message"].as_str().unwrap().contains("local@domain"),
        "{e}"
    );

    let own = patch("alice", &alice, json!({"slack_user_id": "U0ALICE"}))
        .await
        .unwrap();
    assert_eq!(own.status(), 403, "nobody links their own Slack id");
    assert_eq!(error(own).await["rule"], "users.admin");
    let own = patch("alice", &alice, json!({"email": "alice@example.com"}))
        .await
        .unwrap();
    assert_eq!(own.status(), 403);

    let res = patch(
        "alice",
        &root,
        json!({"slack_user_id": "U0ALICE", "email": "alice@example.com"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (&body["slack_user_id"], &body["email"]),
        (&json!("U0ALICE"), &json!("alice@example.com"))
    );
    let res = patch("alice", &root, json!({"role": "approver"}))
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["slack_user_id"], "U0ALICE", "an absent field is kept");

    let users = users_in(app.data.path());
    assert_eq!(
        users.by_slack_id("U0ALICE").await.unwrap().unwrap().login,
        "alice"
    );
    assert_eq!(
        users
            .by_email("bob@example.COM")
            .await
            .unwrap()
            .unwrap()
            .login,
        "bob"
    );

    let res = patch("bob", &root, json!({"slack_user_id": null, "email": null}))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (&body["slack_user_id"], &body["email"]),
        (&Value::Null, &Value::Null)
    );
    assert!(
        users.by_slack_id("U0BOB").await.unwrap().is_none(),
        "unlinked"
    );
    let listed: Value = app
        .get_as(&root, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    let alice_row = listed["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "alice")
        .unwrap();
    assert_eq!(alice_row["slack_user_id"], "U0ALICE");

    let res = patch("alice", &root, json!({"disabled": true}))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        users.by_slack_id("U0ALICE").await.unwrap().is_none(),
        "a disabled user is never found"
    );

    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let patch_doc = &doc["paths"]["/api/v1/users/{login}"]["patch"]["responses"];
    assert!(patch_doc.get("400").is_some() && patch_doc.get("409").is_some());
    for schema in ["NewUser", "UserChange"] {
        let props = &doc["components"]["schemas"][schema]["properties"];
        assert_eq!(
            props["slack_user_id"]["pattern"], "^[UW][A-Z0-9]{2,20}$",
            "{schema}"
        );
        assert_eq!(props["email"]["maxLength"], 254, "{schema}");
    }

    let audit: Value = app
        .get_as(&root, "/api/v1/audit")
        .await
        .json()
        .await
        .unwrap();
    let details: Vec<&str> = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "user.update" || r["action"] == "user.create")
        .filter_map(|r| r["detail"].as_str())
        .collect();
    for want in [
        "bob as approver, Slack U0BOB, e-mail Bob@Example.com",
        "alice: Slack U0ALICE, e-mail alice@example.com",
        "bob: Slack unlinked, e-mail cleared",
    ] {
        assert!(details.contains(&want), "{want} in {details:?}");
    }
}

#[tokio::test]
async fn the_admin_users_page_shows_and_sets_slack_ids_and_emails() {
    let app = TestApp::spawn().await;
    let root = app.signed_in("root", Role::Admin).await;
    app.token("alice", Role::Requester).await;
    let origin = app.url("");
    let post = |path: &str, fields: &[(&str, &str)]| {
        app.client
            .post(app.url(path))
            .header(COOKIE, &root)
            .header("origin", origin.trim_end_matches('/'))
            .form(fields)
            .send()
    };
    let back = |r: reqwest::Response| {
        assert_eq!(r.status(), 303, "a form post goes back to its page");
        r.headers()["location"].to_str().unwrap().to_owned()
    };
    let added = post(
        "/admin/users",
        &[
            ("login", "bob"),
            ("role", "approver"),
            ("slack_user_id", " U0BOB "),
            ("email", "bob@example.com"),
        ],
    )
    .await
    .unwrap();
    assert!(back(added).starts_with("/admin/users?done="));
    let set = post(
        "/admin/users/alice",
        &[
            ("role", "requester"),
            ("slack_user_id", "U0ALICE"),
            ("email", "alice@example.com"),
        ],
    )
    .await
    .unwrap();
    let (_, html) = app.page_as(&root, &back(set)).await;
    assert!(
        html.contains("Saved alice: requester, Slack U0ALICE, alice@example.com."),
        "{html}"
    );
    assert!(
        html.contains("value=\"U0BOB\"") && html.contains("value=\"alice@example.com\""),
        "the columns show them: {html}"
    );

    let taken = post(
        "/admin/users/alice",
        &[("role", "requester"), ("slack_user_id", "U0BOB")],
    )
    .await
    .unwrap();
    let (_, html) = app.page_as(&root, &back(taken)).await;
    assert!(
        html.contains("Slack user U0BOB is already linked to `bob`"),
        "{html}"
    );
    let bad = post(
        "/admin/users/alice",
        &[("role", "requester"), ("email", "nobody")],
    )
    .await
    .unwrap();
    let (_, html) = app.page_as(&root, &back(bad)).await;
    assert!(
        html.contains("email is invalid"),
        "the page names the rule: {html}"
    );

    // Empty fields clear; a form without them keeps what is there.
    let kept = post("/admin/users/bob", &[("role", "approver")])
        .await
        .unwrap();
    back(kept);
    let users = users_in(app.data.path());
    assert_eq!(
        users.get("bob").await.unwrap().slack_user_id.as_deref(),
        Some("U0BOB")
    );
    let cleared = post(
        "/admin/users/bob",
        &[("role", "approver"), ("slack_user_id", ""), ("email", "")],
    )
    .await
    .unwrap();
    back(cleared);
    let bob = users.get("bob").await.unwrap();
    assert_eq!((bob.slack_user_id, bob.email), (None, None));
}
