//! The loader refuses every kind of broken registry, naming line, module
//! and field.

use super::*;

pub(super) const GOOD: &str = r#"
[modules.s3-bucket]
title = "S3 bucket"
description = "A bucket."
category = "storage"
file = "tfpilot.s3.tf"
source = "../../modules/s3-bucket"
template = """
module "{{ block_name }}" {
  source = {{ source | hcl }}

  name = {{ config.name | hcl }}
  tags = {{ config.tags | hcl }}
}
"""

[[modules.s3-bucket.inputs]]
name = "name"
type = "string"
required = true
pattern = "^[a-z0-9-]{3,63}$"
example = "logs-archive"
question = "What should the bucket be called?"

[[modules.s3-bucket.inputs]]
name = "tags"
type = "map"
default = {}
"#;

fn errors(text: &str) -> Vec<RegistryError> {
    Registry::from_toml("reg.toml", text).expect_err("should be refused")
}

fn one_error(text: &str) -> RegistryError {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    errs.into_iter().next().unwrap()
}

/// The one error loading `text` gives (for the other test files).
pub(super) fn one_error_of(text: &str) -> RegistryError {
    one_error(text)
}

/// The 1-based line of `needle` in `text` (for the other test files).
pub(super) fn line_of_in(text: &str, needle: &str) -> usize {
    line_of(text, needle)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle present")
        + 1
}

#[test]
fn a_good_registry_loads() {
    let reg = Registry::from_toml("reg.toml", GOOD).unwrap();
    let m = reg
        .module(&ModuleType::parse("s3-bucket").unwrap())
        .unwrap();
    assert_eq!(m.inputs.len(), 2);
    assert_eq!(
        m.input("tags").unwrap().default,
        Some(serde_json::json!({}))
    );
    assert_eq!(m.input("name").unwrap().ty, InputType::String);
    assert!(m.keywords.is_empty(), "keywords are optional");
    let with = GOOD.replacen(
        "category = \"storage\"",
        "category = \"storage\"\nkeywords = [\"dumps\", \"data lake\"]",
        1,
    );
    let reg = Registry::from_toml("reg.toml", &with).unwrap();
    let m = reg
        .module(&ModuleType::parse("s3-bucket").unwrap())
        .unwrap();
    assert_eq!(m.keywords, ["dumps", "data lake"]);
}

#[test]
fn a_bad_regex_names_file_line_module_and_field() {
    let text = GOOD.replace("^[a-z0-9-]{3,63}$", "^[a-z(");
    let e = one_error(&text);
    assert_eq!(e.line, line_of(&text, "pattern ="));
    assert_eq!(e.module.as_deref(), Some("s3-bucket"));
    assert_eq!(e.field.as_deref(), Some("inputs.name.pattern"));
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!(
            "reg.toml:{}: module `s3-bucket`: field `inputs.name.pattern`",
            e.line
        )),
        "{shown}"
    );
}

#[test]
fn unknown_keys_are_refused_where_they_are() {
    let text = GOOD.replace("question = \"What", "qestion = \"What");
    let e = one_error(&text);
    assert_eq!(e.line, line_of(&text, "qestion"));
    assert_eq!(e.module.as_deref(), Some("s3-bucket"));
    assert_eq!(e.field.as_deref(), Some("qestion"));

    let text = GOOD.replace(
        "category = \"storage\"",
        "category = \"storage\"\ncolour = \"red\"",
    );
    let e = one_error(&text);
    assert_eq!(e.line, line_of(&text, "colour"));
    assert_eq!(e.field.as_deref(), Some("colour"));
}

#[test]
fn duplicate_inputs_are_refused() {
    let text = GOOD.replace("name = \"tags\"", "name = \"name\"");
    let errs = errors(&text);
    assert!(
        errs.iter()
            .any(|e| e.field.as_deref() == Some("inputs.name") && e.message.contains("duplicate")),
        "{errs:#?}"
    );
}

#[test]
fn defaults_must_have_the_input_type() {
    let text = GOOD.replace("default = {}", "default = \"yes\"");
    let e = one_error(&text);
    assert_eq!(e.field.as_deref(), Some("inputs.tags.default"));
    assert_eq!(e.line, line_of(&text, "default = \"yes\""));
    assert!(e.message.contains("must be a map"), "{}", e.message);
}

#[test]
fn templates_must_compile_and_only_use_known_names() {
    let text = GOOD.replace("{{ config.name | hcl }}", "{{ config.name | hcl }");
    let e = one_error(&text);
    assert_eq!(e.field.as_deref(), Some("template"));
    assert_eq!(e.line, line_of(&text, "name = {{ config.name"));

    let text = GOOD.replace("config.tags | hcl", "config.tgas | hcl");
    let e = one_error(&text);
    assert_eq!(e.field.as_deref(), Some("template"));
    assert_eq!(e.line, line_of(&text, "config.tgas"));

    let text = GOOD.replace("config.tags | hcl", "config.tags | json");
    assert_eq!(one_error(&text).field.as_deref(), Some("template"));
}

