//! Reading a policy from JSON: every field error at once, each naming the
//! field (`condition.labels.severity`, `action.inputs.max_receive_count`)
//! and the rule.

use super::{
    ActionKind, AlertStatus, Condition, LabelMatch, Remediation, RemediationAction, Template,
};
use crate::domain::config::FieldError;
use crate::domain::ids::{EnvName, ModuleType};
use crate::domain::registry::Registry;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What a policy is checked against.
pub struct Context<'a> {
    /// The module registry (inputs named by an action must exist).
    pub registry: &'a Registry,
    /// Whether an environment is production (never auto-approved).
    pub is_prod: &'a dyn Fn(&str) -> bool,
}

const TOP: [&str; 6] = [
    "name",
    "priority",
    "enabled",
    "condition",
    "action",
    "auto_approve_environments",
];
const MESSAGE_MAX: usize = 1000;

struct Errors(Vec<FieldError>);

impl Errors {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }
}

/// Whether `name` is a valid policy name: 1–63 lowercase letters, digits,
/// `-` or `_`, starting with a letter or digit.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    (1..=63).contains(&name.len())
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Reads and checks a policy; on failure, every field error.
pub fn check(raw: &Value, ctx: &Context<'_>) -> Result<Remediation, Vec<FieldError>> {
    let mut errs = Errors(Vec::new());
    let Some(obj) = raw.as_object() else {
        errs.add("body", "must be a JSON object");
        return Err(errs.0);
    };
    for key in obj.keys().filter(|k| !TOP.contains(&k.as_str())) {
        errs.add(
            key.clone(),
            format!("is not a policy field (fields: {})", TOP.join(", ")),
        );
    }
    let name = match obj.get("name").and_then(Value::as_str) {
        Some("test") => {
            errs.add(
                "name",
                "test is reserved: POST /api/v1/policies/test tries an alert against the policies",
            );
            String::new()
        }
        Some(n) if valid_name(n) => n.to_owned(),
        _ => {
            errs.add("name", "is required: 1 to 63 lowercase letters, digits, - or _, starting with a letter or digit");
            String::new()
        }
    };
    let priority = match obj.get("priority") {
        None => 100,
        Some(v) => match v.as_i64() {
            Some(p) if (0..=1_000_000).contains(&p) => p,
            _ => {
                errs.add(
                    "priority",
                    "must be a whole number from 0 to 1000000 (lower wins)",
                );
                0
            }
        },
    };
    let enabled = match obj.get("enabled") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errs.add("enabled", "must be true or false");
            true
        }
    };
    let condition = condition(obj.get("condition"), &mut errs);
    let action = action(obj.get("action"), ctx, &mut errs);
    let auto = auto_approve(obj.get("auto_approve_environments"), ctx, &mut errs);
    match (errs.0.is_empty(), condition, action) {
        (true, Some(condition), Some(action)) => Ok(Remediation {
            name,
            priority,
            enabled,
            condition,
            action,
            auto_approve_environments: auto,
        }),
        _ => Err(errs.0),
    }
}

fn condition(raw: Option<&Value>, errs: &mut Errors) -> Option<Condition> {
    let Some(obj) = raw.and_then(Value::as_object) else {
        errs.add(
            "condition",
            "is required: an object with `labels` (or `label` and `value`) and `status`",
        );
        return None;
    };
    for key in obj.keys() {
        if !["labels", "label", "value", "status"].contains(&key.as_str()) {
            errs.add(
                format!("condition.{key}"),
                "is not a condition field (fields: labels, label, value, status)",
            );
        }
    }
    let mut labels = BTreeMap::new();
    let mut label =
        |field: String, name: &str, value: Option<&Value>, errs: &mut Errors| match value
            .and_then(Value::as_str)
        {
            Some(v) => match LabelMatch::parse(v) {
                Ok(m) => {
                    labels.insert(name.to_owned(), m);
                }
                Err(e) => errs.add(field, e),
            },
            None => errs.add(
                field,
                "must be text: the exact value, or `=~` and a regular expression",
            ),
        };
    match (obj.get("labels"), obj.get("label")) {
        (Some(Value::Object(map)), None) if !map.is_empty() => {
            for (name, v) in map {
                label(format!("condition.labels.{name}"), name, Some(v), errs);
            }
        }
        (None, Some(Value::String(name))) if !name.is_empty() => {
            label("condition.value".into(), name, obj.get("value"), errs);
        }
        (Some(_), Some(_)) => errs.add(
            "condition",
            "give `labels` or `label` and `value`, not both",
        ),
        (Some(_), None) => errs.add(
            "condition.labels",
            "must be an object of at least one label name → value",
        ),
        _ => errs.add(
            "condition.labels",
            "is required: an object of label name → value (or `label` and `value`)",
        ),
    }
    let status = match obj.get("status").map(|v| v.as_str()) {
        None | Some(Some("firing")) => Some(AlertStatus::Firing),
        Some(Some("resolved")) => Some(AlertStatus::Resolved),
        Some(Some("any")) => None,
        Some(_) => {
            errs.add("condition.status", "must be firing, resolved or any");
            None
        }
    };
    Some(Condition { labels, status })
}

fn template(field: &str, raw: &Value, errs: &mut Errors) -> Option<Template> {
    let text = match raw {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => {
            errs.add(
                field,
                "must be text (with `${label.x}` or `${annotation.x}`), a number or a bool",
            );
            return None;
        }
    };
    Template::parse(&text).map_err(|e| errs.add(field, e)).ok()
}

