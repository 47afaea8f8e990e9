//! People in a hurry: one sentence, "Use the defaults for the rest",
//! submit — the defaults end up in the stored config; the default is the
//! filled button on a high-risk question; the dashboard on a 390 px phone
//! shows every row as a card, with no sideways scroll.

use crate::support::Session;
use anyhow::{Context, Result, ensure};
use playwright_rs::protocol::Viewport;
use serde_json::{Value, json};

const ROOT_PW: &str = "root passphrase 2026";

/// Whether a button is drawn filled (a background colour of its own).
async fn filled(s: &Session, selector: &str) -> Result<bool> {
    let background: String = s
        .page
        .evaluate(
            "(sel) => getComputedStyle(document.querySelector(sel)).backgroundColor",
            Some(&selector),
        )
        .await
        .with_context(|| format!("the background of {selector}"))?;
    Ok(background != "rgba(0, 0, 0, 0)" && background != "transparent")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentence_then_the_defaults_for_the_rest_then_submit() -> Result<()> {
    let s = Session::start().await?;
    s.first_admin("root", ROOT_PW).await?;
    s.open(
        "/requests/new?project=sandbox&environment=dev&module=s3-bucket",
        ".composer-grid",
    )
    .await?;
    ensure!(
        !s.page
            .locator("[data-testid=defaults]")
            .is_visible()
            .await?,
        "no defaults to offer before the name is known"
    );
    s.say("a versioned bucket called hurry-logs with 30 day retention")
        .await?;

    // force_destroy is asked: high risk, default no. "No (default)" is the
    // filled button and comes first; "Yes" is not filled.
    let buttons = "[data-testid=quick-replies] button";
    let labels: Vec<String> = s
        .page
        .evaluate(
            "(sel) => [...document.querySelectorAll(sel)].map((b) => b.textContent)",
            Some(&buttons),
        )
        .await?;
    ensure!(labels == ["No (default)", "Yes"], "{labels:?}");
    ensure!(
        filled(&s, &format!("{buttons}:nth-child(1)")).await?,
        "the default is the primary button"
    );
    ensure!(
        !filled(&s, &format!("{buttons}:nth-child(2)")).await?,
        "the high-risk choice is not filled"
    );
    let placeholder = s
        .page
        .locator("#chat-input")
        .get_attribute("placeholder")
        .await?
        .unwrap_or_default();
    ensure!(
        placeholder.contains("Enter for “No (default)”"),
        "{placeholder}"
    );

    // The defaults on offer, high-risk first; submit waits for them.
    s.visible("[data-testid=defaults]").await?;
    let rest: Vec<String> = s
        .page
        .evaluate(
            "() => [...document.querySelectorAll('[data-testid=defaults] li')].map((li) => li.dataset.input)",
            None::<&()>,
        )
        .await?;
    ensure!(
        rest == ["force_destroy", "encryption", "kms_key_arn", "tags"],
        "{rest:?}"
    );
    ensure!(
        s.page.locator("[data-testid=submit]").is_disabled().await?,
        "submit waits for the rest"
    );
    s.screenshot("defaults-offered").await?;

    // One click keeps them all; submit is enabled.
    s.page
        .locator("[data-testid=use-defaults]")
        .click(None)
        .await?;
    s.visible("[data-testid=submit]:not([disabled])").await?;
    s.visible("[data-testid=answers] li[data-input=force_destroy]:has-text('default')")
        .await
        .context("a kept default is listed, with its change button")?;
    s.visible("[data-testid=preview]:has-text('hurry-logs')")
        .await?;
    let newest_in_view: bool = s
        .page
        .evaluate(
            "() => { const c = document.querySelector('[data-testid=chat]'); \
             return c.scrollTop + c.clientHeight >= c.scrollHeight - 2 \
               && c.lastElementChild.textContent.startsWith(\"That's everything\"); }",
            None::<&()>,
        )
        .await?;
    ensure!(newest_in_view, "the chat shows its newest line");
    let id = s.submit_request().await?;

    // The stored config holds the defaults.
    let doc = s.stored(&id).await?;
    let config = &doc["request"]["config"];
    for (name, want) in [
        ("name", json!("hurry-logs")),
        ("versioning", json!(true)),
        ("expiration_days", json!(30)),
        ("force_destroy", json!(false)),
        ("encryption", json!("AES256")),
        ("kms_key_arn", Value::Null),
    ] {
        ensure!(config[name] == want, "{name}: {} in {config}", config[name]);
    }
    ensure!(
        config["tags"]["ManagedBy"] == "tfpilot",
        "computed tags: {config}"
    );
    s.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_on_a_phone_shows_every_status_without_sideways_scroll() -> Result<()> {
    let s = Session::start().await?;
    s.first_admin("root", ROOT_PW).await?;
    // Three requests through the API, with the browser's session.
    for (env, name) in [
        ("dev", "phone-logs"),
        ("prod", "phone-archive-with-a-rather-long-name"),
        ("dev", "phone-tmp"),
    ] {
        let body = json!({
            "project": "sandbox",
            "environment": env,
            "module": "s3-bucket",
            "config": {"name": name},
        });
        let status: u16 = s
            .page
            .evaluate(
                "async (body) => (await fetch('/api/v1/requests', {method: 'POST', \
                 headers: {'content-type': 'application/json'}, body: JSON.stringify(body)})).status",
                Some(&body),
            )
            .await?;
        ensure!(status == 201, "POST /api/v1/requests: {status}");
    }

    s.page
        .set_viewport_size(Viewport {
            width: 390,
            height: 844,
        })
        .await?;
    s.open("/requests", ".live-state").await?;
    s.visible("tbody tr[data-id]:first-child").await?;
    let rows = s.page.locator("tbody tr[data-id]").count().await?;
    ensure!(rows == 3, "three rows, got {rows}");

    // No sideways scroll, and every row's status badge is in view.
    let overflow =
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth";
    let wider: i64 = s.page.evaluate(overflow, None::<&()>).await?;
    ensure!(wider <= 0, "the page is {wider} px wider than the screen");
    let badges: Vec<(String, f64, f64)> = s
        .page
        .evaluate(
            "() => [...document.querySelectorAll('tbody tr[data-id] .badge')].map((b) => { \
               const r = b.getBoundingClientRect(); return [b.textContent, r.left, r.right]; })",
            None::<&()>,
        )
        .await?;
    ensure!(badges.len() == 3, "{badges:?}");
    for (label, left, right) in &badges {
        ensure!(
            !label.is_empty() && *left >= 0.0 && *right <= 390.0,
            "a status out of view: {badges:?}"
        );
    }
    for cell in [
        "td.title",
        "td.env",
        "td.module",
        "td.requester",
        "td.updated",
    ] {
        ensure!(
            s.page
                .locator(format!("tbody tr[data-id] {cell}"))
                .first()
                .is_visible()
                .await?,
            "{cell} is shown on the card"
        );
    }

    // The filters are folded under "Filters" (a <details>, no script).
    let filters = s.page.locator("form.filters");
    ensure!(!filters.is_visible().await?, "the filters start folded");
    s.screenshot("dashboard-phone").await?;
    s.page
        .locator("details.filter-box > summary")
        .click(None)
        .await?;
    ensure!(filters.is_visible().await?, "and unfold");
    let wider: i64 = s.page.evaluate(overflow, None::<&()>).await?;
    ensure!(wider <= 0, "unfolded, the page is {wider} px too wide");

    // Wide again: the filters show without the disclosure.
    s.page
        .set_viewport_size(Viewport {
            width: 1280,
            height: 800,
        })
        .await?;
    s.goto("/requests").await?;
    ensure!(
        s.page.locator("form.filters").is_visible().await?,
        "filters are always shown on a wide screen"
    );
    ensure!(
        !s.page
            .locator("details.filter-box > summary")
            .is_visible()
            .await?,
        "without a disclosure"
    );
    s.close().await
}
