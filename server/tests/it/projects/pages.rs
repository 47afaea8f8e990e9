//! The projects pages: the list with its "managed by config" badge and
//! create form, a project's members managed by plain forms, and the top
//! bar's link for admins and project admins only.

use crate::support::TestApp;
use app::domain::policy::Role;

async fn post_form(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> String {
    let res = app
        .client
        .post(app.url(path))
        .header("cookie", cookie)
        .header("origin", app.url(""))
        .form(form)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 303, "{path}");
    res.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admins_create_projects_and_project_admins_manage_members_in_pages() {
    let app = TestApp::spawn().await;
    let ada = app.signed_in("ada", Role::Admin).await;
    let lea = app.signed_in("lea", Role::Requester).await;
    app.token("carl", Role::Requester).await;

    let (status, html) = app.page_as(&ada, "/admin/projects").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("data-testid=\"managed\""),
        "sandbox is managed by config"
    );
    assert!(html.contains("data-testid=\"new-project\""));
    let (_, html) = app.page_as(&lea, "/requests").await;
    assert!(
        !html.contains("href=\"/admin/projects\""),
        "no link for lea yet"
    );

    let to = post_form(
        &app,
        &ada,
        "/admin/projects",
        &[
            ("key", "payments"),
            ("title", "Payments"),
            ("environments", "dev, prod"),
            ("visibility", "open"),
        ],
    )
    .await;
    assert!(to.starts_with("/admin/projects/payments?done="), "{to}");
    let to = post_form(
        &app,
        &ada,
        "/admin/projects",
        &[("key", "Bad Key"), ("environments", "dev")],
    )
    .await;
    assert!(to.starts_with("/admin/projects?error="), "{to}");
    let to = post_form(
        &app,
        &ada,
        "/admin/projects/payments/members",
        &[("login", "lea"), ("role", "admin")],
    )
    .await;
    assert!(to.contains("done="), "{to}");

    // lea, a project admin, manages the members of payments only.
    let (_, html) = app.page_as(&lea, "/requests").await;
    assert!(
        html.contains("href=\"/admin/projects\""),
        "the link for a project admin"
    );
    let (status, html) = app.page_as(&lea, "/admin/projects/payments").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"add-member\""), "{html}");
    assert!(!html.contains("Save settings"), "settings are for admins");
    let to = post_form(
        &app,
        &lea,
        "/admin/projects/payments/members",
        &[("login", "carl"), ("role", "approver")],
    )
    .await;
    assert!(to.contains("done="), "{to}");
    let (_, html) = app.page_as(&ada, "/admin/projects/payments").await;
    assert!(html.contains("data-member=\"carl\""), "{html}");
    let to = post_form(&app, &lea, "/admin/projects/payments", &[("title", "Mine")]).await;
    assert!(to.contains("error="), "{to}");
    let to = post_form(
        &app,
        &lea,
        "/admin/projects/payments/members/carl/remove",
        &[],
    )
    .await;
    assert!(to.contains("done="), "{to}");
    let (_, html) = app.page_as(&ada, "/admin/projects/payments").await;
    assert!(!html.contains("data-member=\"carl\""));
    let to = post_form(
        &app,
        &ada,
        "/admin/projects/sandbox",
        &[("title", "Renamed")],
    )
    .await;
    assert!(to.contains("error=") && to.contains("tfpilot.toml"), "{to}");
}
