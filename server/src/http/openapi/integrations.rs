//! The integrations' schemas: the kinds and names in their paths, and the
//! body of `PUT /api/v1/integrations/{kind}/{name}` — every field of every
//! kind as a string; a field of another kind than the path's is a 422
//! naming it.

use crate::integrations::check::TESTABLE;
use crate::integrations::kinds::KINDS;
use serde_json::{Map, Value, json};

/// An integration's name.
pub const INTEGRATION_NAME: &str = "^[a-z0-9][a-z0-9-]{0,62}$";

/// Path parameter rules and the `Integration` body schema.
pub fn schemas(doc: &mut Value) {
    let kinds: Vec<&str> = KINDS.iter().map(|k| k.as_str()).collect();
    let mut properties = Map::new();
    for kind in KINDS {
        for field in kind.fields() {
            let entry = properties.entry(field.name.to_owned()).or_insert_with(
                || json!({"type": "string", "maxLength": 16384, "description": ""}),
            );
            let what = if field.secret { "secret" } else { "clear" };
            let line = format!(
                "{} ({what}{})",
                kind.as_str(),
                if field.required { ", required" } else { "" }
            );
            let description = entry["description"].as_str().unwrap_or_default();
            let joined = if description.is_empty() {
                format!("Of {line}")
            } else {
                format!("{description}; {line}")
            };
            entry["description"] = json!(joined);
        }
    }
    doc["components"]["schemas"]["Integration"] = json!({
        "type": "object",
        "additionalProperties": false,
        "description": "The fields of the path's kind, as strings. Secret fields are write-only: never returned; left out or empty they keep the stored value.",
        "properties": properties,
    });
    let path = "/api/v1/integrations/{kind}/{name}";
    if let Some(op) = doc["paths"][path].get_mut("put") {
        op["requestBody"] = json!({"required": true, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Integration"}}}});
    }
    let test = "/api/v1/integrations/{kind}/{name}/test";
    for (path, method) in [
        (path, "get"),
        (path, "put"),
        (path, "delete"),
        (test, "post"),
    ] {
        let testable = method == "post";
        let Some(params) = doc["paths"][path][method]
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for p in params.iter_mut() {
            match p["name"].as_str() {
                Some("kind") if testable => {
                    let names: Vec<&str> = TESTABLE.iter().map(|k| k.as_str()).collect();
                    p["schema"] = json!({"type": "string", "enum": names})
                }
                Some("kind") => p["schema"] = json!({"type": "string", "enum": kinds}),
                Some("name") => {
                    p["schema"] = json!({"type": "string", "pattern": INTEGRATION_NAME})
                }
                _ => {}
            }
        }
    }
}
