//! The alert receiver's payload and the job log's parameters, exact.

use super::REQUEST_ID;
use serde_json::{Value, json};

/// Makes the alert and job operations exact.
pub(super) fn contract(doc: &mut Value) {
    let text =
        |max: u32| json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": "\\S"});
    let status = json!({"type": "string", "enum": ["firing", "resolved"]});
    let strings = json!({"type": "object", "additionalProperties": {"type": "string"}});
    doc["components"]["schemas"]["AlertmanagerAlert"] = json!({
        "type": "object",
        "required": ["status", "fingerprint", "startsAt"],
        "properties": {
            "status": status,
            "labels": strings,
            "annotations": strings,
            "fingerprint": text(128),
            "startsAt": text(64),
            "endsAt": {"type": ["string", "null"]},
            "generatorURL": {"type": ["string", "null"]},
        },
    });
    doc["components"]["schemas"]["AlertmanagerPayload"] = json!({
        "type": "object",
        "description": "Alertmanager's webhook payload, version 4; other fields are ignored",
        "required": ["version", "groupKey", "status", "alerts"],
        "properties": {
            "version": {"type": "string", "enum": ["4"]},
            "groupKey": {"type": "string"},
            "status": status,
            "receiver": {"type": "string"},
            "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/AlertmanagerAlert"}},
        },
    });
    let statuses: Vec<&str> = std::iter::once("")
        .chain(app::domain::jobs::JobStatus::ALL.iter().map(|s| s.as_str()))
        .collect();
    if let Some(params) = doc["paths"]["/api/v1/jobs"]["get"]["parameters"].as_array_mut() {
        for p in params {
            let schema = match p["name"].as_str() {
                Some("status") => json!({"type": "string", "enum": statuses}),
                Some("request") => json!({"type": "string", "pattern": REQUEST_ID}),
                Some("cursor") => json!({"type": "string", "pattern": REQUEST_ID}),
                Some("limit") => json!({"type": "integer", "minimum": 1, "maximum": 1000}),
                Some("policy") => json!({"type": "string", "maxLength": 128}),
                _ => continue,
            };
            p["schema"] = schema;
        }
    }
}
