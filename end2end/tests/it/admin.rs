//! The first admin from the one-time link, then the admin pages in a real
//! browser: add a user, disable them, create a token (shown once), revoke
//! it — plain forms, no script needed.

use crate::support::Session;
use playwright_rs::protocol::{WaitForOptions, WaitForState};

fn visible(ms: f64) -> WaitForOptions {
    WaitForOptions::builder()
        .state(WaitForState::Visible)
        .timeout(ms)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_admin_adds_a_user_and_manages_tokens() -> anyhow::Result<()> {
    let s = Session::start().await?;
    let token = s
        .setup_token
        .clone()
        .expect("a fresh data dir prints a setup link");
    s.page
        .goto(&s.url(&format!("/setup?token={token}")), None)
        .await?;
    s.screenshot("setup").await?;
    s.submit_credentials("root", "root passphrase 2026").await?;
    s.visible("[data-testid=who]").await?;

    s.goto("/admin/users").await?;
    s.visible("tr[data-login=root]").await?;
    s.add_user("bob", "approver", "bob passphrase 2026").await?;
    let bob = s.page.locator("tr[data-login=bob]");
    let role = bob
        .locator("select[name=role] option[selected]")
        .text_content()
        .await?;
    assert_eq!(role.as_deref(), Some("approver"));
    s.screenshot("admin-users").await?;

    s.visible("[data-testid=done]:has-text('Added bob as approver.')")
        .await?;
    // Disable bob from his row: the page comes back saying so.
    bob.locator("input[name=disabled]").check(None).await?;
    bob.locator("button[type=submit]").click(None).await?;
    s.visible("[data-testid=done]:has-text('Saved bob: approver, disabled.')")
        .await?;

    s.goto("/admin/tokens").await?;
    let create = s.page.locator("form[data-testid=create-token]");
    create.locator("input[name=name]").fill("ci", None).await?;
    create.locator("button[type=submit]").click(None).await?;
    let shown = s.page.locator("[data-testid=new-token]");
    shown.wait_for(visible(20_000.0)).await?;
    let secret = shown.text_content().await?.unwrap_or_default();
    assert!(secret.starts_with("tfp_"), "{secret}");
    let id = secret.split('_').nth(1).unwrap().to_owned();
    let row = s.page.locator(format!("tr[data-token='{id}']"));
    row.wait_for(visible(20_000.0)).await?;
    s.screenshot("admin-tokens").await?;
    row.locator("button.danger").click(None).await?;
    row.locator(".revoked").wait_for(visible(20_000.0)).await?;
    s.visible("[data-testid=done]:has-text('no longer works')")
        .await?;
    assert_eq!(
        s.page.locator("[data-testid=new-token]").count().await?,
        0,
        "the secret is not shown again"
    );
    s.close().await
}
