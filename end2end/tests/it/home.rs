//! The home page renders on the server, then hydrates and reacts.

use crate::support::Session;
use playwright_rs::protocol::{WaitForOptions, WaitForState};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_renders_on_the_server_and_hydrates() -> anyhow::Result<()> {
    let s = Session::start().await?;
    let response = s.page.goto(&s.url("/"), None).await?.expect("a response");
    assert_eq!(response.status(), 200);
    assert_eq!(s.page.title().await?, "tfpilot");

    // Server-rendered content is there.
    let heading = s.page.locator("h1");
    assert_eq!(
        heading.text_content().await?.as_deref(),
        Some("Self-service Terraform")
    );
    let s3 = s.page.locator("[data-module=s3-bucket] a");
    let s3_title = s3.locator(".title").text_content().await?;
    assert_eq!(s3_title.as_deref(), Some("S3 bucket"));

    // The icon the page links (and the one browsers ask for by default).
    for from in [
        "document.querySelector('link[rel=icon]').href",
        "'/favicon.ico'",
    ] {
        let (status, kind): (u16, String) = s
            .page
            .evaluate(
                &format!(
                    "async () => {{ const r = await fetch({from}); \
                     return [r.status, r.headers.get('content-type') || '']; }}"
                ),
                None::<&()>,
            )
            .await?;
        assert_eq!(status, 200, "{from}");
        assert!(kind.starts_with("image/svg+xml"), "{from}: {kind}");
    }

    // The wasm bundle loads and hydrates the page.
    s.page
        .locator("button.theme[data-ready=true]")
        .wait_for(
            WaitForOptions::builder()
                .state(WaitForState::Attached)
                .timeout(30_000.0)
                .build(),
        )
        .await?;

    // Each card starts a request for its module; signed out, that is a
    // sign-in first, then the page.
    s.page
        .locator("[data-module=sqs-queue] a")
        .click(None)
        .await?;
    s.page
        .locator("form.form")
        .wait_for(
            WaitForOptions::builder()
                .state(WaitForState::Visible)
                .timeout(20_000.0)
                .build(),
        )
        .await?;
    assert!(
        s.page
            .url()
            .ends_with("/login?next=/requests/new%3Fmodule%3Dsqs-queue"),
        "{}",
        s.page.url()
    );
    s.page.go_back(None).await?;

    // The theme switch: dark on, remembered across a reload, off again.
    let theme = s.page.locator("button.theme[data-ready=true]");
    theme.click(None).await?;
    let now = |s: &Session| {
        let page = s.page.clone();
        async move {
            page.evaluate_value("document.documentElement.dataset.theme || ''")
                .await
        }
    };
    let first = now(&s).await?;
    assert!(first == "dark" || first == "light", "{first}");
    s.page.reload(None).await?;
    assert_eq!(now(&s).await?, first, "the choice is remembered");
    s.page
        .locator("button.theme[data-ready=true]")
        .click(None)
        .await?;
    assert_ne!(now(&s).await?, first, "and can be switched back");

    let shot = s.screenshot("home").await?;
    assert!(
        std::fs::metadata(&shot)?.len() > 1_000,
        "screenshot written"
    );
    // The label check behind every screenshot does catch a nameless control.
    s.page
        .evaluate_expression(
            "document.querySelector('main').append(document.createElement('select'))",
        )
        .await?;
    let caught = s.controls_are_labelled().await;
    assert!(
        caught
            .as_ref()
            .is_err_and(|e| e.to_string().contains("<select>")),
        "{caught:?}"
    );
    s.close().await
}
