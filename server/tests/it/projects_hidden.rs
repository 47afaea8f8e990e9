//! A members-only project is not there for anyone else: its requests are
//! a 404 on every path (the document, its plan, log and audit records,
//! its page, actions), absent from the list, the counts, search, the
//! event stream, the job log and the answers to questions — while its
//! members and global admins see it as any project.

use crate::support::{TestApp, WAIT};
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::exec::fake::{FakeExecutor, Outcome};
use std::sync::Arc;
use std::time::Duration;

async fn members_only(app: &TestApp, admin: &str, key: &str, members: Value) {
    let res = app
        .post_as(
            admin,
            "/api/v1/projects",
            &json!({"key": key, "title": "Payments", "environments": ["dev", "prod"]}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/projects/{key}")))
        .bearer_auth(admin)
        .json(&json!({"visibility": "members", "members": members}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// The next `request` event of `res`'s stream within `wait`, if any.
async fn next_request_event(res: &mut reqwest::Response, wait: Duration) -> Option<Value> {
    let mut buffer = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(at) = buffer.find("event: request\n") {
            let rest = &buffer[at..];
            if let Some(end) = rest.find("\n\n") {
                let data = rest[..end]
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .unwrap();
                return Some(serde_json::from_str(data).unwrap());
            }
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, res.chunk()).await {
            Ok(Ok(Some(chunk))) => buffer.push_str(&String::from_utf8_lossy(&chunk)),
            _ => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_members_only_project_is_a_404_everywhere_for_everyone_else() {
    let exec = Arc::new(FakeExecutor::new().with_auto_complete(|_| Outcome::success()));
    let app = TestApp::builder().executor(exec).spawn().await;
    let admin = app.token("root", Role::Admin).await;
    let pam = app.token("pam", Role::Viewer).await; // a requester of `pay` only
    let bob = app.token("bob", Role::Approver).await; // no member
    members_only(&app, &admin, "pay", json!({"pam": "requester"})).await;

    // Bob's stream is open before anything is filed in `pay`.
    let mut bob_stream = app.get_as(&bob, "/api/v1/events").await;
    assert_eq!(bob_stream.status(), 200);
    let mut pam_stream = app.get_as(&pam, "/api/v1/events").await;

    let config = json!({"name": "ledger-events"});
    let id = app.file_in(&pam, "pay", "dev", "sqs-queue", config).await;
    app.wait_for_status(&pam, &id, "plan_ready", WAIT).await;
    app.wait_for_row(&pam, &id, "plan_ready", WAIT).await;

    // Pam, a member, sees it live; Bob's stream never carries it.
    let seen = next_request_event(&mut pam_stream, WAIT).await.unwrap();
    assert_eq!(seen["row"]["project"], "pay", "{seen}");
    assert!(
        next_request_event(&mut bob_stream, Duration::from_secs(2))
            .await
            .is_none(),
        "a change of a hidden project reached a non-member's stream"
    );

    // Every path to the request is a 404 for Bob, with the same words as
    // a request that never was.
    for path in [
        format!("/api/v1/requests/{id}"),
        format!("/api/v1/requests/{id}/plan"),
        format!("/api/v1/requests/{id}/log?kind=plan"),
        format!("/api/v1/audit?request={id}"),
    ] {
        let res = app.get_as(&bob, &path).await;
        assert_eq!(res.status(), 404, "{path}");
    }
    let res = app
        .post_as(&bob, &format!("/api/v1/requests/{id}/approve"), &json!({}))
        .await;
    assert_eq!(res.status(), 404, "approve");
    let body: Value = res.json().await.unwrap();
    assert!(!body.to_string().contains("pay"), "{body}");

    // The list, its counts and search leave it out; Pam's include it.
    let list: Value = app
        .get_as(&bob, &format!("/api/v1/requests?q={id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
    assert_eq!(
        list["counts"]["plan_ready"].as_u64().unwrap_or(0),
        0,
        "{list}"
    );
    let list: Value = app
        .get_as(&pam, &format!("/api/v1/requests?q={id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["counts"]["plan_ready"], 1, "{list}");

    // Asking about it names nothing.
    let ask = |token: String, text: String| {
        let app = &app;
        async move {
            let res = app
                .post_as(&token, "/api/v1/assistant/ask", &json!({"text": text}))
                .await;
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()
        }
    };
    let answer = ask(bob.clone(), format!("status {id}")).await;
    assert!(
        answer["answer"]
            .as_str()
            .unwrap()
            .contains("no live request"),
        "{answer}"
    );
    let answer = ask(pam.clone(), format!("status {id}")).await;
    assert!(
        answer["answer"].as_str().unwrap().contains("plan_ready"),
        "{answer}"
    );

    // The project itself: absent from Bob's list, a 404 to read.
    let projects: Value = app
        .get_as(&bob, "/api/v1/projects")
        .await
        .json()
        .await
        .unwrap();
    assert!(!projects.to_string().contains("\"pay\""), "{projects}");
    assert_eq!(app.get_as(&bob, "/api/v1/projects/pay").await.status(), 404);

    // Bob cannot file there: the project is as unknown as one never made.
    let file = |project: &'static str| {
        let (app, bob) = (&app, bob.clone());
        async move {
            let res = app
                .post_as(
                    &bob,
                    "/api/v1/requests",
                    &json!({"project": project, "environment": "dev", "module": "sqs-queue",
                            "config": {"name": "sneaky"}}),
                )
                .await;
            (res.status(), res.json::<Value>().await.unwrap())
        }
    };
    let (hidden, said) = file("pay").await;
    let (unknown, never) = file("nowhere").await;
    assert_eq!(hidden, unknown, "{said} / {never}");
    assert!(hidden.is_client_error(), "{said}");
    assert_eq!(said["error"]["field"], "project", "{said}");
    assert_eq!(
        said["error"]["message"]
            .as_str()
            .unwrap()
            .replace("pay", "nowhere"),
        never["error"]["message"].as_str().unwrap(),
    );

    // Its page, to a signed-in non-member, is the not-found page.
    let cookie = app.signed_in("bea", Role::Approver).await;
    let (status, page) = app.page_as(&cookie, &format!("/requests/{id}")).await;
    let never = "01m0000000000000";
    let (never_status, never_page) = app.page_as(&cookie, &format!("/requests/{never}")).await;
    // The same status and sentence as a request that never was.
    assert_eq!((status, never_status), (404, 404));
    assert!(
        !page.contains("ledger-events") && !page.contains("Payments"),
        "{page}"
    );
    assert!(
        page.contains(&format!("request {id} does not exist")),
        "{page}"
    );
    assert!(
        never_page.contains(&format!("request {never} does not exist")),
        "{never_page}"
    );

    // The project's own page is as absent as a project that never was,
    // while a global admin gets both pages.
    let (status, page) = app.page_as(&cookie, "/admin/projects/pay").await;
    assert_eq!(status, 404, "{page}");
    assert!(!page.contains("Payments"), "{page}");
    assert_eq!(app.page_as(&cookie, "/admin/projects/nowhere").await.0, 404);
    let ada = app.signed_in("ada", Role::Admin).await;
    let (status, page) = app.page_as(&ada, &format!("/requests/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("ledger-events"), "{page}");
    assert_eq!(app.page_as(&ada, "/admin/projects/pay").await.0, 200);

    // A global admin sees it like any project.
    assert_eq!(
        app.get_as(&admin, &format!("/api/v1/requests/{id}"))
            .await
            .status(),
        200
    );
}
