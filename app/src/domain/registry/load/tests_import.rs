//! A module's `import` table: loaded when whole, and a broken one (a
//! missing key, a bad address, an id reading what it may not) refused
//! naming the file, line, module and field.

use super::tests::GOOD;
use super::*;

fn with_import(table: &str) -> String {
    format!("{GOOD}\n[modules.s3-bucket.import]\n{table}\n")
}

fn refused(text: &str) -> Vec<RegistryError> {
    Registry::from_toml("reg.toml", text).expect_err("should be refused")
}

#[test]
fn an_import_table_loads() {
    let text = with_import("to = \"terraform_data.this\"\nid = \"{{ config.name }}\"");
    let reg = Registry::from_toml("reg.toml", &text).unwrap();
    let m = reg
        .module(&ModuleType::parse("s3-bucket").unwrap())
        .unwrap();
    let import = m.import.as_ref().expect("loaded");
    assert_eq!(import.to, "terraform_data.this");
    assert_eq!(import.id, "{{ config.name }}");
    // Without one, the module only creates.
    let reg = Registry::from_toml("reg.toml", GOOD).unwrap();
    assert!(reg.modules.values().all(|m| m.import.is_none()));
}

#[test]
fn a_broken_import_table_names_file_line_module_and_field() {
    let cases: [(&str, &str, &str, &str); 8] = [
        (
            "id = \"{{ config.name }}\"",
            "import.to",
            "[modules.s3-bucket.import]",
            "missing",
        ),
        (
            "to = \"terraform_data.this\"",
            "import.id",
            "[modules.s3-bucket.import]",
            "missing",
        ),
        (
            "to = \"this\"\nid = \"{{ config.name }}\"",
            "import.to",
            "to = ",
            "not a resource address",
        ),
        (
            "to = \"terraform_data.this\"\nid = \"{{ config.nmae }}\"",
            "import.id",
            "id = ",
            "`config.nmae` is not an input",
        ),
        (
            "to = \"terraform_data.this\"\nid = \"{{ request_id }}\"",
            "import.id",
            "id = ",
            "only `config.<input>`",
        ),
        (
            "to = \"terraform_data.this\"\nid = \"fixed\"",
            "import.id",
            "id = ",
            "at least one input",
        ),
        (
            "to = \"terraform_data.this\"\nid = \"{{ config.name \"",
            "import.id",
            "id = ",
            "does not compile",
        ),
        (
            "to = \"terraform_data.this\"\nid = \"{{ config.tags.missing }}\"",
            "import.id",
            "id = ",
            "does not render",
        ),
    ];
    for (table, field, at, says) in cases {
        let text = with_import(table);
        let errs = refused(&text);
        assert_eq!(errs.len(), 1, "{table}: {errs:#?}");
        let e = &errs[0];
        assert_eq!(e.file, "reg.toml");
        assert_eq!(e.module.as_deref(), Some("s3-bucket"), "{table}");
        assert_eq!(e.field.as_deref(), Some(field), "{table}");
        let lines: Vec<&str> = text.lines().collect();
        let line = lines
            .iter()
            .rposition(|l| l.starts_with(at))
            .expect("present")
            + 1;
        assert_eq!(e.line, line, "{table}: {e}");
        assert!(e.message.contains(says), "{table}: {e}");
    }
}

#[test]
fn unknown_keys_of_the_import_table_are_refused() {
    let text =
        with_import("to = \"terraform_data.this\"\nid = \"{{ config.name }}\"\nfrom = \"x\"");
    let e = &refused(&text)[0];
    assert_eq!(e.module.as_deref(), Some("s3-bucket"));
    assert_eq!(e.field.as_deref(), Some("from"));
}