fn action(raw: Option<&Value>, ctx: &Context<'_>, errs: &mut Errors) -> Option<RemediationAction> {
    let Some(obj) = raw.and_then(Value::as_object) else {
        errs.add(
            "action",
            "is required: an object with `kind` and what it acts on",
        );
        return None;
    };
    for key in obj.keys() {
        if !["kind", "request", "module", "inputs", "message"].contains(&key.as_str()) {
            errs.add(
                format!("action.{key}"),
                "is not an action field (fields: kind, request, module, inputs, message)",
            );
        }
    }
    let kinds = ActionKind::ALL.map(ActionKind::as_str).join(", ");
    let Some(kind) = obj
        .get("kind")
        .and_then(Value::as_str)
        .and_then(ActionKind::parse)
    else {
        errs.add("action.kind", format!("must be one of: {kinds}"));
        return None;
    };
    let request = obj
        .get("request")
        .and_then(|v| template("action.request", v, errs));
    if kind.needs_request() && obj.get("request").is_none() {
        errs.add(
            "action.request",
            format!(
                "is required for {}: the request's id, e.g. `${{label.tfpilot_request}}`",
                kind.as_str()
            ),
        );
    }
    let message = obj
        .get("message")
        .and_then(|v| template("action.message", v, errs));
    if message
        .as_ref()
        .is_some_and(|m| m.as_str().chars().count() > MESSAGE_MAX)
    {
        errs.add(
            "action.message",
            format!("must be at most {MESSAGE_MAX} characters"),
        );
    }
    if kind == ActionKind::Notify && obj.get("message").is_none() {
        errs.add(
            "action.message",
            "is required for notify: what people are told",
        );
    }
    let module = module(obj.get("module"), ctx, errs);
    let inputs = inputs(kind, obj.get("inputs"), module.as_ref(), ctx, errs);
    Some(RemediationAction {
        kind,
        request,
        module: module.map(|m| m.as_str().to_owned()),
        inputs,
        message,
    })
}

fn module(raw: Option<&Value>, ctx: &Context<'_>, errs: &mut Errors) -> Option<ModuleType> {
    let raw = raw?;
    match raw.as_str().and_then(|s| ModuleType::parse(s).ok()) {
        Some(m) if ctx.registry.module(&m).is_some() => Some(m),
        _ => {
            let known: Vec<&str> = ctx
                .registry
                .modules
                .keys()
                .map(ModuleType::as_str)
                .collect();
            errs.add(
                "action.module",
                format!("must be a module of the registry: {}", known.join(", ")),
            );
            None
        }
    }
}

fn inputs(
    kind: ActionKind,
    raw: Option<&Value>,
    module: Option<&ModuleType>,
    ctx: &Context<'_>,
    errs: &mut Errors,
) -> BTreeMap<String, Template> {
    let mut out = BTreeMap::new();
    let map: Map<String, Value> = match (kind, raw) {
        (ActionKind::UpdateInputs, Some(Value::Object(m))) if !m.is_empty() => m.clone(),
        (ActionKind::UpdateInputs, _) => {
            errs.add(
                "action.inputs",
                "is required for update_inputs: an object of input name → new value",
            );
            return out;
        }
        (_, None) => return out,
        (_, Some(_)) => {
            errs.add("action.inputs", "is only for update_inputs");
            return out;
        }
    };
    let modules: Vec<_> = match module.and_then(|m| ctx.registry.module(m)) {
        Some(m) => vec![m],
        None => ctx.registry.modules.values().collect(),
    };
    for (name, v) in &map {
        let field = format!("action.inputs.{name}");
        let found: Vec<_> = modules.iter().filter_map(|m| m.input(name)).collect();
        if found.is_empty() {
            let whose = match module {
                Some(m) => format!("module {}", m.as_str()),
                None => "any module of the registry".into(),
            };
            errs.add(field, format!("is not an input of {whose}"));
            continue;
        }
        if found.iter().all(|i| i.sensitive) {
            errs.add(field, "is sensitive and is never set from an alert");
            continue;
        }
        if found.iter().all(|i| i.immutable) {
            errs.add(
                field,
                "cannot change after creation, so no revision can set it",
            );
            continue;
        }
        if let Some(t) = template(&field, v, errs) {
            out.insert(name.clone(), t);
        }
    }
    out
}

fn auto_approve(raw: Option<&Value>, ctx: &Context<'_>, errs: &mut Errors) -> BTreeSet<String> {
    let field = "auto_approve_environments";
    let mut out = BTreeSet::new();
    let items = match raw {
        None => return out,
        Some(Value::Array(items)) => items,
        Some(_) => {
            errs.add(field, "must be a list of environment names");
            return out;
        }
    };
    for (i, item) in items.iter().enumerate() {
        let at = format!("{field}[{i}]");
        match item.as_str().map(EnvName::parse) {
            Some(Ok(env)) if (ctx.is_prod)(env.as_str()) => errs.add(
                at,
                format!("{} is a production environment: production remediations always wait for a person", env.as_str()),
            ),
            Some(Ok(env)) => {
                out.insert(env.as_str().to_owned());
            }
            _ => errs.add(at, "must be an environment name"),
        }
    }
    out
}
