//! `GET /api/v1/openapi.json`: the API described from the code, then made
//! exact by [`contract`]: every status each operation can answer, every
//! rule the server enforces on its inputs (patterns, lengths, enums,
//! ranges; the configured projects, environments and modules), unique
//! operation ids, and links from the operations that create things to the
//! operations that use them. A request's `config` is described per
//! module from the registry (`inputs.rs`).

mod inputs;
mod integrations;
mod jobs;
mod policies;
mod projects;

use super::AppState;
use super::error::ErrorBody;
use super::{audit, requests, tokens, users};
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "tfpilot", description = "Self-service Terraform requests."),
    paths(
        requests::list,
        requests::create,
        requests::get,
        requests::update,
        requests::act,
        requests::confirm,
        super::reject::reject,
        requests::plan,
        requests::replan,
        requests::log,
        audit::list,
        super::events::stream,
        users::list,
        users::create,
        users::update,
        tokens::list,
        tokens::create,
        tokens::revoke,
        super::webhooks::github,
        super::slack::events,
        super::slack::interactions,
        super::modules::list,
        super::assistant::draft,
        super::ask::ask,
        super::alerts::alertmanager,
        super::jobs::list,
        super::jobs::get,
        super::policies::list,
        super::policies::create,
        super::policies::get,
        super::policies::replace,
        super::policies::delete,
        super::policies::test,
        super::integrations::list,
        super::integrations::get,
        super::integrations::put,
        super::integrations::delete,
        super::integrations::test,
        super::projects::list,
        super::projects::create,
        super::projects::get,
        super::projects::patch,
        super::drift::run,
        super::drift::latest,
        super::drift::adopt,
        super::metrics::serve
    ),
    components(schemas(
        ErrorBody,
        tokens::NewToken,
        users::NewUser,
        users::UserChange,
        requests::ConfirmBody,
        super::reject::RejectBody,
        super::slack::InteractionForm,
        app::api::assistant::AssistantAsk,
        app::api::assistant::AssistantDraft,
        app::api::assistant::Offer,
        app::api::assistant::Source,
        app::domain::config::FieldError,
        crate::service::drift::DriftRun,
        crate::service::drift::DriftState,
        app::domain::drift::DriftChange,
        app::domain::drift::AttrChange
    )),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// What the document enumerates from the running configuration.
pub struct Choices {
    /// Configured project keys.
    pub projects: Vec<String>,
    /// Every environment of any project.
    pub environments: Vec<String>,
    /// Registry module types.
    pub modules: Vec<String>,
    /// The schema of each module's config, by module type.
    pub configs: Vec<(String, Value)>,
}

impl Choices {
    fn of(state: &AppState) -> Self {
        // Projects open to everyone: a members-only project's key is not
        // published to whoever reads the document.
        let snapshot = state.requests.projects().snapshot();
        let open: Vec<_> = snapshot
            .projects
            .values()
            .filter(|p| {
                snapshot.policy.access(p.key.as_str()).visibility
                    == app::domain::policy::Visibility::Open
            })
            .collect();
        let mut environments: Vec<String> = open
            .iter()
            .flat_map(|p| p.environments.iter().map(|e| e.to_string()))
            .collect();
        environments.sort();
        environments.dedup();
        Self {
            projects: open.iter().map(|p| p.key.to_string()).collect(),
            environments,
            modules: state
                .registry
                .modules
                .keys()
                .map(|m| m.to_string())
                .collect(),
            configs: state
                .registry
                .modules
                .iter()
                .map(|(ty, m)| (ty.to_string(), inputs::config_schema(m)))
                .collect(),
        }
    }
}

/// The OpenAPI document for this configuration.
pub fn document(choices: &Choices) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    contract(&mut doc, choices);
    doc
}

/// Serves the document.
pub async fn serve(State(state): State<AppState>) -> Json<Value> {
    Json(document(&Choices::of(&state)))
}

/// A login: `^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$` (see `auth::valid_login`).
pub const LOGIN: &str = "^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$";
/// A request id (16 Crockford base32 characters).
pub const REQUEST_ID: &str = "^[0-9a-hjkmnp-tv-z]{16}$";
/// A token id (12 Crockford base32 characters).
pub const TOKEN_ID: &str = "^[0-9a-hjkmnp-tv-z]{12}$";
/// A token name (see `service::admin::valid_token_name`).
pub const TOKEN_NAME: &str = "^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$";
/// A Slack member id (see `auth::contact::parse_slack_id`).
pub const SLACK_USER_ID: &str = "^[UW][A-Z0-9]{2,20}$";
/// An e-mail address: one `@` with something on each side, no whitespace
/// or control character (see `auth::contact::parse_email`).
pub const EMAIL: &str =
    "^[^@\\s\\u0000-\\u001f\\u007f-\\u009f]+@[^@\\s\\u0000-\\u001f\\u007f-\\u009f]+$";
