//! The remediation policies' schemas: the policy (its rules that the
//! schema can state; those that need the registry — an input of some
//! module, not sensitive, not immutable — are a 422 naming the field) and
//! the Alertmanager webhook payload (version 4) that the alert receiver
//! and `POST /api/v1/policies/test` read.

use serde_json::{Value, json};

/// A policy name: 1–63 lowercase letters, digits, `-` or `_`.
pub const POLICY_NAME: &str = "^[a-z0-9][a-z0-9_-]{0,62}$";

fn template(what: &str) -> Value {
    json!({"type": "string", "maxLength": 1000,
        "description": format!("{what}; `${{label.<name>}}` and `${{annotation.<name>}}` are filled in from the alert")})
}

/// The `Policy` and `AlertmanagerWebhook` schemas, and the operations'
/// bodies pointed at them.
pub fn schemas(doc: &mut Value, environments: &[String]) {
    let label_value = json!({"type": "string", "maxLength": 1000,
        "description": "The exact value, or `=~` and a regular expression the whole value must match (an invalid one: 422)"});
    let labels = json!({"type": "object", "minProperties": 1, "additionalProperties": label_value});
    doc["components"]["schemas"]["Policy"] = json!({
        "type": "object",
        "required": ["name", "condition", "action"],
        "additionalProperties": false,
        "description": "A remediation policy. The enabled policy with the lowest priority number whose condition matches an alert runs, one per alert.",
        "properties": {
            "name": {"type": "string", "pattern": POLICY_NAME, "not": {"const": "test"}},
            "priority": {"type": "integer", "minimum": 0, "maximum": 1_000_000, "default": 100},
            "enabled": {"type": "boolean", "default": true},
            "condition": {
                "type": "object",
                "additionalProperties": false,
                "description": "`labels` (every one must match), or the single-label form `label` + `value`",
                "properties": {
                    "labels": labels,
                    "label": {"type": "string", "minLength": 1},
                    "value": label_value,
                    "status": {"type": "string", "enum": ["firing", "resolved", "any"], "default": "firing"},
                },
                "oneOf": [{"required": ["labels"], "not": {"required": ["label"]}},
                          {"required": ["label", "value"], "not": {"required": ["labels"]}}],
            },
            "action": {
                "type": "object",
                "required": ["kind"],
                "additionalProperties": false,
                "properties": {
                    "kind": {"type": "string", "enum": ["update_inputs", "replan", "reapply", "notify"]},
                    "request": template("The request's id (required but for notify)"),
                    "module": {"type": "string", "description": "The request's module: its inputs are checked when the policy is saved"},
                    "inputs": {"type": "object", "minProperties": 1, "additionalProperties": template("The input's new value"),
                        "description": "update_inputs only: input name → new value, read by the input's type and checked by the registry"},
                    "message": template("What people are told (required for notify)"),
                },
            },
            "auto_approve_environments": {"type": "array", "uniqueItems": true,
                "items": {"type": "string", "enum": environments},
                "description": "Where the policy's changes are approved and applied without a person; never a production environment (422)"},
        },
    });
    let text_map = json!({"type": "object", "additionalProperties": {"type": "string"}});
    doc["components"]["schemas"]["AlertmanagerWebhook"] = json!({
        "type": "object",
        "required": ["version", "groupKey", "status", "alerts"],
        "description": "Alertmanager's webhook payload, version 4",
        "properties": {
            "version": {"type": "string", "const": "4"},
            "groupKey": {"type": "string", "minLength": 1},
            "status": {"type": "string", "enum": ["firing", "resolved"]},
            "receiver": {"type": "string"},
            "alerts": {"type": "array", "maxItems": 1000, "items": {
                "type": "object",
                "required": ["status", "labels", "fingerprint", "startsAt"],
                "properties": {
                    "status": {"type": "string", "enum": ["firing", "resolved"]},
                    "labels": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"}},
                    "annotations": text_map,
                    "fingerprint": {"type": "string", "minLength": 1},
                    "startsAt": {"type": "string", "minLength": 1},
                },
            }},
        },
    });
    let body = |schema: &str| json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
    for (path, method, schema) in [
        ("/api/v1/policies", "post", "Policy"),
        ("/api/v1/policies/{name}", "put", "Policy"),
        ("/api/v1/policies/test", "post", "AlertmanagerWebhook"),
    ] {
        if let Some(op) = doc["paths"][path].get_mut(method) {
            op["requestBody"] = body(schema);
        }
    }
}
