//! Table tests of the drift report read from `terraform show -json`.

use super::*;

fn attrs(c: &DriftChange) -> Vec<(&str, Option<&str>, Option<&str>, bool)> {
    c.attributes
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.current.as_deref(),
                a.desired.as_deref(),
                a.sensitive,
            )
        })
        .collect()
}

#[test]
fn actions_and_differing_attributes_are_read_secrets_never() {
    let json = br#"{"resource_changes": [
      {"address": "module.s3-bucket_0000000001aaaaaa.terraform_data.this",
       "change": {"actions": ["update"],
         "before": {"id": "x", "input": {"name": "a", "versioning": false}, "output": {"name": "a"}},
         "after": {"id": "x", "input": {"name": "a", "versioning": true}},
         "after_unknown": {"output": true},
         "before_sensitive": {}, "after_sensitive": {}}},
      {"address": "aws_db_instance.db",
       "change": {"actions": ["update"],
         "before": {"password": "hunter2", "port": 5432, "tags": null},
         "after": {"password": "correct-horse", "port": 5433, "tags": {"a": "b"}},
         "after_unknown": {},
         "before_sensitive": {"password": true}, "after_sensitive": {"password": true}}},
      {"address": "aws_secret.nested",
       "change": {"actions": ["update"],
         "before": {"conf": {"key": "s3cr3t", "n": 1}},
         "after": {"conf": {"key": "n3w", "n": 2}},
         "before_sensitive": {"conf": {"key": true}}, "after_sensitive": {}}},
      {"address": "module.sqs-queue_0000000002bbbbbb.terraform_data.this",
       "change": {"actions": ["create"], "before": null, "after": {"input": {"name": "q"}}}},
      {"address": "b.replaced", "change": {"actions": ["delete", "create"],
         "before": {"size": 1}, "after": {"size": 2}}},
      {"address": "c.same", "change": {"actions": ["no-op"]}},
      {"address": "d.data", "change": {"actions": ["read"]}}
    ]}"#;
    let got = parse_drift_json(json).unwrap();
    let summary: Vec<_> = got
        .iter()
        .map(|c| (c.address.as_str(), c.action.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("aws_db_instance.db", "update"),
            ("aws_secret.nested", "update"),
            ("b.replaced", "replace"),
            (
                "module.s3-bucket_0000000001aaaaaa.terraform_data.this",
                "update"
            ),
            (
                "module.sqs-queue_0000000002bbbbbb.terraform_data.this",
                "create"
            ),
        ]
    );
    assert_eq!(
        attrs(&got[0]),
        [
            ("password", None, None, true),
            ("port", Some("5432"), Some("5433"), false),
            ("tags", None, Some(r#"{"a":"b"}"#), false),
        ]
    );
    assert_eq!(attrs(&got[1]), [("conf", None, None, true)]);
    assert_eq!(attrs(&got[2]), [("size", Some("1"), Some("2"), false)]);
    assert_eq!(
        attrs(&got[3]),
        [(
            "input",
            Some(r#"{"name":"a","versioning":false}"#),
            Some(r#"{"name":"a","versioning":true}"#),
            false
        )],
        "the computed `output` is a consequence, not drift"
    );
    assert!(got[4].attributes.is_empty());
    let all = serde_json::to_string(&got).unwrap();
    for secret in ["hunter2", "correct-horse", "s3cr3t", "n3w"] {
        assert!(!all.contains(secret), "{secret} leaked: {all}");
    }
}

#[test]
fn a_plan_with_nothing_to_do_has_no_drift() {
    assert!(
        parse_drift_json(br#"{"resource_changes": []}"#)
            .unwrap()
            .is_empty()
    );
    assert!(parse_drift_json(br#"{}"#).unwrap().is_empty());
    assert!(parse_drift_json(b"not json").is_err());
}
