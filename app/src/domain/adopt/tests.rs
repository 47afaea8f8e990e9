//! The import block of an adopt request: rendered inside the bounded
//! block, parsed as HCL, idempotent until an apply succeeds and dropped
//! after it; ids that are empty or span lines refused naming their inputs.

use super::*;
use crate::domain::blocks;
use crate::domain::config::normalize;
use crate::domain::ids::{EnvName, ModuleType, ProjectKey, RequestId};
use crate::domain::registry::Registry;
use crate::domain::request::{Attempt, Conclusion, RunStatus};
use crate::domain::status::tests::request;
use hcl_edit::structure::Structure;
use serde_json::json;

fn registry() -> Registry {
    Registry::from_toml(
        "modules-registry.toml",
        include_str!("../../../../modules-registry.toml"),
    )
    .expect("the registry loads")
}

fn module(registry: &Registry, ty: &str) -> Module {
    registry
        .module(&ModuleType::parse(ty).unwrap())
        .expect("a shipped module")
        .clone()
}

struct Place {
    id: RequestId,
    project: ProjectKey,
    env: EnvName,
}

impl Place {
    fn new() -> Self {
        Self {
            id: RequestId::generate(1_767_225_600_000, 7),
            project: ProjectKey::parse("sandbox").unwrap(),
            env: EnvName::parse("dev").unwrap(),
        }
    }

    fn target(&self) -> Target<'_> {
        Target {
            request_id: &self.id,
            project: &self.project,
            environment: &self.env,
        }
    }
}

fn config(m: &Module, place: &Place, raw: serde_json::Value) -> Config {
    normalize(m, raw.as_object().unwrap(), place.target()).expect("valid inputs")
}

#[test]
fn an_adopt_block_holds_the_module_and_its_import_between_one_pair_of_markers() {
    let reg = registry();
    let m = module(&reg, "s3-bucket");
    let place = Place::new();
    let cfg = config(&m, &place, json!({"name": "logs-archive"}));
    let block = render(&m, place.target(), &cfg, true).unwrap();
    let id = place.id;
    let expected_import = format!(
        "\nimport {{\n  to = module.s3-bucket_{id}.terraform_data.this\n  id = \"logs-archive\"\n}}\n"
    );
    assert!(block.body.ends_with(&expected_import), "{}", block.body);
    assert!(block.text.starts_with(&blocks::begin_marker(id.as_str())));
    assert!(
        block
            .text
            .ends_with(&format!("{}\n", blocks::end_marker(id.as_str())))
    );
    assert_eq!(blocks::scan(&block.text).unwrap().len(), 1);

    // It parses: the module block, then the import block with `to` and `id`.
    let body = hcl_edit::parser::parse_body(&block.text).expect("parses");
    let kinds: Vec<(String, Vec<String>)> = body
        .iter()
        .map(|s| match s {
            Structure::Block(b) => (
                b.ident.as_str().to_owned(),
                b.body
                    .attributes()
                    .map(|a| a.key.as_str().to_owned())
                    .collect(),
            ),
            Structure::Attribute(a) => (a.key.as_str().to_owned(), vec![]),
        })
        .collect();
    assert_eq!(kinds.len(), 2);
    assert_eq!(kinds[0].0, "module");
    assert_eq!(
        kinds[1],
        ("import".to_owned(), vec!["to".to_owned(), "id".to_owned()])
    );

    // Without the import, it is exactly the create block.
    let plain = render(&m, place.target(), &cfg, false).unwrap();
    assert_eq!(
        plain,
        render::render_block(&m, place.target(), &cfg).unwrap()
    );
    assert!(!plain.text.contains("import {"));
}

#[test]
fn the_import_id_goes_through_the_literal_encoder() {
    let reg = registry();
    let mut m = module(&reg, "s3-bucket");
    m.import = Some(Import {
        to: "terraform_data.this".into(),
        id: "arn:${x}/{{ config.name }}\"".into(),
    });
    let place = Place::new();
    let cfg = config(&m, &place, json!({"name": "logs-archive"}));
    let block = render(&m, place.target(), &cfg, true).unwrap();
    assert!(
        block
            .text
            .contains("  id = \"arn:$${x}/logs-archive\\\"\"\n"),
        "{}",
        block.text
    );
    hcl_edit::parser::parse_body(&block.text).expect("parses");
}

