//! The whole embedded flow in Chromium: the first admin adds a requester
//! and an approver; the requester files an S3 bucket through the chat; the
//! dashboard follows it live to plan_ready; the plan view shows 1 to add;
//! the requester changes an input through the resumed chat (revision 2,
//! planned again); the approver approves, merges and applies; a prod approval is refused
//! with its reason; destroy; dashboard filters round-trip through the URL.

use crate::support::Session;
use anyhow::{Context, Result, ensure};

const ROOT_PW: &str = "root passphrase 2026";
const RITA_PW: &str = "rita passphrase 2026";
const AMY_PW: &str = "amy passphrase 2026";

/// Files an s3-bucket in `env` through the chat; returns the request id.
async fn file_bucket(s: &Session, env: &str, sentence: &str, shot: Option<&str>) -> Result<String> {
    s.open(
        &format!("/requests/new?project=sandbox&environment={env}&module=s3-bucket"),
        ".composer-grid",
    )
    .await?;
    s.say(sentence).await?;
    for answer in ["no", "aes256", "skip", "team=e2e"] {
        s.say(answer).await?;
    }
    let preview = s.page.locator("[data-testid=preview]");
    s.visible("[data-testid=preview]").await?;
    let block = preview.text_content().await?.unwrap_or_default();
    ensure!(
        block.contains("# --- tfpilot:begin:"),
        "the preview is the block: {block}"
    );
    if let Some(name) = shot {
        s.screenshot(name).await?;
    }
    s.submit_request().await
}

async fn status(s: &Session) -> Result<String> {
    Ok(s.page
        .locator("[data-testid=status]")
        .text_content()
        .await?
        .unwrap_or_default())
}

