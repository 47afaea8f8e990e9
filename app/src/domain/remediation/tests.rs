//! Policies read from JSON (every field error named), matched against
//! alerts (exact, `=~`, status, priority, disabled), filled in from the
//! alert and their values checked by the registry.

use super::*;
use crate::domain::ids::ModuleType;
use crate::domain::registry::Registry;
use serde_json::{Value, json};

fn registry() -> Registry {
    Registry::from_toml(
        "modules-registry.toml",
        include_str!("../../../../modules-registry.toml"),
    )
    .expect("the registry loads")
}

fn checked(raw: Value) -> Result<Remediation, Vec<FieldError>> {
    let registry = registry();
    let prod = |e: &str| e == "prod";
    check(
        &raw,
        &Context {
            registry: &registry,
            is_prod: &prod,
        },
    )
}

use crate::domain::config::FieldError;

fn the_issue_example() -> Value {
    json!({
        "name": "queue-backlog",
        "priority": 10,
        "enabled": true,
        "condition": {"labels": {"alertname": "QueueBacklog", "severity": "critical"}, "status": "firing"},
        "action": {"kind": "update_inputs", "request": "${label.tfpilot_request}", "inputs": {"dlq_max_receive_count": "${annotation.new_max}"}},
        "auto_approve_environments": ["dev"]
    })
}

fn alert(labels: &[(&str, &str)], annotations: &[(&str, &str)], status: AlertStatus) -> Alert {
    Alert {
        status,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        annotations: annotations
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        fingerprint: "abc123".into(),
        starts_at: "2026-12-05T10:00:00Z".into(),
    }
}

fn fields(errs: Vec<FieldError>) -> Vec<String> {
    errs.into_iter().map(|e| e.field).collect()
}

#[test]
fn the_issue_example_reads_and_round_trips_through_storage() {
    let p = checked(the_issue_example()).expect("valid");
    assert_eq!(p.priority, 10);
    assert_eq!(p.condition.status, Some(AlertStatus::Firing));
    let stored = serde_json::to_value(&p).unwrap();
    let back: Remediation = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(back, p);
    assert_eq!(checked(stored).expect("the stored form is valid input"), p);
}

#[test]
fn bad_fields_are_each_named() {
    let cases: Vec<(Value, &[&str])> = vec![
        (json!([]), &["body"]),
        (
            json!({"name": "Bad Name"}),
            &["name", "condition", "action"],
        ),
        (
            json!({"name": "p", "condition": {"labels": {"alertname": "=~(unclosed"}}, "action": {"kind": "replan", "request": "x"}}),
            &["condition.labels.alertname"],
        ),
        (
            json!({"name": "p", "condition": {"labels": {"a": "b"}, "status": "sometimes"}, "action": {"kind": "replan", "request": "x"}}),
            &["condition.status"],
        ),
        (
            json!({"name": "p", "condition": {"labels": {}}, "action": {"kind": "replan", "request": "x"}}),
            &["condition.labels"],
        ),
        (
            json!({"name": "p", "condition": {"labels": {"a": "b"}}, "action": {"kind": "scale"}}),
            &["action.kind"],
        ),
        (
            json!({"name": "p", "condition": {"labels": {"a": "b"}}, "action": {"kind": "update_inputs", "request": "${label.r}", "inputs": {"no_such_input": "1"}}}),
            &["action.inputs.no_such_input"],
        ),
        (
            json!({"name": "p", "condition": {"labels": {"a": "b"}}, "action": {"kind": "update_inputs", "module": "sqs-queue", "request": "${label.r}", "inputs": {"desired_count": "1"}}}),
            &["action.inputs.desired_count"],
        ),
        (
            json!({"name": "p", "condition": {"labels": {"a": "b"}}, "action": {"kind": "update_inputs", "request": "${label.r}", "inputs": {"name": "x"}}}),
            &["action.inputs.name"],
        ),
        (
            json!({"name": "p", "condition": {"labels": {"a": "b"}}, "action": {"kind": "update_inputs", "request": "${lable.r}", "inputs": {"desired_count": "${annotation.n"}}}),
            &["action.request", "action.inputs.desired_count"],
        ),
        (
            json!({"name": "p", "condition": {"labels": {"a": "b"}}, "action": {"kind": "replan"}}),
            &["action.request"],
        ),
        (
            json!({"name": "p", "condition": {"labels": {"a": "b"}}, "action": {"kind": "notify"}}),
            &["action.message"],
        ),
        (
            json!({"name": "p", "condition": {"labels": {"a": "b"}}, "action": {"kind": "replan", "request": "x", "inputs": {"desired_count": 2}}}),
            &["action.inputs"],
        ),
        (
            json!({"name": "p", "condition": {"labels": {"a": "b"}}, "action": {"kind": "replan", "request": "x"}, "auto_approve_environments": ["dev", "prod", "No Env"]}),
            &[
                "auto_approve_environments[1]",
                "auto_approve_environments[2]",
            ],
        ),
        (
            json!({"name": "p", "priority": -1, "enabled": "yes", "extra": 1, "condition": {"labels": {"a": "b"}}, "action": {"kind": "replan", "request": "x", "module": "nope"}}),
            &["extra", "priority", "enabled", "action.module"],
        ),
    ];
    for (raw, want) in cases {
        let got = fields(checked(raw.clone()).expect_err(&raw.to_string()));
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        want.sort();
        assert_eq!(got_sorted, want, "{raw}");
    }
}