const ROLES: [&str; 4] = ["viewer", "requester", "approver", "admin"];

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

fn password() -> Value {
    json!({"type": ["string", "null"], "minLength": 12, "maxLength": 1024})
}

fn slack_user_id(what: &str) -> Value {
    json!({"type": ["string", "null"], "pattern": SLACK_USER_ID,
        "description": format!("The Slack member id that acts as this user in Slack; {what}. At most one user holds an id (409 otherwise).")})
}

fn email(what: &str) -> Value {
    json!({"type": ["string", "null"], "pattern": EMAIL, "maxLength": 254,
        "description": format!("Where e-mail notices go; {what}.")})
}

/// Makes the generated document exact (see the module docs).
fn contract(doc: &mut Value, choices: &Choices) {
    let methods = ["get", "put", "post", "delete", "patch"];
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        for method in methods {
            let Some(op) = item.get_mut(method) else {
                continue;
            };
            let secured = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty());
            let has_body = op.get("requestBody").is_some();
            let has_query = op
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let has_path = path.contains('{');
            let mut add = |code: &str, why: &str| {
                let responses = &mut op["responses"];
                if responses.get(code).is_none() {
                    responses[code] = error_response(why);
                }
            };
            if has_body || has_query {
                add(
                    "400",
                    "A malformed body or query parameter; `field` names it",
                );
            }
            if has_body {
                add("413", "The body is over 256 KiB");
            }
            if secured {
                add(
                    "401",
                    "No credentials, or a bad, revoked or expired token or session",
                );
                if method != "get" {
                    add(
                        "403",
                        "Not allowed (`rule` names the rule: `scope.automation` for a token of scope automation anywhere but the alert receiver), or a cookie request without the CSRF token (`csrf`)",
                    );
                } else {
                    add(
                        "403",
                        "A token of scope automation (`scope.automation`): it may only file remediations",
                    );
                }
                add("503", "The store (or git, or the executor) is unavailable");
            }
            if has_path {
                add("404", "No such resource");
            }
            // Unique operation ids, for links and generated clients.
            let id = format!(
                "{method}{}",
                path.trim_start_matches("/api/v1")
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        let s = s.trim_matches(|c| c == '{' || c == '}');
                        let mut c = s.chars();
                        c.next()
                            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                            .unwrap_or_default()
                            .replace('-', "")
                    })
                    .collect::<String>()
            );
            op["operationId"] = json!(id);
            // Path parameters and their rules.
            if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                for p in params.iter_mut() {
                    let name = p["name"].as_str().unwrap_or_default().to_owned();
                    // A query parameter is given or not: never `null`.
                    if p["in"] == "query" {
                        p["required"] = json!(false);
                        if let Some(types) = p["schema"]["type"].as_array() {
                            let first = types.iter().find(|t| *t != "null").cloned();
                            if let Some(t) = first {
                                p["schema"]["type"] = t;
                            }
                        }
                    }
                    let schema = match (p["in"].as_str(), name.as_str()) {
                        (Some("path"), "id") if path.starts_with("/api/v1/tokens") => {
                            json!({"type": "string", "pattern": TOKEN_ID})
                        }
                        (Some("path"), "id") => json!({"type": "string", "pattern": REQUEST_ID}),
                        (Some("path"), "login") => json!({"type": "string", "pattern": LOGIN}),
                        (Some("path"), "key") if path.starts_with("/api/v1/projects") => {
                            json!({"type": "string", "pattern": projects::PROJECT_KEY, "maxLength": 40})
                        }
                        (Some("path"), "name") if path.starts_with("/api/v1/policies") => {
                            json!({"type": "string", "pattern": policies::POLICY_NAME})
                        }
                        (Some("path"), "action") => json!({"type": "string",
                            "enum": ["approve", "merge", "apply", "destroy", "retry", "reapply"],
                            "description": "`plan` has its own operation, POST /api/v1/requests/{id}/plan; `reapply` applies an applied request's current config again on the tip of main, its own block only (reverts drift; the rights of `apply`)"}),
                        (Some("query"), "drift") => {
                            json!({"type": "string", "enum": ["", "yes", "no"]})
                        }
                        (Some("query"), "kind") => {
                            json!({"type": "string", "enum": ["plan", "apply", "destroy"]})
                        }
                        (Some("query"), "status") if path == "/api/v1/requests" => {
                            let mut names: Vec<&str> = vec![""];
                            names.extend(app::domain::status::Status::NAMES);
                            json!({"type": "string", "enum": names})
                        }
                        (Some("query"), "limit") if path == "/api/v1/requests" => {
                            json!({"type": "integer", "minimum": 1, "maximum": 500})
                        }
                        (Some("query"), "cursor") if path == "/api/v1/requests" => {
                            json!({"type": "string", "pattern": REQUEST_ID})
                        }
                        (Some("query"), "after") => {
                            json!({"type": "integer", "minimum": 0, "maximum": u64::MAX})
                        }
                        (Some("query"), "request") => {
                            json!({"type": "string", "pattern": REQUEST_ID})
                        }
                        (Some("query"), "limit") => {
                            json!({"type": "integer", "minimum": 1, "maximum": 1000})
                        }
                        (Some("query"), "cursor") => {
                            json!({"type": "string", "pattern": "^[0-9a-z.-]{1,64}$"})
                        }
                        _ => continue,
                    };
                    p["schema"] = schema;
                }
            }
        }
    }
    // Links: from what creates a thing to what uses it.
    let request_ops = [
        ("GetRequest", "getRequestsId"),
        ("UpdateRequest", "patchRequestsId"),
        ("ActOnRequest", "postRequestsIdAction"),
        ("PlanOfRequest", "getRequestsIdPlan"),
        ("ReplanRequest", "postRequestsIdPlan"),
        ("LogOfRequest", "getRequestsIdLog"),
        ("ConfirmRequest", "postRequestsIdConfirm"),
        ("AuditOfRequest", "getAudit"),
    ];
    let links: serde_json::Map<String, Value> = request_ops
        .iter()
        .map(|(name, op)| {
            let param = if *op == "getAudit" { "request" } else { "id" };
            (
                (*name).to_owned(),
                json!({"operationId": op, "parameters": {param: "$response.body#/request/id"}}),
            )
        })
        .collect();
    doc["paths"]["/api/v1/requests"]["post"]["responses"]["201"]["links"] = Value::Object(links);
    doc["paths"]["/api/v1/tokens"]["post"]["responses"]["201"]["links"] = json!({
        "RevokeToken": {"operationId": "deleteTokensId", "parameters": {"id": "$response.body#/record/id"}}
    });
    doc["paths"]["/api/v1/users"]["post"]["responses"]["201"]["links"] = json!({
        "ChangeUser": {"operationId": "patchUsersLogin", "parameters": {"login": "$response.body#/login"}}
    });
    ask_schemas(doc);
    policies::schemas(doc, &choices.environments);
    integrations::schemas(doc);
    projects::schemas(doc);
    jobs::contract(doc);
    // Bodies and their rules.
    let schemas = &mut doc["components"]["schemas"];
    // One alternative per module: its config follows its inputs.
    let per_module: Vec<Value> = choices
        .configs
        .iter()
        .map(|(module, config)| {
            json!({"properties": {"module": {"const": module}, "config": config}})
        })
        .collect();
    schemas["NewRequest"] = json!({
        "type": "object",
        "description": "A request to file; `config` follows the inputs of `module` (rules across inputs are a 422 naming each field).",
        "required": ["project", "environment", "module", "config"],
        "additionalProperties": false,
        "properties": {
            "project": {"type": "string", "enum": choices.projects, "description": "A configured project"},
            "environment": {"type": "string", "enum": choices.environments, "description": "One of the project's environments"},
            "module": {"type": "string", "enum": choices.modules, "description": "A registry module type"},
            "config": {"type": "object", "description": "Inputs by name"},
            "kind": {"type": "string", "enum": ["create", "adopt"], "default": "create",
                "description": "`create` a new resource, or `adopt` (import) one that already exists. \
                    Adopting needs a module whose registry entry has an `import` table (else 422 naming \
                    the module, field `kind`) and inputs that make an import id that is neither empty \
                    nor spans lines (else 422 naming each input it is made from)"},
        },
        "oneOf": per_module,
    });
    let configs: Vec<&Value> = choices.configs.iter().map(|(_, c)| c).collect();
    schemas["UpdateBody"] = json!({
        "type": "object",
        "required": ["config"],
        "additionalProperties": false,
        "properties": {"config": {
            "description": "The complete new config, following the inputs of the request's module",
            "anyOf": configs,
        }}
    });
    schemas["AssistantAsk"] = json!({
        "type": "object",
        "required": ["text"],
        "additionalProperties": false,
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 4000, "pattern": "\\S",
                "description": "What is needed, in the requester's words (blank or over 4,000 characters: 422)"},
            "project": {"type": ["string", "null"], "enum": nullable(&choices.projects), "description": "A project chosen already"},
            "environment": {"type": ["string", "null"], "enum": nullable(&choices.environments), "description": "An environment chosen already (of `project`, when given)"},
            "module": {"type": ["string", "null"], "enum": nullable(&choices.modules), "description": "A module chosen already: only its inputs are proposed"},
        }
    });
    schemas["ConfirmBody"] = json!({
        "type": "object",
        "required": ["addresses"],
        "additionalProperties": false,
        "properties": {"addresses": {"type": "array", "minItems": 1,
            "items": {"type": "string"}, "description": "Exactly the addresses the blocked run listed"}}
    });
    schemas["NewToken"] = json!({
        "type": "object",
        "required": ["name"],
        "additionalProperties": false,
        "properties": {
            "name": {"type": "string", "pattern": TOKEN_NAME, "description": "A label (`ci`, `slack-bot`)"},
            "user": {"type": ["string", "null"], "pattern": LOGIN, "description": "Owner; default the caller (admins may name anyone)"},
            "scope": {"type": ["string", "null"], "enum": [ROLES[0], ROLES[1], ROLES[2], ROLES[3], "automation", "metrics", null],
                "description": "The most the token may do; default the caller's own scope. `automation` (admins only) files remediations (POST /api/v1/alerts/alertmanager) and nothing else; `metrics` (admins only) reads GET /metrics and nothing else"},
        }
    });
    schemas["NewUser"] = json!({
        "type": "object",
        "required": ["login", "role"],
        "additionalProperties": false,
        "properties": {
            "login": {"type": "string", "pattern": LOGIN},
            "role": {"type": "string", "enum": ROLES},
            "password": password(),
            "slack_user_id": slack_user_id("optional"),
            "email": email("optional"),
        }
    });
    schemas["UserChange"] = json!({
        "type": "object",
        "additionalProperties": false,
        "description": "Absent fields are kept. Only admins change roles, access, Slack ids and e-mail addresses; a user may change their own password from a session.",
        "properties": {
            "role": {"type": ["string", "null"], "enum": [ROLES[0], ROLES[1], ROLES[2], ROLES[3], null]},
            "disabled": {"type": ["boolean", "null"]},
            "password": password(),
            "slack_user_id": slack_user_id("`null` unlinks it (admins only: a user linking their own could claim someone else's Slack account)"),
            "email": email("`null` clears it (admins only)"),
        }
    });
}

