//! "Describe what you need" in a browser: one sentence proposes the
//! module and the environment with the reason, the pickers follow it, the
//! chat starts from what was read and asks only the rest, and the filed
//! request holds the value read from the sentence. No model is configured.

use crate::support::Session;
use anyhow::{Context, Result, ensure};

const ROOT_PW: &str = "root passphrase 2026";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentence_proposes_the_request_and_the_chat_asks_the_rest() -> Result<()> {
    let s = Session::start().await?;
    s.first_admin("root", ROOT_PW).await?;
    s.goto("/requests/new").await?;
    s.page
        .locator("#describe")
        .fill(
            "somewhere to drop our nightly Postgres dumps for 90 days, in dev",
            None,
        )
        .await?;
    s.page.locator("form.describe button").click(None).await?;
    s.visible(".proposal[data-source=rules]").await?;
    s.visible(".composer-grid[data-ready=true]")
        .await
        .context("the chat starts under the proposal")?;
    let reason = s.page.locator(".proposal .reason").text_content().await?;
    ensure!(
        reason
            .as_deref()
            .unwrap_or_default()
            .contains("dumps → S3 bucket"),
        "{reason:?}"
    );
    let module = s
        .page
        .locator("input[name=module][value=s3-bucket]")
        .is_checked()
        .await?;
    ensure!(module, "the module picker follows the proposal");
    let dev = s
        .page
        .locator("input[name=environment][value=dev]")
        .is_checked()
        .await?;
    ensure!(dev, "the environment picker follows the proposal");
    s.visible("[data-testid=chat] li:has-text('From your description: expiration_days = 90')")
        .await?;
    s.screenshot("describe").await?;

    s.say("pg-dumps").await?;
    s.page
        .locator("[data-testid=use-defaults]")
        .click(None)
        .await?;
    s.visible("[data-testid=submit]:not([disabled])").await?;
    let id = s.submit_request().await?;
    let doc = s.stored(&id).await?;
    let config = &doc["request"]["config"];
    ensure!(config["name"] == "pg-dumps", "{config}");
    ensure!(config["expiration_days"] == 90, "{config}");
    ensure!(doc["request"]["environment"] == "dev", "{doc}");
    s.no_console_errors()?;
    s.close().await
}