#[test]
fn rendering_is_idempotent_until_an_apply_succeeds_then_the_import_is_dropped() {
    let reg = registry();
    let m = module(&reg, "sqs-queue");
    let place = Place::new();
    let mut doc = request("dev");
    doc.id = place.id;
    doc.module = m.module_type.clone();
    doc.kind = Kind::Adopt;
    doc.config = config(&m, &place, json!({"name": "orders"}));
    let upsert = |file: &str, doc: &Request| {
        let block = render(&m, place.target(), &doc.config, wants_import(doc)).unwrap();
        blocks::upsert(file, doc.id.as_str(), &block.body).unwrap()
    };
    let file = "# hand-written\n";
    let once = upsert(file, &doc);
    assert!(once.contains("import {"));
    assert_eq!(
        upsert(&once, &doc),
        once,
        "idempotent while the import is wanted"
    );

    // A failed apply keeps it.
    let attempt = |conclusion| Attempt {
        attempt: 1,
        run_id: "r".into(),
        head_sha: "m".into(),
        status: RunStatus::Completed,
        conclusion: Some(conclusion),
        ..Default::default()
    };
    doc.runs.apply.attempts.push(attempt(Conclusion::Failure));
    assert!(wants_import(&doc));
    assert_eq!(upsert(&once, &doc), once);

    // A successful one drops it; the rest of the file is untouched.
    doc.runs.apply.attempts.push(Attempt {
        attempt: 2,
        ..attempt(Conclusion::Success)
    });
    assert!(!wants_import(&doc));
    let after = upsert(&once, &doc);
    assert!(!after.contains("import {"), "{after}");
    assert!(after.starts_with(file));
    assert_eq!(upsert(&after, &doc), after);
    assert_eq!(blocks::remove(&after, doc.id.as_str()).unwrap(), file);

    // A create request never carries one.
    doc.kind = Kind::Create;
    doc.runs = Default::default();
    assert!(!wants_import(&doc));
}

#[test]
fn ids_that_are_empty_or_span_lines_are_refused_naming_their_inputs() {
    let reg = registry();
    let mut m = module(&reg, "s3-bucket");
    let place = Place::new();
    let cfg = config(&m, &place, json!({"name": "logs-archive"}));
    type Refusal<'a> = Option<(&'a str, Vec<&'a str>)>;
    let cases: [(&str, Refusal); 5] = [
        ("{{ config.name }}", None),
        (
            "{{ config.kms_key_arn }}",
            Some(("is empty", vec!["kms_key_arn"])),
        ),
        (
            "{{ config.kms_key_arn }} {{ config.encryption | lower | replace('aes256', '') }}",
            Some(("is empty", vec!["encryption", "kms_key_arn"])),
        ),
        (
            "{{ config.name }}\n{{ config.encryption }}",
            Some(("contains a newline", vec!["encryption", "name"])),
        ),
        (
            "{{ config.name }}\r{{ config.name }}",
            Some(("contains a newline", vec!["name"])),
        ),
    ];
    for (template, expected) in cases {
        m.import = Some(Import {
            to: "terraform_data.this".into(),
            id: template.into(),
        });
        let got = check(&m, Kind::Adopt, &cfg);
        match expected {
            None => assert_eq!(got, Ok(()), "{template}"),
            Some((rule, inputs)) => {
                let Err(AdoptError::BadId {
                    inputs: named,
                    rule: said,
                }) = &got
                else {
                    panic!("{template}: {got:?}");
                };
                assert_eq!(named, &inputs, "{template}");
                assert!(said.starts_with(rule), "{template}: {said}");
                let e = got.unwrap_err();
                let fields: Vec<String> = e.field_errors().into_iter().map(|f| f.field).collect();
                assert_eq!(fields, inputs, "one field error per input");
                for i in &inputs {
                    assert!(e.to_string().contains(&format!("`{i}`")), "{e}");
                }
            }
        }
        // A create request is never checked.
        assert_eq!(check(&m, Kind::Create, &cfg), Ok(()));
    }
}

#[test]
fn a_module_without_import_cannot_adopt() {
    let reg = registry();
    let mut m = module(&reg, "sns-topic");
    m.import = None;
    let place = Place::new();
    let cfg = config(&m, &place, json!({"name": "alerts"}));
    let e = check(&m, Kind::Adopt, &cfg).unwrap_err();
    assert_eq!(
        e,
        AdoptError::NotSupported {
            module: "sns-topic".into()
        }
    );
    assert_eq!(e.field_errors()[0].field, "kind");
    assert!(e.to_string().contains("module `sns-topic`"), "{e}");
    assert!(render(&m, place.target(), &cfg, true).is_err());
}

#[test]
fn every_shipped_module_can_adopt_its_sandbox_resource() {
    let reg = registry();
    for m in reg.modules.values() {
        let import = m.import.as_ref().expect("an import table");
        assert_eq!(import.to, "terraform_data.this", "{}", m.module_type);
        assert_eq!(id_inputs(&import.id).unwrap().0, vec!["name".to_owned()]);
    }
}
