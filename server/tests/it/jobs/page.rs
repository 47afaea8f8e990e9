//! The job log page `/jobs`: server-rendered rows newest first, filters
//! in the address, "Older jobs" by the API's cursor, every label escaped,
//! and a sign-in first for a visitor.

use crate::support::TestApp;
use app::domain::jobs::{Job, JobAction, JobAlert, JobStatus};
use app::domain::policy::Role;
use server::store::{ObjectStore, Precondition};
use std::collections::BTreeMap;

const REQUEST: &str = "01kabcdefghjkmnp";

fn job(id: &str, status: JobStatus, policy: Option<&str>, labels: &[(&str, &str)]) -> Job {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Job {
        id: id.into(),
        status,
        alert: JobAlert {
            name: labels.get("alertname").cloned().unwrap_or_default(),
            status: "firing".into(),
            labels,
            fingerprint: format!("fp-{id}"),
            starts_at: "2026-01-01T00:00:00Z".into(),
            ..JobAlert::default()
        },
        policy: policy.map(str::to_owned),
        action: policy.map(|_| JobAction {
            kind: "update_inputs".into(),
            request: Some(REQUEST.into()),
            inputs: [("dlq_max_receive_count".to_owned(), "9".to_owned())].into(),
            auto_approve_environments: vec!["dev".into()],
            ..JobAction::default()
        }),
        request: policy.map(|_| REQUEST.to_owned()),
        attempts: u32::from(policy.is_some()),
        lease: None,
        steps: Default::default(),
        result: Some(match status {
            JobStatus::Succeeded => format!("request {REQUEST} is applied (revision 2)"),
            JobStatus::Failed => "input dlq_max_receive_count must be at most 1000".into(),
            _ => "no policy matched the alert".into(),
        }),
        created_at: "2026-01-01T00:00:05Z".into(),
        updated_at: "2026-01-01T00:01:00Z".into(),
        finished_at: Some("2026-01-01T00:01:00Z".into()),
    }
}

/// The job ids of a page's rows, in order.
fn rows(html: &str) -> Vec<String> {
    html.split("data-job=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// The `href` of the link marked `testid`, unescaped.
fn link(html: &str, testid: &str) -> Option<String> {
    let at = html.find(&format!("data-testid=\"{testid}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..at];
    let href = tag.split("href=\"").nth(1)?.split('"').next()?;
    Some(href.replace("&amp;", "&"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_job_log_page_lists_filters_pages_and_escapes() {
    let app = TestApp::spawn().await;
    let store = app.requests_store();
    let jobs = [
        job(
            "0000000000000001",
            JobStatus::Succeeded,
            Some("raise-receives"),
            &[
                ("alertname", "QueueBacklog"),
                ("tfpilot_request", REQUEST),
                ("team", "<script>alert(1)</script>"),
            ],
        ),
        job(
            "0000000000000002",
            JobStatus::Skipped,
            None,
            &[("alertname", "DiskFull")],
        ),
        job(
            "0000000000000003",
            JobStatus::Failed,
            Some("raise-receives"),
            &[("alertname", "QueueBacklog"), ("tfpilot_request", REQUEST)],
        ),
    ];
    for j in &jobs {
        store
            .put(
                &format!("jobs/{}.json", j.id),
                serde_json::to_vec(j).unwrap().into(),
                Precondition::IfAbsent,
            )
            .await
            .unwrap();
    }

    // A visitor signs in first, and comes back to the filtered page.
    let res = app.get("/jobs?status=failed").await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/login?next=/jobs%3Fstatus%3Dfailed"
    );

    // Every signed-in role reads it, newest first, with the top bar's link.
    let vic = app.signed_in("vic", Role::Viewer).await;
    let (status, html) = app.page_as(&vic, "/jobs").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("href=\"/jobs\">Jobs</a>"), "top bar: {html}");
    assert_eq!(
        rows(&html),
        ["0000000000000003", "0000000000000002", "0000000000000001"]
    );
    assert!(html.contains("no policy matched"), "{html}");
    assert!(html.contains("data-status=\"skipped\""));
    assert!(
        html.contains("data-status=\"failed\" class=\"badge\">failed<"),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"/requests/{REQUEST}\"")));
    assert!(html.contains("update_inputs: dlq_max_receive_count = 9"));
    assert!(html.contains("input dlq_max_receive_count must be at most 1000"));
    assert!(
        html.contains("tfpilot_request="),
        "labels are shown: {html}"
    );
    assert!(html.contains("2026-01-01 00:00"), "timestamps: {html}");
    assert!(
        html.contains("team=&lt;script&gt;alert(1)&lt;/script&gt;"),
        "a label is escaped: {html}"
    );
    assert!(!html.contains("<script>alert(1)"));
    assert!(link(&html, "older-jobs").is_none(), "one page");

    // Filters in the address, as the GET form sends them.
    for (query, want) in [
        ("status=failed", vec!["0000000000000003"]),
        ("status=skipped", vec!["0000000000000002"]),
        (
            "policy=raise-receives",
            vec!["0000000000000003", "0000000000000001"],
        ),
        (
            &format!("request={REQUEST}&status=succeeded&policy=")[..],
            vec!["0000000000000001"],
        ),
        ("policy=nobody", vec![]),
    ] {
        let (status, html) = app.page_as(&vic, &format!("/jobs?{query}")).await;
        assert_eq!(status, 200);
        assert_eq!(rows(&html), want, "{query}");
    }
    let (_, html) = app.page_as(&vic, "/jobs?status=failed").await;
    assert!(
        html.contains("<option value=\"failed\" selected"),
        "the form shows the filter: {html}"
    );

    // Two at a time: "Older jobs" carries the cursor and the filters.
    let (_, first) = app.page_as(&vic, "/jobs?limit=2").await;
    assert_eq!(rows(&first), ["0000000000000003", "0000000000000002"]);
    let older = link(&first, "older-jobs").expect("an older page");
    assert_eq!(older, "/jobs?limit=2&cursor=0000000000000002");
    let (_, second) = app.page_as(&vic, &older).await;
    assert_eq!(rows(&second), ["0000000000000001"]);
    assert!(link(&second, "older-jobs").is_none(), "the last page");
    assert_eq!(
        link(&second, "newest-jobs").as_deref(),
        Some("/jobs?limit=2")
    );

    // A bad filter is a sentence naming it, not an error page.
    let (status, html) = app.page_as(&vic, "/jobs?status=done").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("data-testid=\"jobs-error\"") && html.contains("status must be"),
        "{html}"
    );
}