#[test]
fn every_rule_is_checked() {
    let cases: &[(&str, &str, &str)] = &[
        ("type = \"string\"", "type = \"text\"", "inputs.name.type"),
        ("file = \"tfpilot.s3.tf\"", "file = \"main.tf\"", "file"),
        ("title = \"S3 bucket\"", "title = \"\"", "title"),
        (
            "category = \"storage\"",
            "category = \"storage\"\nkeywords = [\"Dumps!\"]",
            "keywords",
        ),
        ("name = \"name\"", "name = \"Name\"", "inputs.Name.name"),
        (
            "required = true",
            "required = true\ndefault = \"x\"",
            "inputs.name.default",
        ),
        (
            "required = true",
            "required = true\nvalues = [\"a\"]",
            "inputs.name.values",
        ),
        (
            "required = true",
            "required = true\nmin = 5\nmax = 2",
            "inputs.name.max",
        ),
        (
            "required = true",
            "required = true\ninteger = true",
            "inputs.name.integer",
        ),
        (
            "required = true",
            "required = true\nrisk = \"extreme\"",
            "inputs.name.risk",
        ),
        (
            "default = {}",
            "default = {}\npattern = \"x\"",
            "inputs.tags.pattern",
        ),
    ];
    for (from, to, field) in cases {
        let errs = errors(&GOOD.replacen(from, to, 1));
        let hit = errs.iter().any(|e| e.field.as_deref() == Some(field));
        assert!(hit, "{to}: expected field {field}, got {errs:#?}");
    }
}

#[test]
fn module_types_must_be_slugs() {
    let text = GOOD.replace("modules.s3-bucket", "modules.S3");
    let e = one_error(&text);
    assert_eq!(e.module.as_deref(), Some("S3"));
    assert_eq!(e.line, line_of(&text, "[modules.S3]"));
    assert!(
        e.message.contains("module type `S3` is invalid"),
        "{}",
        e.message
    );
}

#[test]
fn enums_need_values_and_all_errors_come_at_once() {
    let text = GOOD
        .replace("type = \"string\"", "type = \"enum\"")
        .replace("default = {}", "default = 3");
    let errs = errors(&text);
    let fields: Vec<_> = errs.iter().filter_map(|e| e.field.clone()).collect();
    assert!(
        fields.contains(&"inputs.name.values".to_owned()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"inputs.tags.default".to_owned()),
        "{fields:?}"
    );
}

#[test]
fn syntax_errors_have_a_line() {
    let text = GOOD.replace("category = \"storage\"", "category = storage");
    let e = one_error(&text);
    assert_eq!(e.line, line_of(&text, "category = storage"));
    assert_eq!(e.module.as_deref(), Some("s3-bucket"));
}

#[test]
fn explain_phrases_load_and_bad_ones_are_refused_where_they_are() {
    let with = GOOD
        .replacen(
            "question = \"What should the bucket be called?\"",
            "question = \"What should the bucket be called?\"\nexplain = \"called {value}\"",
            1,
        )
        .replacen(
            "default = {}",
            "default = {}\nexplain = \"tagged {value}\"",
            1,
        );
    let reg = Registry::from_toml("reg.toml", &with).unwrap();
    let m = reg
        .module(&ModuleType::parse("s3-bucket").unwrap())
        .unwrap();
    assert_eq!(
        m.input("name").unwrap().explain.as_deref(),
        Some("called {value}")
    );
    assert_eq!(m.input("tags").unwrap().explain_off, None);

    let bool_input =
        "\n[[modules.s3-bucket.inputs]]\nname = \"versioning\"\ntype = \"bool\"\ndefault = true\n";
    // (replace, with, field, the line the error names)
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "explain = \"called {value}\"",
            "explain = \"called\"",
            "inputs.name.explain",
            "explain = \"called\"",
        ),
        (
            "explain = \"called {value}\"",
            "explain = \"{value} {x}\"",
            "inputs.name.explain",
            "explain = \"{value} {x}\"",
        ),
        (
            "explain = \"called {value}\"",
            "explain = \"called {value}\"\nexplain_off = \"no\"",
            "inputs.name.explain_off",
            "explain_off = \"no\"",
        ),
        (
            "explain = \"called {value}\"",
            "explain = \"called {value}\"\nsensitive = true",
            "inputs.name.explain",
            "explain = \"called {value}\"",
        ),
        (
            "default = true\n",
            "default = true\nexplain = \"versioning {value}\"\n",
            "inputs.versioning.explain",
            "explain = \"versioning {value}\"",
        ),
        (
            "default = true\n",
            "default = true\nexplain_off = \"\"\n",
            "inputs.versioning.explain_off",
            "explain_off = \"\"",
        ),
    ];
    for (from, to, field, at) in cases {
        let text = format!("{with}{bool_input}").replacen(from, to, 1);
        let e = one_error(&text);
        assert_eq!(e.field.as_deref(), Some(*field), "{to}: {e:#?}");
        assert_eq!(e.line, line_of(&text, at), "{to}: the line of the phrase");
    }
    let good_bool = format!("{with}{bool_input}").replacen(
        "default = true\n",
        "default = true\nexplain = \"versioning on\"\nexplain_off = \"versioning off\"\n",
        1,
    );
    let reg = Registry::from_toml("reg.toml", &good_bool).unwrap();
    let m = reg
        .module(&ModuleType::parse("s3-bucket").unwrap())
        .unwrap();
    let v = m.input("versioning").unwrap();
    assert_eq!(v.explain.as_deref(), Some("versioning on"));
    assert_eq!(v.explain_off.as_deref(), Some("versioning off"));
}
