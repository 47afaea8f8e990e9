//! Validation returns every field error at once; normalization fills
//! defaults, strips unknown keys and merges computed tags.

use super::*;
use crate::domain::ids::{EnvName, ProjectKey, RequestId};
use crate::domain::registry::Registry;
use serde_json::json;

const REG: &str = r#"
[modules.queue]
title = "Queue"
category = "messaging"
file = "tfpilot.sqs.tf"
source = "../../modules/queue"
template = "module \"{{ block_name }}\" {}"

[[modules.queue.inputs]]
name = "name"
type = "string"
required = true
pattern = "^[a-z-]+$"
example = "orders"
max = 10
immutable = true

[[modules.queue.inputs]]
name = "retention"
type = "number"
integer = true
min = 60
max = 1209600
default = 345600

[[modules.queue.inputs]]
name = "fifo"
type = "bool"
default = false

[[modules.queue.inputs]]
name = "tier"
type = "enum"
values = ["1", "3", "7"]

[[modules.queue.inputs]]
name = "subnets"
type = "list"
pattern = "^subnet-[0-9a-f]+$"
max = 3

[[modules.queue.inputs]]
name = "password"
type = "string"
sensitive = true

[[modules.queue.inputs]]
name = "tags"
type = "map"
default = {}
"#;

fn module() -> Module {
    let reg = Registry::from_toml("t.toml", REG).unwrap();
    reg.modules.into_values().next().unwrap()
}

fn run(raw: serde_json::Value) -> Result<Config, Vec<FieldError>> {
    let id = RequestId::generate(5, 5);
    let project = ProjectKey::parse("payments").unwrap();
    let env = EnvName::parse("dev").unwrap();
    let ctx = Target {
        request_id: &id,
        project: &project,
        environment: &env,
    };
    normalize(&module(), raw.as_object().unwrap(), ctx)
}

#[test]
fn normalization_fills_defaults_strips_unknown_and_merges_tags() {
    let out =
        run(json!({"name": "orders", "unknown": 1, "tags": {"team": "pay", "ManagedBy": "me"}}))
            .unwrap();
    assert_eq!(out["retention"], json!(345600));
    assert_eq!(out["fifo"], json!(false));
    assert_eq!(out["tier"], json!(null));
    assert_eq!(out["subnets"], json!(null));
    assert!(!out.contains_key("unknown"));
    let tags = &out["tags"];
    assert_eq!(tags["team"], "pay");
    assert_eq!(tags["ManagedBy"], "tfpilot", "computed tags win");
    assert_eq!(tags["Project"], "payments");
    assert_eq!(tags["Environment"], "dev");
    assert_eq!(tags["TfPilotRequestId"], RequestId::generate(5, 5).as_str());
}

#[test]
fn every_field_error_comes_at_once() {
    let errs = run(json!({
        "name": "Orders!",
        "retention": 10.5,
        "fifo": "yes",
        "tier": "2",
        "subnets": ["subnet-0a", "nope"],
        "tags": {"k": 1}
    }))
    .unwrap_err();
    let got: Vec<(&str, &str)> = errs
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("name", "must match ^[a-z-]+$"),
            ("retention", "must be a whole number"),
            ("fifo", "must be true or false"),
            ("tier", "must be one of: 1, 3, 7"),
            ("subnets[1]", "must match ^subnet-[0-9a-f]+$"),
            ("tags.k", "must be text"),
        ]
    );
}

#[test]
fn value_rules_table() {
    let m = module();
    let input = |n: &str| m.input(n).unwrap();
    let cases: &[(&str, serde_json::Value, Result<serde_json::Value, &str>)] = &[
        (
            "name",
            json!("abcdefghijk"),
            Err("must have at most 10 characters"),
        ),
        ("name", json!(5), Err("must be text")),
        ("retention", json!(59), Err("must be at least 60")),
        ("retention", json!(1209601), Err("must be at most 1209600")),
        ("retention", json!("600"), Err("must be a number")),
        ("retention", json!(600), Ok(json!(600))),
        ("tier", json!(3), Ok(json!("3"))),
        (
            "subnets",
            json!(["subnet-1", "subnet-2", "subnet-3", "subnet-4"]),
            Err("must have at most 3 items"),
        ),
        (
            "subnets",
            json!("subnet-1"),
            Err("must be a list of text values"),
        ),
        (
            "tags",
            json!({"": "x"}),
            Err("keys must be 1 to 128 characters"),
        ),
        (
            "tags",
            json!([]),
            Err("must be a map of text keys to text values"),
        ),
    ];
    for (name, value, expected) in cases {
        let got = check_value(input(name), value).map_err(|e| e.text);
        assert_eq!(
            got,
            expected.clone().map_err(str::to_owned),
            "{name} = {value}"
        );
    }
}

#[test]
fn required_means_present_and_not_blank() {
    for raw in [json!({}), json!({"name": null}), json!({"name": "  "})] {
        let errs = run(raw.clone()).unwrap_err();
        assert_eq!(
            errs,
            vec![FieldError {
                field: "name".into(),
                message: "is required".into()
            }],
            "{raw}"
        );
    }
}

#[test]
fn immutable_inputs_cannot_change_on_update() {
    let old = run(json!({"name": "orders"})).unwrap();
    let same = run(json!({"name": "orders", "fifo": true})).unwrap();
    assert!(check_update(&module(), &old, &same).is_ok());
    let renamed = run(json!({"name": "payments"})).unwrap();
    let errs = check_update(&module(), &old, &renamed).unwrap_err();
    assert_eq!(errs[0].field, "name");
    assert!(errs[0].message.contains("immutable"));
}

#[test]
fn sensitive_values_are_redacted() {
    let out = run(json!({"name": "orders", "password": "hunter2"})).unwrap();
    let shown = redact(&module(), &out);
    assert_eq!(shown["password"], REDACTED);
    assert_eq!(shown["name"], "orders");
    assert!(!serde_json::to_string(&shown).unwrap().contains("hunter2"));
}

#[test]
fn redacted_sensitive_values_keep_the_stored_ones() {
    let registry = crate::domain::registry::Registry::from_toml(
        "modules-registry.toml",
        include_str!("../../../../modules-registry.toml"),
    )
    .expect("the registry loads");
    let module = registry
        .module(&crate::domain::ids::ModuleType::parse("ecs-service").expect("a type"))
        .expect("ecs-service");
    let current: Config =
        serde_json::json!({"name": "api", "secret_environment": {"DB": "arn:secret"}})
            .as_object()
            .expect("an object")
            .clone();
    let sent = redact(module, &current);
    let kept = keep_redacted(module, &current, &sent);
    assert_eq!(
        kept.get("secret_environment"),
        current.get("secret_environment")
    );
    let mut changed = sent.clone();
    changed.insert(
        "secret_environment".into(),
        serde_json::json!({"DB": "arn:new"}),
    );
    assert_eq!(
        keep_redacted(module, &current, &changed).get("secret_environment"),
        Some(&serde_json::json!({"DB": "arn:new"}))
    );
}

#[test]
fn the_users_answers_leave_out_computed_tags_and_normalize_back() {
    let out = run(json!({"name": "orders", "tags": {"team": "pay"}})).unwrap();
    let answers = user_answers(&module(), &out);
    assert_eq!(answers["tags"], json!({"team": "pay"}));
    assert_eq!(answers["name"], "orders");
    assert_eq!(run(serde_json::Value::Object(answers)).unwrap(), out);
}
