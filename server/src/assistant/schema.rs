//! What the model is told and the JSON Schema it must answer in, both made
//! from the registry. The schema is in the strict form of OpenAI-compatible
//! servers (every object closes its properties and requires them all; "not
//! said" is `null`): `module` is one of the registry's types, and each
//! module's inputs carry their types, choices, ranges and patterns.
//! Sensitive inputs are left out of both: the model never sees them.

use app::domain::config::Config;
use app::domain::registry::{Input, InputType, Module, Registry};
use serde_json::{Map, Value, json};

/// The name the schema is sent under.
pub const SCHEMA_NAME: &str = "tfpilot_request";

/// The answer's JSON Schema for `registry` (or for `only` one module).
pub fn answer_schema(registry: &Registry, only: Option<&Module>) -> Value {
    let modules: Vec<&Module> = match only {
        Some(m) => vec![m],
        None => registry.modules.values().collect(),
    };
    let mut types: Vec<Value> = modules
        .iter()
        .map(|m| json!(m.module_type.as_str()))
        .collect();
    types.push(Value::Null);
    let inputs: Vec<Value> = modules.iter().map(|m| inputs_schema(m)).collect();
    json!({
        "type": "object",
        "properties": {
            "module": {
                "type": ["string", "null"],
                "enum": types,
                "description": "The catalogue module that fits the request, or null when none fits.",
            },
            "inputs": {
                "anyOf": inputs,
                "description": "The chosen module's inputs; null for every input the request does not state.",
            },
        },
        "required": ["module", "inputs"],
        "additionalProperties": false,
    })
}

fn inputs_schema(module: &Module) -> Value {
    let shown: Vec<&Input> = module.inputs.iter().filter(|i| !i.sensitive).collect();
    let properties: Map<String, Value> = shown
        .iter()
        .map(|i| (i.name.clone(), input_schema(i)))
        .collect();
    json!({
        "type": "object",
        "title": module.module_type.as_str(),
        "properties": properties,
        "required": shown.iter().map(|i| i.name.clone()).collect::<Vec<_>>(),
        "additionalProperties": false,
    })
}

fn input_schema(input: &Input) -> Value {
    let (min, max) = (input.min, input.max);
    let mut s = match input.ty {
        InputType::String => {
            let mut s = bounded(json!({"type": ["string", "null"]}), "Length", min, max);
            if let Some(p) = &input.pattern {
                s["pattern"] = json!(p.as_str());
            }
            s
        }
        InputType::Number => {
            let ty = if input.integer { "integer" } else { "number" };
            let mut s = json!({ "type": [ty, "null"] });
            if let Some(min) = min {
                s["minimum"] = json!(min);
            }
            if let Some(max) = max {
                s["maximum"] = json!(max);
            }
            s
        }
        InputType::Bool => json!({"type": ["boolean", "null"]}),
        InputType::Enum => {
            let mut choices: Vec<Value> = input.values.iter().map(|v| json!(v)).collect();
            choices.push(Value::Null);
            json!({"type": ["string", "null"], "enum": choices})
        }
        InputType::List => {
            let mut item = json!({"type": "string"});
            if let Some(p) = &input.pattern {
                item["pattern"] = json!(p.as_str());
            }
            bounded(
                json!({"type": ["array", "null"], "items": item}),
                "Items",
                min,
                max,
            )
        }
        // A map goes as a list of pairs: the strict form allows no open objects.
        InputType::Map => json!({
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {"key": {"type": "string"}, "value": {"type": "string"}},
                "required": ["key", "value"],
                "additionalProperties": false,
            },
        }),
    };
    s["description"] = json!(input.description);
    s
}

fn bounded(mut schema: Value, what: &str, min: Option<f64>, max: Option<f64>) -> Value {
    if let Some(min) = min {
        schema[format!("min{what}")] = json!(min as u64);
    }
    if let Some(max) = max {
        schema[format!("max{what}")] = json!(max as u64);
    }
    schema
}

/// The model's `inputs` back in the config's shape: nulls dropped, pairs
/// of a map input made a map again, names of sensitive inputs dropped.
pub fn inputs_from_answer(module: Option<&Module>, inputs: &Map<String, Value>) -> Config {
    let mut out = Config::new();
    for (name, value) in inputs {
        let input = module.and_then(|m| m.input(name));
        if value.is_null() || input.is_some_and(|i| i.sensitive) {
            continue;
        }
        let value = match (input.map(|i| i.ty), value) {
            (Some(InputType::Map), Value::Array(pairs)) => Value::Object(
                pairs
                    .iter()
                    .filter_map(|p| {
                        Some((p.get("key")?.as_str()?.to_owned(), p.get("value")?.clone()))
                    })
                    .collect(),
            ),
            _ => value.clone(),
        };
        out.insert(name.clone(), value);
    }
    out
}

/// The system message: the task, the rules and the catalogue (titles,
/// descriptions and the inputs that are not sensitive). No HCL.
pub fn instructions(registry: &Registry, only: Option<&Module>) -> String {
    let mut text = String::from(
        "You help people ask for cloud infrastructure from a fixed catalogue of modules. \
         Read the request, choose the one module that fits (or null when none does) and \
         fill in only the inputs the request states or clearly implies; use null for \
         everything else. Never invent names, never write Terraform or HCL: answer only \
         with JSON in the given schema.\n\nCatalogue:\n",
    );
    for m in registry.modules.values() {
        if only.is_some_and(|o| o.module_type != m.module_type) {
            continue;
        }
        text.push_str(&format!(
            "- {} ({}, {}): {}",
            m.module_type, m.title, m.category, m.description
        ));
        if !m.keywords.is_empty() {
            text.push_str(&format!(" Also asked for as: {}.", m.keywords.join(", ")));
        }
        text.push_str("\n  Inputs:");
        for i in m.inputs.iter().filter(|i| !i.sensitive) {
            text.push_str(&format!(
                "\n  - {} ({}): {}",
                i.name,
                i.ty.as_str(),
                i.description
            ));
        }
        text.push('\n');
    }
    if let Some(m) = only {
        text.push_str(&format!(
            "\nThe requester already chose the module {}.\n",
            m.module_type
        ));
    }
    text
}
