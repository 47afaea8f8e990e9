//! Teams in the browser: the admin creates a project on `/admin/projects`
//! and adds a requester as approver of that project only; that user sees
//! the Approve button on a plan-ready request there and approves it, and
//! not on one in `sandbox`, where the page names the rule instead.

use crate::support::Session;
use anyhow::{Result, ensure};
use serde_json::json;

const ROOT_PW: &str = "root passphrase 2026";
const RITA_PW: &str = "rita passphrase 2026";
const CARL_PW: &str = "carl passphrase 2026";

/// Files an s3-bucket through the API with the browser's session; its id.
async fn file(s: &Session, project: &str, name: &str) -> Result<String> {
    let body = json!({"project": project, "environment": "dev", "module": "s3-bucket",
                      "config": {"name": name}});
    let (status, id): (u16, String) = s
        .page
        .evaluate(
            "async (body) => { const r = await fetch('/api/v1/requests', {method: 'POST', \
             headers: {'content-type': 'application/json'}, body: JSON.stringify(body)}); \
             const j = await r.json(); return [r.status, (j.request && j.request.id) || JSON.stringify(j)]; }",
            Some(&body),
        )
        .await?;
    ensure!(
        status == 201,
        "POST /api/v1/requests in {project}: {status} {id}"
    );
    Ok(id)
}

/// Polls the request until its status is `want`.
async fn wait_for(s: &Session, id: &str, want: &str) -> Result<()> {
    let mut seen = serde_json::Value::Null;
    for _ in 0..240 {
        seen = s.stored(id).await?["status"].clone();
        if seen == want {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    anyhow::bail!("request {id} never reached {want}; it is {seen}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_approver_approves_there_and_not_elsewhere() -> Result<()> {
    let s = Session::start().await?;
    s.first_admin("root", ROOT_PW).await?;
    s.add_user("rita", "requester", RITA_PW).await?;
    s.add_user("carl", "requester", CARL_PW).await?;

    // The admin creates the project and makes carl its approver.
    s.goto("/admin/projects").await?;
    s.visible("tr[data-project=sandbox] [data-testid=managed]")
        .await?;
    let new = s.page.locator("form[data-testid=new-project]");
    new.locator("input[name=key]")
        .fill("payments", None)
        .await?;
    new.locator("input[name=title]")
        .fill("Payments", None)
        .await?;
    new.locator("input[name=environments]")
        .fill("dev, prod", None)
        .await?;
    new.locator("button[type=submit]").click(None).await?;
    s.visible("[data-testid=done]").await?;
    ensure!(
        s.page.url().contains("/admin/projects/payments"),
        "the new project opens: {}",
        s.page.url()
    );
    let add = s.page.locator("form[data-testid=add-member]");
    add.locator("input[name=login]").fill("carl", None).await?;
    add.locator("select[name=role]")
        .select_option("approver", None)
        .await?;
    add.locator("button[type=submit]").click(None).await?;
    s.visible("tr[data-member=carl]").await?;
    s.screenshot("project-members").await?;

    // rita files one request in each project.
    s.sign_in("rita", RITA_PW).await?;
    let here = file(&s, "payments", "e2e-payments-logs").await?;
    let there = file(&s, "sandbox", "e2e-sandbox-logs").await?;
    wait_for(&s, &here, "plan_ready").await?;
    wait_for(&s, &there, "plan_ready").await?;

    // carl approves in payments, not in sandbox.
    s.sign_in("carl", CARL_PW).await?;
    s.open(&format!("/requests/{there}"), ".actions").await?;
    ensure!(
        s.page
            .locator(".actions button[data-action=approve]")
            .count()
            .await?
            == 0,
        "no Approve button in sandbox"
    );
    s.visible("[data-testid=forbidden] li[data-action=approve]")
        .await?;
    s.open(&format!("/requests/{here}"), ".actions").await?;
    s.page
        .locator(".actions button[data-action=approve]")
        .click(None)
        .await?;
    wait_for(&s, &here, "approved").await?;
    s.close().await
}
