//! The JSON Schema of a module's `config`, written from its registry
//! inputs with the rules `domain::config::check_value` enforces (types,
//! patterns, lengths, ranges, choices), so a config that fits the schema is
//! accepted, rules across inputs aside (those are a 422 naming the field).
//! An optional input may also be `null` or blank: both mean "not given".

use app::domain::registry::{Input, InputType, Module};
use serde_json::{Map, Value, json};

/// The schema of `module`'s config. Unknown keys are dropped by the
/// server, so they are allowed.
pub fn config_schema(module: &Module) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for input in &module.inputs {
        properties.insert(input.name.clone(), input_schema(input));
        if input.required {
            required.push(input.name.clone());
        }
    }
    json!({
        "type": "object",
        "description": format!("The inputs of a {} ({})", module.title, module.module_type),
        "properties": properties,
        "required": required,
    })
}

fn input_schema(input: &Input) -> Value {
    let (min, max) = (input.min, input.max);
    let mut s = match input.ty {
        InputType::String => bounded(json!({"type": "string"}), "Length", min, max),
        InputType::Number => {
            let ty = if input.integer { "integer" } else { "number" };
            let mut s = json!({ "type": ty });
            if let Some(min) = min {
                s["minimum"] = json!(min);
            }
            if let Some(max) = max {
                s["maximum"] = json!(max);
            }
            s
        }
        InputType::Bool => json!({"type": "boolean"}),
        InputType::Enum => {
            // A choice that reads as a number may also be sent as one.
            let mut choices: Vec<Value> = input.values.iter().map(|v| json!(v)).collect();
            choices.extend(
                input
                    .values
                    .iter()
                    .filter_map(|v| v.parse::<i64>().ok())
                    .map(|n| json!(n)),
            );
            json!({ "enum": choices })
        }
        InputType::List => {
            let mut item = json!({"type": "string"});
            if let Some(p) = &input.pattern {
                item["pattern"] = json!(p.as_str());
            }
            bounded(json!({"type": "array", "items": item}), "Items", min, max)
        }
        InputType::Map => bounded(
            json!({
                "type": "object",
                "additionalProperties": {"type": "string"},
                "propertyNames": {"minLength": 1, "maxLength": 128, "pattern": "\\S"},
            }),
            "Properties",
            min,
            max,
        ),
    };
    if input.ty == InputType::String
        && let Some(p) = &input.pattern
    {
        s["pattern"] = json!(p.as_str());
    }
    if !input.description.is_empty() {
        s["description"] = json!(input.description);
    }
    if input.required {
        return s;
    }
    json!({ "anyOf": [s, {"type": "null"}, {"type": "string", "pattern": "^\\s*$"}] })
}

/// `schema` with `min<what>` / `max<what>` (`minLength`, `maxItems`…).
fn bounded(mut schema: Value, what: &str, min: Option<f64>, max: Option<f64>) -> Value {
    if let Some(min) = min {
        schema[format!("min{what}")] = json!(min as u64);
    }
    if let Some(max) = max {
        schema[format!("max{what}")] = json!(max as u64);
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::registry::Registry;

    fn registry() -> Registry {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../modules-registry.toml");
        let text = std::fs::read_to_string(path).unwrap();
        Registry::from_toml(path, &text).unwrap()
    }

    #[test]
    fn each_input_carries_the_rules_the_server_checks() {
        let registry = registry();
        let sqs = registry
            .modules
            .values()
            .find(|m| m.module_type.as_str() == "sqs-queue")
            .unwrap();
        let schema = config_schema(sqs);
        assert_eq!(schema["required"], json!(["name"]));
        let name = &schema["properties"]["name"];
        assert_eq!(name["type"], "string");
        assert_eq!(name["pattern"], "^[a-zA-Z0-9_-]{1,70}$");
        let timeout = &schema["properties"]["visibility_timeout_seconds"]["anyOf"];
        assert_eq!(timeout[0]["type"], "integer");
        assert_eq!(timeout[0]["maximum"], json!(43200.0));
        assert_eq!(
            timeout[1]["type"], "null",
            "an optional input may be left out"
        );
    }
}
