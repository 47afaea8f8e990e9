//! Property: whatever a requester types, every module of the shipped
//! registry renders to a block that parses, has exactly its two markers,
//! exactly the template's attributes, and reads back the typed values.

use crate::props_hcl_blocks::{any_text, decode};
use app::domain::config::Config;
use app::domain::ids::{EnvName, ProjectKey, RequestId, Target};
use app::domain::registry::{InputType, Module, Registry};
use app::domain::render::{block_name, render_block, sample_config};
use app::domain::{adopt, blocks};
use hcl_edit::structure::Structure;
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;
use std::sync::OnceLock;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../modules-registry.toml");
        let text = std::fs::read_to_string(path).expect("registry file");
        Registry::from_toml(path, &text).expect("the shipped registry loads")
    })
}

/// A config where every string-carrying input holds hostile text.
fn hostile_config(m: &Module, pool: &[String]) -> Config {
    let mut next = pool.iter().cycle();
    let mut take = || next.next().cloned().unwrap_or_default();
    let mut config = sample_config(m);
    for input in &m.inputs {
        let v = match input.ty {
            InputType::String => Value::String(take()),
            InputType::List => Value::Array(vec![Value::String(take()), Value::String(take())]),
            InputType::Map => {
                let mut map = serde_json::Map::new();
                map.insert(take(), Value::String(take()));
                map.insert(format!("k{}", take()), Value::String(take()));
                Value::Object(map)
            }
            _ => continue,
        };
        config.insert(input.name.clone(), v);
    }
    config
}

/// The attributes of the single `module` block in `text`, checking its shape.
fn module_attributes(text: &str, label: &str) -> Result<Vec<(String, Value)>, TestCaseError> {
    let body = hcl_edit::parser::parse_body(text)
        .map_err(|e| TestCaseError::fail(format!("does not parse: {e}\n{text}")))?;
    prop_assert_eq!(body.len(), 1, "one top-level structure");
    let Some(Structure::Block(block)) = body.get(0) else {
        return Err(TestCaseError::fail("not a block"));
    };
    prop_assert_eq!(block.ident.as_str(), "module");
    prop_assert_eq!(block.labels.len(), 1);
    prop_assert_eq!(block.labels[0].as_str(), label);
    prop_assert_eq!(block.body.blocks().count(), 0, "no nested block");
    block
        .body
        .attributes()
        .map(|a| Ok((a.key.as_str().to_owned(), decode(&a.value)?)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn rendered_blocks_are_safe_for_any_input(
        which in any::<prop::sample::Index>(),
        pool in vec(any_text(), 1..12),
        entropy in any::<u32>(),
    ) {
        let modules: Vec<&Module> = registry().modules.values().collect();
        let m = modules[which.index(modules.len())];
        let id = RequestId::generate(1_760_000_000_000, entropy);
        let (project, env) = (ProjectKey::parse("sandbox").unwrap(), EnvName::parse("prod").unwrap());
        let target = Target { request_id: &id, project: &project, environment: &env };

        let config = hostile_config(m, &pool);
        let block = render_block(m, target, &config).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let baseline = render_block(m, target, &sample_config(m)).unwrap();

        let markers = block.text.lines().filter(|l| l.starts_with("# --- tfpilot:")).count();
        prop_assert_eq!(markers, 2, "exactly one begin and one end marker");
        let spans = blocks::scan(&block.text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(spans.len(), 1);
        prop_assert_eq!(&spans[0].id, id.as_str());

        let label = block_name(&m.module_type, &id);
        let attrs = module_attributes(&block.text, &label)?;
        let expected_keys: Vec<String> = module_attributes(&baseline.text, &label)?.into_iter().map(|(k, _)| k).collect();
        let keys: Vec<String> = attrs.iter().map(|(k, _)| k.clone()).collect();
        prop_assert_eq!(keys, expected_keys, "no attribute added or lost");
        for input in &m.inputs {
            let got = attrs.iter().find(|(k, _)| k == &input.name).map(|(_, v)| v);
            prop_assert_eq!(got, config.get(&input.name), "{} reads back", &input.name);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// An adopt request's block: the module block and one `import` block
    /// whose `id` reads back exactly as rendered, or a refusal naming the
    /// inputs when the id is empty or spans lines — never anything else.
    #[test]
    fn adopt_blocks_are_safe_for_any_input(
        which in any::<prop::sample::Index>(),
        pool in vec(any_text(), 1..12),
        entropy in any::<u32>(),
    ) {
        let modules: Vec<&Module> = registry().modules.values().filter(|m| m.import.is_some()).collect();
        let m = modules[which.index(modules.len())];
        let id = RequestId::generate(1_760_000_000_000, entropy);
        let (project, env) = (ProjectKey::parse("sandbox").unwrap(), EnvName::parse("prod").unwrap());
        let target = Target { request_id: &id, project: &project, environment: &env };
        let config = hostile_config(m, &pool);
        let import = m.import.as_ref().unwrap();
        let block = match adopt::render(m, target, &config, true) {
            Ok(block) => block,
            Err(adopt::AdoptError::BadId { inputs, .. }) => {
                let raw = adopt::import_id(import, &config);
                prop_assert!(raw.is_err());
                prop_assert!(!inputs.is_empty(), "the refusal names the inputs");
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        let markers = block.text.lines().filter(|l| l.starts_with("# --- tfpilot:")).count();
        prop_assert_eq!(markers, 2, "exactly one begin and one end marker");
        let body = hcl_edit::parser::parse_body(&block.text)
            .map_err(|e| TestCaseError::fail(format!("does not parse: {e}\n{}", block.text)))?;
        prop_assert_eq!(body.len(), 2, "the module block and the import block");
        let Some(Structure::Block(imp)) = body.get(1) else {
            return Err(TestCaseError::fail("no import block"));
        };
        prop_assert_eq!(imp.ident.as_str(), "import");
        prop_assert_eq!(imp.body.blocks().count(), 0, "no nested block");
        let keys: Vec<&str> = imp.body.attributes().map(|a| a.key.as_str()).collect();
        prop_assert_eq!(keys, vec!["to", "id"]);
        let id_attr = imp.body.attributes().find(|a| a.key.as_str() == "id").unwrap();
        let expected = adopt::import_id(import, &config).unwrap();
        prop_assert_eq!(decode(&id_attr.value)?, Value::String(expected));
    }
}

#[test]
fn the_block_is_named_and_marked_by_the_request() {
    let m = registry().modules.values().next().unwrap();
    let id = RequestId::generate(1_760_000_000_000, 42);
    let (project, env) = (
        ProjectKey::parse("sandbox").unwrap(),
        EnvName::parse("dev").unwrap(),
    );
    let target = Target {
        request_id: &id,
        project: &project,
        environment: &env,
    };
    let block = render_block(m, target, &sample_config(m)).unwrap();
    assert_eq!(block.file, m.file);
    assert!(block.text.starts_with(&format!(
        "# --- tfpilot:begin:{id} ---\nmodule \"{}_{id}\" {{\n",
        m.module_type
    )));
    assert!(
        block
            .text
            .ends_with(&format!("}}\n# --- tfpilot:end:{id} ---\n"))
    );
    assert_eq!(
        blocks::body(&block.text, id.as_str()).unwrap(),
        Some(block.body.as_str())
    );
}
