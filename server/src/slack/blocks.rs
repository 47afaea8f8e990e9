//! Block Kit messages: a draft's summary with Submit / Change, a plan waiting for approval with Approve / Reject, and the same messages once acted on.

use super::wire::actions;
use crate::notify::Notice;
use serde_json::{Value, json};

/// `text` with Slack's three control characters escaped, so user input
/// can never form a mention, link or channel ping.
pub fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

fn context(text: &str) -> Value {
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
}

fn button(label: &str, action_id: &str, value: &str, style: Option<&str>) -> Value {
    let mut b = json!({
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
    });
    if let Some(style) = style {
        b["style"] = json!(style);
    }
    b
}

/// What a draft would file.
pub struct Summary {
    /// The draft id the buttons carry.
    pub draft: String,
    /// `project/environment`.
    pub place: String,
    /// The module's title and type.
    pub module: String,
    /// `input = value` lines (sensitive values hidden).
    pub answers: Vec<String>,
    /// The exact block that would be committed, when it could be rendered.
    pub block: Option<String>,
    /// A note under it (how to link an account).
    pub note: Option<String>,
}

/// The summary message: what would be filed, the block, Submit / Change.
pub fn summary(s: &Summary) -> (String, Value) {
    let text = format!("Ready to file: {} in {}", s.module, s.place);
    let mut blocks = vec![
        section(&format!(
            "*Ready to file:* {} in `{}`",
            esc(&s.module),
            esc(&s.place)
        )),
        section(
            &s.answers
                .iter()
                .map(|a| format!("• {}", esc(a)))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    ];
    if let Some(block) = &s.block {
        // A value's own triple backticks would end the code block early.
        let code = esc(block.trim_end()).replace("```", "`\u{200b}``");
        blocks.push(section(&format!("```{code}```")));
    }
    if let Some(note) = &s.note {
        blocks.push(context(note));
    }
    blocks.push(
        json!({"type": "actions", "block_id": "tfpilot_draft", "elements": [
            button("Submit", actions::SUBMIT, &s.draft, Some("primary")),
            button("Change", actions::CHANGE, &s.draft, None),
        ]}),
    );
    (text, Value::Array(blocks))
}

/// The summary once acted on: the same text, no buttons, and what happened.
pub fn summary_done(s: &Summary, outcome: &str) -> (String, Value) {
    let (text, blocks) = summary(s);
    let mut kept: Vec<Value> = blocks
        .as_array()
        .map(|b| {
            b.iter()
                .filter(|b| b["type"] != "actions")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    kept.push(context(outcome));
    (text, Value::Array(kept))
}

/// The plan-ready message for the project channel: the change in plain
/// words, counts, destroys called out, risk notes, links, and Approve / Reject unless `acted`
/// says who already did what.
pub fn approval(notice: &Notice, acted: Option<&str>) -> (String, Value) {
    let title = format!(
        "Plan ready for {} `{}` in {}/{}",
        notice.module, notice.request, notice.project, notice.environment
    );
    let mut blocks = vec![section(&format!(
        "*{}* — requested by {}",
        esc(&title),
        esc(&notice.requester)
    ))];
    if let Some(words) = &notice.explanation {
        blocks.push(section(&esc(words)));
    }
    if let Some(plan) = notice.plan {
        let import = match plan.import {
            0 => String::new(),
            n => format!("*{n}* to import (adopted, not created), "),
        };
        blocks.push(section(&format!(
            "Plan: {import}*+{}* to add, *~{}* to change, *-{}* to destroy",
            plan.add, plan.change, plan.destroy
        )));
        if plan.destroy > 0 {
            blocks.push(section(&format!(
                ":warning: *This plan destroys {} resource(s).* Read the plan before approving.",
                plan.destroy
            )));
        }
    }
    if !notice.risks.is_empty() {
        blocks.push(section(&format!(
            "*High-risk inputs:*\n{}",
            notice
                .risks
                .iter()
                .map(|r| format!("• {}", esc(r)))
                .collect::<Vec<_>>()
                .join("\n")
        )));
    }
    let mut links = vec![format!("<{}|Open the request>", notice.link)];
    if let Some(pr) = &notice.pr_url {
        links.push(format!("<{pr}|Pull request>"));
    }
    blocks.push(context(&links.join(" · ")));
    match acted {
        Some(outcome) => blocks.push(section(outcome)),
        None => blocks.push(
            json!({"type": "actions", "block_id": "tfpilot_approval", "elements": [
                button("Approve", actions::APPROVE, notice.request.as_str(), Some("primary")),
                button("Reject", actions::REJECT, notice.request.as_str(), Some("danger")),
            ]}),
        ),
    }
    (title, Value::Array(blocks))
}

#[cfg(test)]
mod tests;