/// Reloads the request page until its status reads `want`.
async fn wait_status(s: &Session, id: &str, want: &str) -> Result<()> {
    // The page also reloads itself when the status changes; a navigation
    // racing ours is retried.
    let mut seen = String::new();
    for _ in 0..120 {
        if s.page
            .goto(&s.url(&format!("/requests/{id}")), None)
            .await
            .is_ok()
            && let Ok(now) = status(s).await
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

async fn click_action(s: &Session, id: &str, action: &str) -> Result<()> {
    if s.open(&format!("/requests/{id}"), ".actions")
        .await
        .is_err()
    {
        s.open(&format!("/requests/{id}"), ".actions").await?;
    }
    s.page
        .locator(format!(".actions button[data-action={action}]"))
        .click(None)
        .await?;
    if action == "destroy" {
        return Ok(()); // it asks first
    }
    outcome(s, action).await
}

/// Waits for the page to reload after an action (or to show its refusal).
async fn outcome(s: &Session, action: &str) -> Result<()> {
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let errors = s.page.locator("[data-testid=action-error]");
        match errors.count().await {
            Ok(0) => {}
            Ok(_) => {
                let text = errors.text_content().await?.unwrap_or_default();
                anyhow::bail!("{action} was refused: {text}");
            }
            // The page is reloading: the action was taken.
            Err(_) => return Ok(()),
        }
        match s
            .page
            .locator("[aria-busy=true], [data-testid=confirm]")
            .count()
            .await
        {
            Ok(0) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
    }
    Ok(())
}

/// "Change inputs" on the request page: the chat resumes with the stored
/// answers; one is changed in the chat, a bad value in the form view is
/// refused next to its field, and the new revision is planned again.
async fn change_retention(s: &Session, id: &str) -> Result<()> {
    s.open(&format!("/requests/{id}"), ".actions").await?;
    s.page
        .locator(".actions a:text-is('Change inputs')")
        .click(None)
        .await?;
    s.visible(".composer-grid[data-ready=true]").await?;
    let retention = s.page.locator("[data-input=expiration_days] span");
    ensure!(
        retention.text_content().await?.as_deref() == Some("90"),
        "the stored answer is shown"
    );
    s.page
        .locator("[data-change=expiration_days]")
        .click(None)
        .await?;
    s.say("2 months").await?;
    for _ in 0..50 {
        if retention.text_content().await?.as_deref() == Some("60") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let now = retention.text_content().await?.unwrap_or_default();
    ensure!(now == "60", "2 months is 60 days, got {now}");

    // The form view: a word where a number belongs is refused at the field.
    s.page
        .locator("button:text-is('Show as a form')")
        .click(None)
        .await?;
    let field = s.page.locator("#field-expiration_days");
    field.fill("soon", None).await?;
    field.press("Tab", None).await?;
    s.visible("#field-expiration_days-error:not(:empty)")
        .await?;
    s.screenshot("change-request").await?;
    field.fill("60", None).await?;
    field.press("Tab", None).await?;
    s.visible("[data-testid=preview]:has-text('expiration_days = 60')")
        .await
        .context("the preview follows the change")?;
    s.page.locator("[data-testid=submit]").click(None).await?;
    s.page
        .wait_for_url(&format!("**/requests/{id}"), None)
        .await?;
    let revision = s
        .page
        .locator("[data-testid=revision]")
        .text_content()
        .await?;
    ensure!(
        revision.as_deref() == Some("2"),
        "revision 2, got {revision:?}"
    );
    wait_status(s, id, "plan ready").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_from_chat_to_destroy_in_the_browser() -> Result<()> {
    let s = Session::start_with(&[("TFPILOT_PROD_ALLOWED_USERS", "pat")]).await?;
    s.first_admin("root", ROOT_PW).await?;
    s.add_user("rita", "requester", RITA_PW).await?;
    s.add_user("amy", "approver", AMY_PW).await?;

    // The requester files a dev bucket through the chat.
    s.sign_in("rita", RITA_PW).await?;
    let id = file_bucket(
        &s,
        "dev",
        "a versioned bucket called e2e-logs with 90 day retention",
        Some("new-request"),
    )
    .await?;

    // The dashboard follows it live, without a reload.
    s.open("/requests", ".live-state").await?;
    s.visible(".live-state[data-live=true]").await?;
    s.page
        .evaluate_expression("window.__same_page = 'yes'")
        .await?;
    let row = format!("tr[data-id='{id}']");
    s.visible(&row).await?;
    s.visible(&format!("{row}[data-status=plan_ready]")).await?;
    let same = s.page.evaluate_value("window.__same_page").await?;
    ensure!(
        same == "yes",
        "the dashboard updated in place, not by a reload"
    );
    s.screenshot("dashboard").await?;

    // The plan view: one resource to add.
    s.open(&format!("/requests/{id}"), ".actions").await?;
    let add = s
        .page
        .locator("[data-testid=plan-add]")
        .text_content()
        .await?;
    ensure!(add.as_deref() == Some("1"), "1 to add, got {add:?}");
    s.screenshot("request-plan").await?;

    // The requester changes an input: the chat resumes with her answers.
    change_retention(&s, &id).await?;

    // The approver approves, merges and applies.
    s.sign_in("amy", AMY_PW).await?;
    click_action(&s, &id, "approve").await?;
    wait_status(&s, &id, "approved").await?;
    click_action(&s, &id, "merge").await?;
    wait_status(&s, &id, "merged").await?;
    click_action(&s, &id, "apply").await?;
    wait_status(&s, &id, "applied").await?;

    // A prod request: amy is not on the prod allow-list; the page says so.
    s.sign_in("rita", RITA_PW).await?;
    let prod = file_bucket(
        &s,
        "prod",
        "a versioned bucket called e2e-prod-logs, 30 days retention",
        None,
    )
    .await?;
    s.sign_in("amy", AMY_PW).await?;
    wait_status(&s, &prod, "plan ready").await?;
    s.open(&format!("/requests/{prod}"), ".actions").await?;
    let reason = s
        .page
        .locator("[data-testid=forbidden] li[data-action=approve] .reason")
        .text_content()
        .await?
        .unwrap_or_default();
    ensure!(
        reason.contains("allow-list"),
        "the reason is shown: {reason}"
    );
    s.screenshot("prod-refused").await?;

    // Destroy the dev bucket, confirming first.
    click_action(&s, &id, "destroy").await?;
    s.visible("[data-testid=confirm]").await?;
    s.page
        .locator("[data-testid=confirm] button.danger")
        .click(None)
        .await?;
    outcome(&s, "destroy").await?;
    wait_status(&s, &id, "destroyed").await?;

    // Filters live in the URL and survive back and reload.
    s.open("/requests", ".live-state").await?;
    s.page
        .locator("form.filters select[name=environment]")
        .select_option("prod", None)
        .await?;
    s.page
        .locator("form.filters button[type=submit]")
        .click(None)
        .await?;
    s.page
        .wait_for_url("**/requests?*environment=prod*", None)
        .await?;
    s.visible(&format!("tr[data-id='{prod}']")).await?;
    ensure!(
        s.page.locator("tbody tr").count().await? == 1,
        "only the prod request"
    );
    s.page.go_back(None).await?;
    s.visible(".live-table").await?;
    ensure!(
        !s.page.url().contains("environment=prod"),
        "back drops the filter"
    );
    let shared = s.url("/requests?environment=prod");
    s.page.goto(&shared, None).await?;
    s.page.reload(None).await?;
    s.visible(&format!("tr[data-id='{prod}']")).await?;
    let selected = s
        .page
        .evaluate_value("document.querySelector('form.filters select[name=environment]').value")
        .await?;
    ensure!(
        selected == "prod",
        "the form shows the shared filter: {selected}"
    );

    // Measured, not asserted: click on a row → first paint of its page.
    let mut paints = Vec::new();
    for _ in 0..5 {
        s.open("/requests", ".live-state").await?;
        s.page
            .locator(format!("tr[data-id='{prod}'] td a").as_str())
            .first()
            .click(None)
            .await?;
        s.visible(".detail").await?;
        let fcp = s
            .page
            .evaluate_value(
                "String(performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1)",
            )
            .await?;
        if let Ok(ms) = fcp.parse::<f64>()
            && ms >= 0.0
        {
            paints.push(ms);
        }
    }
    paints.sort_by(f64::total_cmp);
    if let Some(median) = paints.get(paints.len() / 2) {
        s.record(
            "paint.txt",
            &format!(
                "click → first contentful paint of a request page: median {median:.0} ms of {} (headless Chromium, loopback)",
                paints.len()
            ),
        )?;
    }
    s.close().await
}
