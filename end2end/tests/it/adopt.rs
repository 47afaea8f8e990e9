//! Adopting an existing resource from the UI: the chat asks new or
//! existing first, the preview carries the import block, the request page
//! says it adopts, its plan shows "1 to import, 0 to add", and it applies.

use crate::support::Session;
use anyhow::{Result, ensure};

const ROOT_PW: &str = "root passphrase 2026";
const RITA_PW: &str = "rita passphrase 2026";
const AMY_PW: &str = "amy passphrase 2026";

async fn text(s: &Session, selector: &str) -> Result<String> {
    Ok(s.page
        .locator(selector)
        .text_content()
        .await?
        .unwrap_or_default())
}

/// Reloads the request page until its status reads `want` (`tries`
/// times, half a second apart).
async fn wait_status(s: &Session, id: &str, want: &str) -> Result<()> {
    wait_status_for(s, id, want, 120).await
}

async fn wait_status_for(s: &Session, id: &str, want: &str, tries: u32) -> Result<()> {
    let mut seen = String::new();
    for _ in 0..tries {
        if s.page
            .goto(&s.url(&format!("/requests/{id}")), None)
            .await
            .is_ok()
            && let Ok(now) = text(s, "[data-testid=status]").await
        {
            if now == want {
                return Ok(());
            }
            seen = now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    anyhow::bail!("request {id} never reached {want}; it is {seen}")
}

/// Takes `action` from the request page until the status reads `then`
/// (the page reloads itself as the request moves on, which can swallow a
/// click: it is clicked again).
async fn act(s: &Session, id: &str, action: &str, then: &str) -> Result<()> {
    let mut last = None;
    for _ in 0..4 {
        s.open(&format!("/requests/{id}"), ".actions[data-ready=true]")
            .await?;
        let button = s
            .page
            .locator(format!(".actions button[data-action={action}]"));
        if button.count().await.unwrap_or(0) > 0 {
            let _ = button.click(None).await;
        }
        // The page reloads itself when the status changes: wait for that
        // without navigating away from the call the click made.
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            if text(s, "[data-testid=status]").await.ok().as_deref() == Some(then) {
                return Ok(());
            }
        }
        match wait_status_for(s, id, then, 20).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                let shown = text(s, ".actions").await.unwrap_or_default();
                last = Some(e.context(format!("the actions read: {shown}")));
            }
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("{action} never led to {then}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_bucket_is_adopted_from_the_ui_and_applied() -> Result<()> {
    let s = Session::start().await?;
    s.first_admin("root", ROOT_PW).await?;
    s.add_user("rita", "requester", RITA_PW).await?;
    s.add_user("amy", "approver", AMY_PW).await?;

    s.sign_in("rita", RITA_PW).await?;
    s.open(
        "/requests/new?project=sandbox&environment=dev&module=s3-bucket",
        ".composer-grid",
    )
    .await?;
    s.visible(".composer-grid[data-ready=true]").await?;
    let first = text(&s, "[data-testid=chat] li:last-child").await?;
    ensure!(
        first.starts_with("Is this a new resource or one that already exists?"),
        "the first question: {first}"
    );
    s.say("it already exists").await?;
    s.say("a versioned bucket called adopted-e2e").await?;
    s.say("defaults").await?;
    s.visible("[data-testid=preview]:has-text('import {')")
        .await?;
    let block = text(&s, "[data-testid=preview]").await?;
    ensure!(
        block.contains("id = \"adopted-e2e\"") && block.contains(".terraform_data.this"),
        "the preview carries the import: {block}"
    );
    s.screenshot("adopt-new-request").await?;
    let id = s.submit_request().await?;

    // The approver's page: an adopt request whose plan creates nothing.
    s.sign_in("amy", AMY_PW).await?;
    wait_status(&s, &id, "plan ready").await?;
    let badge = text(&s, "[data-testid=adopts]").await?;
    ensure!(badge == "adopts an existing resource", "{badge}");
    let counts = text(&s, "[data-testid=plan-counts]").await?;
    ensure!(
        counts.contains("1 to import") && counts.contains("0 to add"),
        "the plan counts: {counts}"
    );
    ensure!(text(&s, "[data-testid=plan-import]").await? == "1");
    ensure!(text(&s, "[data-testid=plan-add]").await? == "0");
    s.visible("[data-testid=plan-adopts]").await?;
    let links = text(&s, ".detail").await?;
    ensure!(
        links.contains("1 to import, 0 to add, 1 to change, 0 to destroy"),
        "the run links say it in Terraform's words"
    );
    s.screenshot("adopt-plan").await?;

    act(&s, &id, "approve", "approved").await?;
    act(&s, &id, "merge", "merged").await?;
    act(&s, &id, "apply", "applied").await?;
    let doc = s.stored(&id).await?;
    ensure!(doc["request"]["kind"] == "adopt", "{doc:#}");
    ensure!(
        doc["request"]["runs"]["apply"]["attempts"][0]["conclusion"] == "success",
        "{doc:#}"
    );
    s.no_console_errors()?;
    s.close().await
}
