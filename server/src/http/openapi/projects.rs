//! The projects' bodies: what `POST /api/v1/projects` creates and
//! `PATCH /api/v1/projects/{key}` changes. Rules the schema cannot state
//! (a member who is no user, a repo the mode does not allow, a setting
//! `tfpilot.toml` owns) are a 422 or 409 naming the field.

use serde_json::{Value, json};

/// A project key: 1–40 lowercase letters, digits and single dashes,
/// starting with a letter.
pub const PROJECT_KEY: &str = "^[a-z](-?[a-z0-9])*$";

fn settings(create: bool) -> Value {
    let env = json!({"type": "string", "pattern": "^[a-z](-?[a-z0-9])*$", "maxLength": 20});
    let logins = |what: &str| {
        json!({"type": ["array", "null"], "maxItems": 500,
            "items": {"type": "string", "minLength": 1, "maxLength": 64}, "description": what})
    };
    json!({
        "key": {"type": "string", "pattern": PROJECT_KEY, "minLength": 1, "maxLength": 40,
            "description": if create { "Unique (taken: 409 naming `key`; invalid: 422 naming `key`)" } else { "The path's key, if given (a key never changes: 422)" }},
        "title": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S",
            "description": "Display name (default: the key)"},
        "repo": {"type": ["string", "null"], "maxLength": 201,
            "description": "`owner/name` of the infra repo on GitHub: required with GitHub, empty or null in the embedded mode (each project gets a local repo from the template at once); 422 otherwise"},
        "environments": {"type": "array", "minItems": 1, "maxItems": 20, "uniqueItems": true, "items": env,
            "description": if create { "Required, in display order" } else { "In display order; drift schedules of removed environments go" }},
        "default_branch": {"type": "string", "minLength": 1, "maxLength": 100,
            "description": "With GitHub, the branch requests merge into (default main); local repos always use main (422 otherwise)"},
        "slack_channel": {"type": ["string", "null"], "maxLength": 81,
            "description": "Channel id (C0123ABCD) or #name for the project's notices; null: the deployment's"},
        "executor": {"type": "string", "enum": ["local", "actions", "tfc"],
            "description": "The mode's executor (`local` or `actions`: the same thing); `tfc` is refused here (422): HCP Terraform projects are set up in tfpilot.toml"},
        "drift_schedule": {"type": ["string", "object", "null"], "additionalProperties": {"type": "string"},
            "description": "`every <n>m|h|d` for every environment, an object of environment → schedule, or null for none (422 naming the field otherwise)"},
        "visibility": {"type": "string", "enum": ["open", "members"],
            "description": "`open`: everyone signed in (non-members at their global role); `members`: members and admins only — to anyone else the project is 404"},
        "members": {"type": "object", "maxProperties": 500,
            "additionalProperties": {"type": ["string", "null"], "enum": ["viewer", "requester", "approver", "admin", null]},
            "description": "Login → role in this project (`admin`: a project admin, who manages the members); null removes. Each login must be a user (422 naming `members.<login>`)"},
        "prod_allowed_users": logins("Who may approve, merge and apply in this project's production environments; null: TFPILOT_PROD_ALLOWED_USERS"),
        "destroy_prod_allowed_users": logins("Who may destroy in this project's production environments; null: TFPILOT_DESTROY_PROD_ALLOWED_USERS"),
    })
}

/// The `NewProject`, `ProjectChange` and `Project` schemas and the
/// operations' bodies.
pub fn schemas(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    schemas["NewProject"] = json!({
        "type": "object",
        "required": ["key", "environments"],
        "additionalProperties": false,
        "description": "A new project (admins). An unknown field is a 422 naming it.",
        "properties": settings(true),
    });
    schemas["ProjectChange"] = json!({
        "type": "object",
        "additionalProperties": false,
        "description": "The fields to change. Admins change anything; a project admin only `members` (403 `projects.admin` otherwise). A project managed by tfpilot.toml refuses a new value of title, repo, environments, default_branch, slack_channel, executor or drift_schedule (409 naming the field).",
        "properties": settings(false),
    });
    let body = |schema: &str| json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
    for (path, method, schema) in [
        ("/api/v1/projects", "post", "NewProject"),
        ("/api/v1/projects/{key}", "patch", "ProjectChange"),
    ] {
        if let Some(op) = doc["paths"][path].get_mut(method) {
            op["requestBody"] = body(schema);
        }
    }
}
