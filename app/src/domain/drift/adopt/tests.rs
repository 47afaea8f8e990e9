//! Table tests: drift of the shipped sandbox modules mapped to new inputs,
//! or to the sentences saying why not.

use super::*;
use crate::domain::ids::{EnvName, ModuleType, ProjectKey, RequestId};
use crate::domain::registry::Registry;
use serde_json::json;

const ID: &str = "0000000001aaaaaa";

fn registry() -> Registry {
    Registry::from_toml(
        "modules-registry.toml",
        include_str!("../../../../../modules-registry.toml"),
    )
    .unwrap()
}

struct Case {
    module: &'static str,
    config: Value,
    /// (address inside the block, action, attribute, current, desired)
    changes: Vec<(&'static str, &'static str, &'static str, Value, Value, bool)>,
}

fn run(case: &Case) -> Result<Adoption, Vec<Obstacle>> {
    let reg = registry();
    let module = reg
        .module(&ModuleType::parse(case.module).unwrap())
        .unwrap();
    let (id, project, env) = (
        RequestId::parse(ID).unwrap(),
        ProjectKey::parse("sandbox").unwrap(),
        EnvName::parse("dev").unwrap(),
    );
    let target = Target {
        request_id: &id,
        project: &project,
        environment: &env,
    };
    let raw = case.config.as_object().unwrap().clone();
    let current = config::normalize(module, &raw, target).unwrap();
    let input_of = |c: &Config| Value::Object(c.clone());
    let mut changes: Vec<DriftChange> = Vec::new();
    for (inner, action, name, cur, des, sensitive) in &case.changes {
        // `$config` stands for the module's whole `input` as the config says it.
        let fill = |v: &Value| -> Value {
            let mut out = input_of(&current);
            match v {
                Value::Object(patch) if patch.contains_key("$patch") => {
                    for (k, v) in patch["$patch"].as_object().unwrap() {
                        out[k] = v.clone();
                    }
                    out
                }
                Value::String(s) if s == "$config" => out,
                other => other.clone(),
            }
        };
        let address = format!("module.{}_{ID}.{inner}", case.module);
        let attributes = if name.is_empty() {
            vec![]
        } else {
            vec![AttrChange {
                name: (*name).into(),
                current: (!sensitive).then(|| fill(cur).to_string()),
                desired: (!sensitive).then(|| fill(des).to_string()),
                sensitive: *sensitive,
            }]
        };
        changes.push(DriftChange {
            address,
            action: (*action).into(),
            attributes,
        });
    }
    let drift = Drift {
        detected_at: "2025-01-01T00:00:00Z".into(),
        run: "drift-sandbox-dev-1".into(),
        changes,
    };
    new_inputs(module, target, &current, &drift)
}

fn patch(v: Value) -> Value {
    json!({"$patch": v})
}

/// (input, its value now, what is there)
type Changed = (&'static str, Value, Value);

#[test]
fn drift_the_inputs_express_becomes_new_inputs() {
    let cases: Vec<(Case, Vec<Changed>)> = vec![
        (
            Case {
                module: "sqs-queue",
                config: json!({"name": "orders"}),
                changes: vec![(
                    "terraform_data.this",
                    "update",
                    "input",
                    patch(json!({"message_retention_seconds": 86400})),
                    json!("$config"),
                    false,
                )],
            },
            vec![("message_retention_seconds", json!(345600), json!(86400))],
        ),
        (
            Case {
                module: "sqs-queue",
                config: json!({"name": "orders", "dlq_max_receive_count": 5}),
                changes: vec![(
                    "terraform_data.this",
                    "update",
                    "input",
                    patch(json!({"dlq_max_receive_count": 9, "visibility_timeout_seconds": 60})),
                    json!("$config"),
                    false,
                )],
            },
            vec![
                ("visibility_timeout_seconds", json!(30), json!(60)),
                ("dlq_max_receive_count", json!(5), json!(9)),
            ],
        ),
        (
            // An enum that the module turns into a number, read back by type.
            Case {
                module: "cloudwatch-log-group",
                config: json!({"name": "/app/x", "retention_in_days": "30"}),
                changes: vec![(
                    "terraform_data.this",
                    "replace",
                    "input",
                    patch(json!({"retention_in_days": 90})),
                    json!("$config"),
                    false,
                )],
            },
            vec![("retention_in_days", json!("30"), json!("90"))],
        ),
        (
            // A user's tag added out of band; the computed tags stay.
            Case {
                module: "s3-bucket",
                config: json!({"name": "logs-1", "tags": {"team": "a"}}),
                changes: vec![(
                    "terraform_data.this",
                    "update",
                    "input",
                    patch(json!({"versioning": false, "tags": {
                        "team": "b", "ManagedBy": "tfpilot", "TfPilotRequestId": ID,
                        "Project": "sandbox", "Environment": "dev"}})),
                    json!("$config"),
                    false,
                )],
            },
            vec![
                ("versioning", json!(true), json!(false)),
                (
                    "tags",
                    json!({"team": "a", "ManagedBy": "tfpilot", "TfPilotRequestId": ID, "Project": "sandbox", "Environment": "dev"}),
                    json!({"team": "b", "ManagedBy": "tfpilot", "TfPilotRequestId": ID, "Project": "sandbox", "Environment": "dev"}),
                ),
            ],
        ),
        (
            // An optional input emptied out of band.
            Case {
                module: "s3-bucket",
                config: json!({"name": "logs-1", "expiration_days": 30}),
                changes: vec![(
                    "terraform_data.this",
                    "update",
                    "input",
                    patch(json!({"expiration_days": null})),
                    json!("$config"),
                    false,
                )],
            },
            vec![("expiration_days", json!(30), Value::Null)],
        ),
    ];
    for (case, want) in cases {
        let got = run(&case).unwrap_or_else(|o| panic!("{}: {}", case.module, sentence(&o)));
        let got_inputs: Vec<(&str, Value, Value)> = got
            .inputs
            .iter()
            .map(|i| (i.name.as_str(), i.from.clone(), i.to.clone()))
            .collect();
        assert_eq!(got_inputs, want, "{}", case.module);
        for (name, _, to) in &want {
            assert_eq!(got.config[*name], *to, "{} {name}", case.module);
        }
    }
}

#[test]
fn drift_no_input_can_express_is_refused_with_every_reason() {
    let cases: Vec<(Case, Vec<Obstacle>, &str)> = vec![
        (
            // dlq_name is derived from the name: no input sets it.
            Case {
                module: "sqs-queue",
                config: json!({"name": "orders", "dlq_max_receive_count": 5}),
                changes: vec![(
                    "terraform_data.this",
                    "update",
                    "input",
                    patch(json!({"dlq_name": "other-dlq"})),
                    json!("$config"),
                    false,
                )],
            },
            vec![Obstacle::Unexpressed {
                address: format!("module.sqs-queue_{ID}.terraform_data.this"),
                attribute: "input.dlq_name".into(),
            }],
            "`input.dlq_name` of `module.sqs-queue_0000000001aaaaaa.terraform_data.this` differs, and no input of the module sets it",
        ),
        (
            // An attribute of a resource no input lands in.
            Case {
                module: "sqs-queue",
                config: json!({"name": "orders"}),
                changes: vec![(
                    "terraform_data.this",
                    "update",
                    "triggers_replace",
                    json!("x"),
                    json!(null),
                    false,
                )],
            },
            vec![Obstacle::Unexpressed {
                address: format!("module.sqs-queue_{ID}.terraform_data.this"),
                attribute: "triggers_replace".into(),
            }],
            "no input of the module sets it",
        ),
        (
            Case {
                module: "s3-bucket",
                config: json!({"name": "logs-1"}),
                changes: vec![(
                    "terraform_data.this",
                    "create",
                    "",
                    json!(null),
                    json!(null),
                    false,
                )],
            },
            vec![Obstacle::Gone {
                address: format!("module.s3-bucket_{ID}.terraform_data.this"),
            }],
            "is gone",
        ),
        (
            Case {
                module: "s3-bucket",
                config: json!({"name": "logs-1"}),
                changes: vec![(
                    "terraform_data.extra",
                    "delete",
                    "",
                    json!(null),
                    json!(null),
                    false,
                )],
            },
            vec![Obstacle::Unwanted {
                address: format!("module.s3-bucket_{ID}.terraform_data.extra"),
            }],
            "the config has no such resource",
        ),
        (
            Case {
                module: "ecs-service",
                config: json!({"name": "api", "cluster_arn": "arn:aws:ecs:eu-west-1:123456789012:cluster/main",
                    "image": "nginx:1", "subnet_ids": ["subnet-0a1b2c3d"], "security_group_ids": ["sg-0123abcd"]}),
                changes: vec![(
                    "terraform_data.this",
                    "update",
                    "input",
                    json!(null),
                    json!(null),
                    true,
                )],
            },
            vec![Obstacle::Hidden {
                address: format!("module.ecs-service_{ID}.terraform_data.this"),
                attribute: "input".into(),
            }],
            "is sensitive, so tfpilot never reads what is there",
        ),
        (
            Case {
                module: "s3-bucket",
                config: json!({"name": "logs-1"}),
                changes: vec![(
                    "terraform_data.this",
                    "update",
                    "input",
                    patch(json!({"name": "logs-2", "versioning": false})),
                    json!("$config"),
                    false,
                )],
            },
            vec![Obstacle::Immutable {
                input: "name".into(),
            }],
            "input `name` cannot change after the request is created (it is immutable)",
        ),
        (
            Case {
                module: "sqs-queue",
                config: json!({"name": "orders"}),
                changes: vec![(
                    "terraform_data.this",
                    "update",
                    "input",
                    patch(json!({"message_retention_seconds": 10})),
                    json!("$config"),
                    false,
                )],
            },
            vec![Obstacle::Invalid {
                input: "message_retention_seconds".into(),
                message: "must be at least 60".into(),
            }],
            "what is there for input `message_retention_seconds` must be at least 60",
        ),
        (
            // A computed tag removed out of band: tfpilot puts it back.
            Case {
                module: "s3-bucket",
                config: json!({"name": "logs-1"}),
                changes: vec![(
                    "terraform_data.this",
                    "update",
                    "input",
                    patch(json!({"tags": {"ManagedBy": "someone"}})),
                    json!("$config"),
                    false,
                )],
            },
            vec![Obstacle::NotKept {
                input: "tags".into(),
            }],
            "would not keep what is there",
        ),
        (
            Case {
                module: "s3-bucket",
                config: json!({"name": "logs-1"}),
                changes: vec![],
            },
            vec![Obstacle::Nothing],
            "the drift changes no value an input of the module sets",
        ),
    ];
    for (case, want, words) in cases {
        let got = run(&case).expect_err(case.module);
        assert_eq!(got, want, "{}", case.module);
        let said = sentence(&got);
        assert!(said.starts_with("The drift cannot be adopted: "), "{said}");
        assert!(said.contains(words), "{said}");
    }
}

#[test]
fn every_obstacle_is_reported_at_once() {
    let case = Case {
        module: "sqs-queue",
        config: json!({"name": "orders"}),
        changes: vec![
            (
                "terraform_data.this",
                "update",
                "input",
                patch(json!({"fifo": true, "dlq_name": "x", "visibility_timeout_seconds": 99})),
                json!("$config"),
                false,
            ),
            (
                "terraform_data.other",
                "create",
                "",
                json!(null),
                json!(null),
                false,
            ),
        ],
    };
    let got = run(&case).unwrap_err();
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(got.contains(&Obstacle::Immutable {
        input: "fifo".into()
    }));
}