#[test]
fn the_single_label_form_reads_as_labels() {
    let p = checked(json!({
        "name": "p",
        "condition": {"label": "alertname", "value": "=~Queue.*"},
        "action": {"kind": "notify", "message": "backlog on ${label.queue}"}
    }))
    .unwrap();
    assert!(p.condition.matches(&alert(
        &[("alertname", "QueueBacklog")],
        &[],
        AlertStatus::Firing
    )));
    // Anchored like Alertmanager: a prefix elsewhere does not match.
    assert!(!p.condition.matches(&alert(
        &[("alertname", "MyQueueBacklog")],
        &[],
        AlertStatus::Firing
    )));
    // The status defaults to firing.
    assert!(!p.condition.matches(&alert(
        &[("alertname", "QueueBacklog")],
        &[],
        AlertStatus::Resolved
    )));
}

#[test]
fn the_lowest_priority_number_of_the_enabled_matching_policies_wins() {
    let policy = |name: &str, priority: i64, enabled: bool, severity: &str| {
        checked(json!({
            "name": name, "priority": priority, "enabled": enabled,
            "condition": {"labels": {"alertname": "QueueBacklog", "severity": severity}, "status": "any"},
            "action": {"kind": "notify", "message": "m"}
        }))
        .unwrap()
    };
    let policies = vec![
        policy("late", 50, true, "=~.*"),
        policy("first-but-off", 1, false, "critical"),
        policy("critical", 10, true, "critical"),
        policy("also-ten", 10, true, "=~crit.*"),
        policy("warning", 5, true, "warning"),
    ];
    let table = [
        (
            vec![("alertname", "QueueBacklog"), ("severity", "critical")],
            Some("also-ten"),
        ),
        (
            vec![("alertname", "QueueBacklog"), ("severity", "warning")],
            Some("warning"),
        ),
        (
            vec![("alertname", "QueueBacklog"), ("severity", "info")],
            Some("late"),
        ),
        (vec![("alertname", "QueueBacklog")], None),
        (vec![("alertname", "Other"), ("severity", "critical")], None),
    ];
    for (labels, want) in table {
        let a = alert(&labels, &[], AlertStatus::Resolved);
        assert_eq!(
            choose(&policies, &a).map(|p| p.name.as_str()),
            want,
            "{labels:?}"
        );
    }
}

#[test]
fn plan_fills_templates_and_names_what_the_alert_lacks() {
    let p = checked(the_issue_example()).unwrap();
    let full = alert(
        &[("alertname", "QueueBacklog"), ("tfpilot_request", "01kab")],
        &[("new_max", "25")],
        AlertStatus::Firing,
    );
    let planned = plan(&p, &full).unwrap();
    assert_eq!(planned.kind, ActionKind::UpdateInputs);
    assert_eq!(planned.request.as_deref(), Some("01kab"));
    assert_eq!(planned.inputs["dlq_max_receive_count"], "25");

    let no_annotation = alert(&[("tfpilot_request", "01kab")], &[], AlertStatus::Firing);
    let err = plan(&p, &no_annotation).unwrap_err();
    assert_eq!(err.field, "action.inputs.dlq_max_receive_count");
    assert!(err.message.contains("annotation `new_max`"), "{err}");

    let no_label = alert(&[], &[("new_max", "25")], AlertStatus::Firing);
    assert_eq!(plan(&p, &no_label).unwrap_err().field, "action.request");
}

#[test]
fn new_values_are_read_by_type_and_checked_by_the_registry() {
    let registry = registry();
    let sqs = registry
        .module(&ModuleType::parse("sqs-queue").unwrap())
        .unwrap();
    let current: crate::domain::config::Config = serde_json::from_value(json!({
        "name": "orders", "fifo": false, "dlq_max_receive_count": 5, "message_retention_seconds": 345600
    }))
    .unwrap();
    let set = |pairs: &[(&str, &str)]| {
        apply_inputs(
            sqs,
            &current,
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    };
    let next = set(&[
        ("dlq_max_receive_count", "25"),
        ("message_retention_seconds", "7 days"),
    ])
    .unwrap();
    assert_eq!(next["dlq_max_receive_count"], json!(25));
    assert_eq!(next["message_retention_seconds"], json!(604800));
    assert_eq!(next["name"], json!("orders"));

    let table: [(&str, &str, &str); 4] = [
        ("dlq_max_receive_count", "5000", "at most 1000"),
        ("dlq_max_receive_count", "lots", "number"),
        ("dlq_max_receive_count", "", "empty"),
        ("desired_count", "2", "not an input of module sqs-queue"),
    ];
    for (name, value, says) in table {
        let err = set(&[(name, value)]).unwrap_err();
        assert_eq!(err.field, name);
        assert!(
            err.message.contains(says),
            "{name}={value}: {}",
            err.message
        );
    }
}
