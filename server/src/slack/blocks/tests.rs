//! The messages' shapes: the buttons' action ids and values, escapes, what an acted-on message keeps.

use super::*;
use crate::fixtures::request;
use crate::notify::{NoticeKind, notice};
use app::domain::request::PlanSummary;

fn action_ids(blocks: &Value) -> Vec<(String, String)> {
    blocks
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            (
                e["action_id"].as_str().unwrap_or_default().to_owned(),
                e["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn draft_summary() -> Summary {
    Summary {
        draft: "C1-1700000000-000100".into(),
        place: "sandbox/dev".into(),
        module: "S3 bucket (s3-bucket)".into(),
        answers: vec!["name = <!channel>".into()],
        block: Some("module \"x\" {\n  a = \"```\"\n}\n".into()),
        note: None,
    }
}

#[test]
fn a_summary_offers_submit_and_change_for_its_draft() {
    let (text, blocks) = summary(&draft_summary());
    assert!(text.contains("sandbox/dev"));
    assert_eq!(
        action_ids(&blocks),
        [
            ("tfpilot_submit".into(), "C1-1700000000-000100".into()),
            ("tfpilot_change".into(), "C1-1700000000-000100".into())
        ]
    );
    let all = blocks.to_string();
    assert!(!all.contains("<!channel>"), "user text is escaped: {all}");
    assert!(all.contains("&lt;!channel&gt;"));
    let (_, done) = summary_done(&draft_summary(), "Filed");
    assert!(action_ids(&done).is_empty());
    assert!(done.to_string().contains("Filed"));
}

#[test]
fn an_approval_message_calls_out_destroys_and_risks() {
    let mut doc = request();
    doc.version = 4;
    let mut n = notice(0, NoticeKind::ApprovalNeeded, &doc, "http://t", None);
    n.plan = Some(PlanSummary {
        import: 0,
        add: 1,
        change: 0,
        destroy: 2,
    });
    n.risks = vec!["force_destroy = yes".into()];
    n.pr_url = Some("http://t/pr/1".into());
    n.explanation = Some("Destroys the SQS queue `<!here>` in dev and everything in it.".into());
    let (_, blocks) = approval(&n, None);
    let all = blocks.to_string();
    let words = blocks[1]["text"]["text"].as_str().unwrap_or_default();
    assert_eq!(
        words, "Destroys the SQS queue `&lt;!here&gt;` in dev and everything in it.",
        "the change in words comes right under the title, escaped"
    );
    assert!(all.contains("destroys 2 resource"), "{all}");
    assert!(all.contains("force_destroy = yes"));
    assert!(all.contains("http://t/pr/1") && all.contains(&n.link));
    let id = doc.id.to_string();
    assert_eq!(
        action_ids(&blocks),
        [
            ("tfpilot_approve".to_owned(), id.clone()),
            ("tfpilot_reject".to_owned(), id)
        ]
    );
    let (_, acted) = approval(&n, Some("Approved by bob"));
    assert!(action_ids(&acted).is_empty());
    assert!(acted.to_string().contains("Approved by bob"));
}

#[test]
fn an_approval_message_says_what_is_imported() {
    let doc = request();
    let mut n = notice(0, NoticeKind::ApprovalNeeded, &doc, "http://t", None);
    n.plan = Some(PlanSummary {
        import: 1,
        add: 0,
        change: 1,
        destroy: 0,
    });
    let (_, blocks) = approval(&n, None);
    let all = blocks.to_string();
    assert!(
        all.contains("Plan: *1* to import (adopted, not created), *+0* to add"),
        "{all}"
    );
    n.plan = Some(PlanSummary {
        add: 1,
        ..PlanSummary::default()
    });
    let (_, blocks) = approval(&n, None);
    assert!(!blocks.to_string().contains("to import"));
}
