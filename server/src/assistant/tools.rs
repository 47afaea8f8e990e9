//! The read-only tools a model may call to answer a question about
//! platform state in words the chat parser does not know ("anything broken
//! in production lately?"). Each tool is one of the parser's questions;
//! the answer is then made by the same service, as the asking user under
//! the policy. The tools only name what to read: they read nothing
//! themselves and can change nothing.

use app::domain::assistant::intake::{Period, Question};
use serde_json::{Value, json};

/// The request id or its start, as the tools accept it.
const ID: &str = "^[0-9a-zA-Z]{4,26}$";

/// The tools, in the strict function form.
pub fn definitions() -> Value {
    let id = json!({"type": "object", "properties": {
        "id": {"type": "string", "pattern": ID, "description": "The request id, or its first characters"}},
        "required": ["id"], "additionalProperties": false});
    let none =
        json!({"type": "object", "properties": {}, "required": [], "additionalProperties": false});
    let tool = |name: &str, description: &str, parameters: &Value| {
        json!({"type": "function", "function": {
            "name": name, "description": description, "parameters": parameters, "strict": true}})
    };
    json!([
        tool(
            "requests_waiting_for_my_approval",
            "The requests the asking user may approve now.",
            &none
        ),
        tool("my_requests", "The asking user's live requests.", &none),
        tool("request_status", "The status of one request.", &id),
        tool("who_approved", "Who approved one request, and when.", &id),
        tool(
            "failed_requests",
            "Requests whose plan, apply or destroy failed or was blocked recently.",
            &json!({"type": "object", "properties": {
                "environment": {"type": ["string", "null"], "description": "An environment name (prod, dev, …), or null for all"},
                "days": {"type": ["integer", "null"], "minimum": 1, "maximum": 90, "description": "How many days back; null for seven"}},
                "required": ["environment", "days"], "additionalProperties": false}),
        ),
    ])
}

/// The question a call of tool `name` with `arguments` (JSON text) asks;
/// `None` for an unknown tool or arguments that do not fit.
pub fn question(name: &str, arguments: &str) -> Option<Question> {
    let args: Value = serde_json::from_str(arguments).ok()?;
    let id = || {
        args["id"]
            .as_str()
            .filter(|s| (4..=26).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()))
            .map(str::to_lowercase)
    };
    Some(match name {
        "requests_waiting_for_my_approval" => Question::Approvals,
        "my_requests" => Question::Mine,
        "request_status" => Question::Status(id()?),
        "who_approved" => Question::WhoApproved(id()?),
        "failed_requests" => Question::Failed {
            environment: args["environment"].as_str().map(str::to_owned),
            period: match args["days"].as_u64() {
                None => Period::DEFAULT,
                Some(d) => Period::LastDays(d.clamp(1, 90) as u32),
            },
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tool_is_a_question_and_bad_calls_are_none() {
        assert_eq!(question("my_requests", "{}"), Some(Question::Mine));
        assert_eq!(
            question("request_status", r#"{"id": "01JABCD"}"#),
            Some(Question::Status("01jabcd".into()))
        );
        assert_eq!(
            question("failed_requests", r#"{"environment": "prod", "days": 400}"#),
            Some(Question::Failed {
                environment: Some("prod".into()),
                period: Period::LastDays(90)
            })
        );
        assert_eq!(question("request_status", r#"{"id": "../x"}"#), None);
        assert_eq!(question("delete_everything", "{}"), None);
        assert_eq!(question("my_requests", "not json"), None);
        let names: Vec<String> = definitions()
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| t["function"]["name"].to_string())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(names.len(), 5);
    }
}
