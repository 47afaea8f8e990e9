//! An input's `attribute`: parsed at load, refused where it is written
//! when it is no attribute path or overlaps another input's.

use super::tests::GOOD;
use super::*;

fn with_attributes(name: &str, tags: &str) -> String {
    GOOD.replacen(
        "example = \"logs-archive\"",
        &format!("example = \"logs-archive\"\nattribute = \"{name}\""),
        1,
    )
    .replacen(
        "default = {}",
        &format!("default = {{}}\nattribute = \"{tags}\""),
        1,
    )
}

#[test]
fn attributes_load_as_paths() {
    let text = with_attributes("terraform_data.this.input.name", "aws_s3_bucket.this.tags");
    let reg = Registry::from_toml("reg.toml", &text).unwrap();
    let m = reg
        .module(&ModuleType::parse("s3-bucket").unwrap())
        .unwrap();
    let name = m.input("name").unwrap().attribute.clone().unwrap();
    assert_eq!(
        (
            name.resource.as_str(),
            name.attribute.as_str(),
            name.keys.as_slice()
        ),
        ("terraform_data.this", "input", &["name".to_owned()][..])
    );
    let tags = m.input("tags").unwrap().attribute.clone().unwrap();
    assert!(tags.keys.is_empty());
    assert_eq!(
        serde_json::to_value(&tags).unwrap(),
        "aws_s3_bucket.this.tags",
        "serialized as written"
    );
    let plain = Registry::from_toml("reg.toml", GOOD).unwrap();
    let m = plain
        .module(&ModuleType::parse("s3-bucket").unwrap())
        .unwrap();
    assert!(m.inputs.iter().all(|i| i.attribute.is_none()), "optional");
}

#[test]
fn bad_and_overlapping_attributes_are_refused_where_they_are() {
    let cases = [
        (
            with_attributes("terraform_data.this", "terraform_data.this.input.tags"),
            "terraform_data.this\"",
            "inputs.name.attribute",
            "is not an attribute of a resource",
        ),
        (
            with_attributes("terraform_data.this.input.name", "data.x.y.tags"),
            "data.x.y.tags",
            "inputs.tags.attribute",
            "is not an attribute of a resource",
        ),
        (
            with_attributes(
                "terraform_data.this.input",
                "terraform_data.this.input.tags",
            ),
            "terraform_data.this.input.tags",
            "inputs.tags.attribute",
            "overlaps the attribute of input `name`",
        ),
    ];
    for (text, needle, field, message) in cases {
        let e = super::tests::one_error_of(&text);
        assert_eq!(e.line, super::tests::line_of_in(&text, needle), "{e}");
        assert_eq!(e.module.as_deref(), Some("s3-bucket"), "{e}");
        assert_eq!(e.field.as_deref(), Some(field), "{e}");
        assert!(e.message.contains(message), "{e}");
        assert!(e.to_string().starts_with("reg.toml:"), "{e}");
    }
}
