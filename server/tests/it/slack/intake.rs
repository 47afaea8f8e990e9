//! A request from Slack alone: an @mention, the questions in the thread, Submit as the linked user, approval from the channel's buttons, and the thread told each step through to applied.

use super::app::{APPROVALS, SOON, SlackApp, TEAM, button};
use crate::flow::act;
use crate::support::{WAIT, wait_until};
use app::domain::policy::Role;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_goes_from_a_mention_to_applied_from_slack_alone() {
    let s = SlackApp::start(&[]).await;
    let alice = s.person("alice", Role::Requester, Some("U0ALICE")).await;
    s.person("bob", Role::Approver, Some("U0BOB")).await;
    let bob = s.app.token("bob-cli", Role::Approver).await;

    let thread = s
        .mention(
            "U0ALICE",
            "I need an s3 bucket called team-logs in dev with 30 day expiration",
            None,
        )
        .await;
    // It read the module, the environment and two inputs, and asks the next.
    s.wait_in_thread(TEAM, &thread, "S3 bucket in `sandbox/dev`")
        .await;
    s.wait_in_thread(TEAM, &thread, "expiration_days = 30")
        .await;
    s.wait_in_thread(TEAM, &thread, "keep previous versions")
        .await;
    s.reply("U0ALICE", &thread, "defaults for the rest").await;
    let (summary, draft) = s.wait_for_button(TEAM, "tfpilot_submit").await;
    assert_eq!(summary.thread_ts.as_deref(), Some(thread.as_str()));
    let shown = summary.blocks.clone().unwrap_or(Value::Null).to_string();
    assert!(shown.contains("name = team-logs"), "{shown}");
    assert!(shown.contains("tfpilot:begin:"), "the exact block: {shown}");
    assert_eq!(
        button(&summary, "tfpilot_change").as_deref(),
        Some(draft.as_str())
    );

    let res = s
        .click(
            "U0ALICE",
            TEAM,
            &summary.ts,
            Some(&thread),
            "tfpilot_submit",
            &draft,
        )
        .await;
    assert_eq!(res.status(), 200);
    let filed = s.wait_in_thread(TEAM, &thread, "Filed request").await;
    let id = filed
        .text
        .split('`')
        .nth(1)
        .expect("the request id in backticks")
        .to_owned();
    // Filed as the linked user, with the block the summary showed.
    let view = s.app.wait_for_status(&alice, &id, "plan_ready", WAIT).await;
    assert_eq!(view["request"]["created_by"], "alice");
    assert_eq!(view["request"]["config"]["name"], "team-logs");
    assert_eq!(view["request"]["config"]["expiration_days"], 30);
    assert_eq!(view["request"]["origin"]["via"], "slack");
    assert!(
        shown.contains(&id),
        "the summary's block was for {id}: {shown}"
    );
    let done = s.slack.message(TEAM, &summary.ts).expect("the summary");
    assert!(
        button(&done, "tfpilot_submit").is_none(),
        "buttons gone after Submit"
    );

    // The project channel is asked to approve.
    let (ask, value) = s.wait_for_button(APPROVALS, "tfpilot_approve").await;
    assert_eq!(value, id);
    assert!(ask.text.contains(&id));
    let res = s
        .click("U0BOB", APPROVALS, &ask.ts, None, "tfpilot_approve", &id)
        .await;
    assert_eq!(res.status(), 200);
    s.app.wait_for_status(&alice, &id, "approved", SOON).await;
    let updated = wait_until(SOON, "the approval message updated", || async {
        let m = s.slack.message(APPROVALS, &ask.ts).expect("the message");
        let all = m.blocks.clone().unwrap_or(Value::Null).to_string();
        if button(&m, "tfpilot_approve").is_none() && all.contains("Approved by bob") {
            Ok(all)
        } else {
            Err(all)
        }
    })
    .await;
    assert!(updated.contains("Approved by bob"), "{updated}");
    // A second click is told who already acted.
    s.click("U0BOB", APPROVALS, &ask.ts, None, "tfpilot_approve", &id)
        .await;
    s.wait_response("Already approved by bob").await;

    for step in ["merge", "apply"] {
        assert_eq!(act(&s.app, &bob, &id, step).await.status(), 202, "{step}");
    }
    s.app.wait_for_status(&alice, &id, "applied", WAIT).await;
    // The thread heard every step, once, in order.
    let told = wait_until(SOON, "the thread told of applied", || async {
        let texts: Vec<String> = s
            .thread(TEAM, &thread)
            .iter()
            .map(|m| m.text.clone())
            .collect();
        if texts.iter().any(|t| t.starts_with("applied")) {
            Ok(texts)
        } else {
            Err(format!("{texts:?}"))
        }
    })
    .await;
    let steps: Vec<&str> = told
        .iter()
        .filter_map(|t| t.split(" · ").next())
        .filter(|t| {
            [
                "planning",
                "plan ready",
                "approved",
                "merged",
                "applying",
                "applied",
            ]
            .iter()
            .any(|s| t.starts_with(s))
        })
        .collect();
    assert_eq!(
        steps
            .iter()
            .map(|t| t.split([' ', '(']).next().unwrap_or_default())
            .collect::<Vec<_>>(),
        [
            "planning", "plan", "approved", "merged", "applying", "applied"
        ],
        "{told:#?}"
    );
    // Applied is also told in the project channel.
    s.wait_in(APPROVALS, "applied").await;
}
