//! The alert receiver's body and the job log's parameters, exact.

use super::REQUEST_ID;
use serde_json::{Value, json};

/// Makes the alert and job operations exact (the payload's schema,
/// `AlertmanagerWebhook`, is the policies' dry run's).
pub(super) fn contract(doc: &mut Value) {
    if let Some(op) = doc["paths"]["/api/v1/alerts/alertmanager"].get_mut("post") {
        op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema":
            {"$ref": "#/components/schemas/AlertmanagerWebhook"}}}});
    }
    let statuses: Vec<&str> = std::iter::once("")
        .chain(app::domain::jobs::JobStatus::ALL.iter().map(|s| s.as_str()))
        .collect();
    if let Some(params) = doc["paths"]["/api/v1/jobs"]["get"]["parameters"].as_array_mut() {
        for p in params {
            let schema = match p["name"].as_str() {
                Some("status") => json!({"type": "string", "enum": statuses}),
                // An empty `request` (a form's empty field) means any.
                Some("request") => json!({"type": "string",
                    "pattern": format!("^({})?$", REQUEST_ID.trim_start_matches('^').trim_end_matches('$'))}),
                // As empty as a form's field: the first page.
                Some("cursor") => json!({"type": "string",
                    "pattern": format!("^({})?$", REQUEST_ID.trim_start_matches('^').trim_end_matches('$'))}),
                Some("limit") => json!({"type": "integer", "minimum": 1, "maximum": 1000}),
                Some("policy") => json!({"type": "string", "maxLength": 128}),
                _ => continue,
            };
            p["schema"] = schema;
        }
    }
}