/// `values` and `null`, for an optional choice.
fn nullable(values: &[String]) -> Vec<Value> {
    values
        .iter()
        .map(|v| json!(v))
        .chain([Value::Null])
        .collect()
}

/// `POST /api/v1/assistant/ask`: its body and its answer (the wire types
/// are `app::api::ask`'s).
fn ask_schemas(doc: &mut Value) {
    let text = json!({"type": "string", "minLength": 1, "maxLength": app::api::ask::MAX_TEXT,
        "description": "The question in words: what is waiting for my approval?, status of <request id>, what failed in prod this week?, who approved <request id>?, my requests",
        "examples": ["what is waiting for my approval?", "what failed in prod this week?", "my requests"]});
    doc["components"]["schemas"]["AskRequest"] = json!({
        "type": "object",
        "required": ["text"],
        "additionalProperties": false,
        "properties": {"text": text},
    });
    doc["components"]["schemas"]["AskItem"] = json!({
        "type": "object",
        "required": ["id", "title", "status", "link", "detail", "at"],
        "properties": {
            "id": {"type": "string", "pattern": REQUEST_ID},
            "title": {"type": "string"},
            "status": {"type": "string", "enum": app::domain::status::Status::NAMES},
            "link": {"type": "string", "description": "The request page's path, `/requests/<id>`"},
            "detail": {"type": "string", "description": "What the answer says of this request (for who approved: one approval)"},
            "at": {"type": ["string", "null"], "description": "When that happened (RFC 3339)"},
        },
    });
    doc["components"]["schemas"]["AskAnswer"] = json!({
        "type": "object",
        "required": ["answer", "items"],
        "properties": {
            "answer": {"type": "string", "description": "The answer in one sentence"},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/AskItem"}},
        },
    });
    let op = &mut doc["paths"]["/api/v1/assistant/ask"]["post"];
    op["requestBody"]["content"]["application/json"]["schema"] =
        json!({"$ref": "#/components/schemas/AskRequest"});
    op["responses"]["200"]["content"]["application/json"]["schema"] =
        json!({"$ref": "#/components/schemas/AskAnswer"});
}
