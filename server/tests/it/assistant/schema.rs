//! The answer's schema, made from the registry, is valid JSON Schema, is in
//! the strict form, and says what the domain checks.

use crate::support::model::strict_violation;
use crate::support::root;
use app::domain::registry::Registry;
use serde_json::json;
use server::assistant::schema::{answer_schema, instructions};

fn registry() -> Registry {
    let path = root().join("modules-registry.toml");
    let text = std::fs::read_to_string(&path).expect("the registry");
    Registry::from_toml(path.to_str().expect("a path"), &text).expect("it loads")
}

#[test]
fn the_schema_is_valid_json_schema_in_strict_form() {
    let registry = registry();
    let schema = answer_schema(&registry, None);
    jsonschema::meta::validate(&schema).expect("a valid JSON Schema");
    assert_eq!(strict_violation(&schema, "#"), None);
    let types: Vec<&str> = schema["properties"]["module"]["enum"]
        .as_array()
        .expect("module is an enum")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let want: Vec<&str> = registry.modules.keys().map(|k| k.as_str()).collect();
    assert_eq!(types, want);
    let validator = jsonschema::validator_for(&schema).expect("compiles");
    let good = json!({"module": "s3-bucket", "inputs": {
        "name": "team-logs", "versioning": true, "expiration_days": 90,
        "force_destroy": null, "tags": [{"key": "team", "value": "data"}],
    }});
    let bucket = registry
        .modules
        .values()
        .find(|m| m.module_type.as_str() == "s3-bucket")
        .expect("s3-bucket");
    let mut inputs = serde_json::Map::new();
    for i in &bucket.inputs {
        inputs.insert(
            i.name.clone(),
            good["inputs"].get(&i.name).cloned().unwrap_or(json!(null)),
        );
    }
    let good = json!({"module": "s3-bucket", "inputs": inputs});
    assert!(
        validator.is_valid(&good),
        "{:?}",
        validator
            .iter_errors(&good)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    let mut wrong_enum = good.clone();
    wrong_enum["module"] = json!("lambda-function");
    assert!(
        !validator.is_valid(&wrong_enum),
        "module is one of the registry's"
    );
    let mut bad_name = good.clone();
    bad_name["inputs"]["name"] = json!("Not A Bucket!");
    assert!(!validator.is_valid(&bad_name), "patterns are in the schema");
    let mut extra = good.clone();
    extra["inputs"]["hcl"] = json!("resource {}");
    assert!(!validator.is_valid(&extra), "no input outside the registry");
}

#[test]
fn each_input_carries_its_rules_and_sensitive_ones_are_left_out() {
    let registry = registry();
    let schema = answer_schema(&registry, None);
    let branches = schema["properties"]["inputs"]["anyOf"]
        .as_array()
        .expect("one per module");
    assert_eq!(branches.len(), registry.modules.len());
    let sqs = branches
        .iter()
        .find(|b| b["title"] == "sqs-queue")
        .expect("sqs-queue");
    let retention = &sqs["properties"]["message_retention_seconds"];
    assert_eq!(retention["type"], json!(["integer", "null"]));
    assert_eq!(retention["minimum"], json!(60.0));
    assert_eq!(retention["maximum"], json!(1209600.0));
    assert_eq!(
        sqs["properties"]["name"]["pattern"],
        "^[a-zA-Z0-9_-]{1,70}$"
    );
    let text = format!("{schema} {}", instructions(&registry, None));
    for m in registry.modules.values() {
        for i in m.inputs.iter().filter(|i| i.sensitive) {
            assert!(!text.contains(&i.name), "sensitive `{}` is sent", i.name);
        }
    }
}
