//! The page as Prometheus reads it: the real `promtool check metrics`
//! (Debian's `prometheus` package, `$TFPILOT_TEST_PROMTOOL`) finds no
//! problem and no lint warning in it.

use super::{metrics_token, planned_app, scrape};
use app::domain::policy::Role;
use std::io::Write;
use std::process::{Command, Stdio};

fn promtool() -> String {
    std::env::var("TFPILOT_TEST_PROMTOOL").unwrap_or_else(|_| {
        panic!(
            "TFPILOT_TEST_PROMTOOL is not set: the metrics page is checked by the real promtool \
             (apt-get install prometheus, then export TFPILOT_TEST_PROMTOOL=/usr/bin/promtool); \
             `cargo xtask test` does both"
        )
    })
}

/// `promtool check metrics` over `text`: its exit status and everything
/// it printed.
fn check(text: &str) -> (bool, String) {
    let mut child = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write the page");
    let out = child.wait_with_output().expect("promtool ends");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), printed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn promtool_reads_the_page_without_a_word() {
    let (app, _) = planned_app().await;
    let scraper = metrics_token(&app, "prometheus", Role::Viewer).await;
    // Some answers of other kinds: a 404, a page, an unmatched path.
    app.get_as(&scraper, "/api/v1/requests").await;
    app.get("/healthz").await;
    app.get("/no/such/page").await;
    app.get_as(&scraper, "/api/v1/no-such-endpoint").await;
    app.get("/pkg/no-such-asset.js").await;
    let (status, _, text) = scrape(&app, Some(&scraper)).await;
    assert_eq!(status, 200, "{text}");
    // Paths nothing routes are never labels either.
    assert!(
        !text.contains("no-such") && !text.contains("no/such"),
        "{text}"
    );
    let (ok, printed) = check(&text);
    assert!(ok, "promtool refused the page:\n{printed}\n---\n{text}");
    assert_eq!(printed.trim(), "", "promtool has remarks:\n{printed}");
}

#[test]
fn promtool_is_the_real_one_and_finds_problems() {
    // The check above is only worth something if promtool complains
    // about what it should: a counter without `_total`, a bad line.
    let (ok, printed) = check("# HELP bad_counter x\n# TYPE bad_counter counter\nbad_counter 1\n");
    assert!(
        !ok || printed.contains("_total"),
        "promtool said nothing of a counter without _total: {printed}"
    );
    let (ok, _) = check("this is not { metrics\n");
    assert!(!ok, "promtool accepted garbage");
}
