//! The Actions workflows' check script (`.github/tfpilot/check_plan.py`)
//! and the Rust check (`domain::scope::check` over `exec::plan::parse_show_json`,
//! what the local executor runs) agree on one table covering every rule.

use crate::support::root;
use app::domain::ids::RequestId;
use app::domain::scope::{PlannedChange, Scope, ScopeKind, Unexpected, check};
use serde_json::{Value, json};
use server::exec::plan::parse_show_json;
use std::process::Command;

fn script() -> std::path::PathBuf {
    root().join("infra-workflows/template/.github/tfpilot/check_plan.py")
}

fn id(n: u64) -> RequestId {
    RequestId::generate(1_700_000_000_000 + n, n as u32)
}

fn block(id: RequestId) -> String {
    format!("module.s3-bucket_{id}.terraform_data.this")
}

/// (address, terraform actions)
type Change<'a> = (&'a str, &'a [&'a str]);

/// (scope, the plan's changes, the addresses blocked, in order)
type Case<'a> = (&'a Scope, Vec<Change<'a>>, Vec<&'a str>);

/// A trailing pseudo-action: the resource is imported (`change.importing`).
const IMPORTING: &str = "importing";

/// A `terraform show -json` plan with these (address, actions).
fn plan(changes: &[Change]) -> Value {
    let changes: Vec<Value> = changes
        .iter()
        .map(|(address, actions)| {
            let (actions, importing) = match actions.split_last() {
                Some((&IMPORTING, rest)) => (rest, json!({"id": "existing-1"})),
                _ => (*actions, Value::Null),
            };
            json!({
                "address": address,
                "type": "terraform_data",
                "change": {"actions": actions, "after": {"input": "s3cr3t"}, "importing": importing},
            })
        })
        .collect();
    json!({"format_version": "1.2", "resource_changes": changes})
}

/// The Rust verdict: what the local executor computes.
fn rust_check(scope: &Scope, plan: &Value) -> Vec<Unexpected> {
    let (_, changes) = parse_show_json(plan.to_string().as_bytes()).unwrap();
    let planned: Vec<PlannedChange> = changes
        .into_iter()
        .map(|c| PlannedChange {
            address: c.address,
            action: c.action,
        })
        .collect();
    check(scope, &planned)
}

/// The script's verdict: exit code, `check.json` and stdout.
fn python_check(scope: &str, plan: &Value) -> (Option<i32>, Option<Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.json"), plan.to_string()).unwrap();
    let out = Command::new("python3")
        .arg(script())
        .args(["plan.json", "check.json"])
        .current_dir(dir.path())
        .env("TFPILOT_SCOPE", scope)
        .output()
        .expect("python3 runs");
    let written = std::fs::read(dir.path().join("check.json"))
        .ok()
        .map(|b| serde_json::from_slice(&b).unwrap());
    let stdout =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), written, stdout)
}

#[test]
fn the_workflow_check_and_the_rust_check_agree() {
    let (me, other, stranger) = (id(1), id(2), id(3));
    let apply = Scope {
        kind: ScopeKind::Apply,
        apply: vec![me, other],
        destroy: vec![],
        confirmed: vec![],
        target: None,
    };
    let destroy = Scope {
        kind: ScopeKind::Destroy,
        apply: vec![me],
        destroy: vec![me],
        confirmed: vec![],
        target: Some(format!("module.s3-bucket_{me}")),
    };
    let hand = "terraform_data.hand";
    let confirmed = Scope {
        confirmed: vec![
            PlannedChange {
                address: block(stranger),
                action: "delete".into(),
            },
            PlannedChange {
                address: hand.into(),
                action: "create".into(),
            },
        ],
        ..apply.clone()
    };
    let (me_s, other_s, stranger_s) = (block(me), block(other), block(stranger));
    let nested = format!("module.ecs-service_{me}[0].module.inner.aws_x.y");
    let keyed = format!("module.s3-bucket_{other}[\"a.b\"].terraform_data.this");
    let underscored = format!("module.s3_bucket_{me}.terraform_data.this");
    let not_ids = [
        "module.s3-bucket_NOTANIDATALLXXXX.terraform_data.this".to_owned(),
        format!(
            "module.s3-bucket_{}.terraform_data.this",
            &me.as_str()[..15]
        ),
        format!("module.s3-bucket_{me}0.terraform_data.this"),
        // i, l, o and u are not Crockford base32.
        "module.s3-bucket_0123456789iloux0.terraform_data.this".to_owned(),
        format!("module.{me}.terraform_data.this"),
        "module.vpc.aws_vpc.this".to_owned(),
        format!("terraform_data.x_{me}"),
    ];

    // (scope, changes, blocked addresses in the expected order)
    let mut cases: Vec<Case> = vec![
        // apply: create and update of requests in `apply`
        (&apply, vec![(&me_s, &["create"])], vec![]),
        (&apply, vec![(&me_s, &["update"])], vec![]),
        (&apply, vec![(&other_s, &["create"])], vec![]),
        (&apply, vec![(&nested, &["create"])], vec![]),
        (&apply, vec![(&keyed, &["update"])], vec![]),
        (&apply, vec![(&underscored, &["create"])], vec![]),
        // read and no-op always pass, even outside any block
        (
            &apply,
            vec![("data.aws_caller_identity.me", &["read"])],
            vec![],
        ),
        (&apply, vec![(hand, &["no-op"])], vec![]),
        (&destroy, vec![(hand, &["read"])], vec![]),
        // unknown action lists are skipped like no-ops
        (&apply, vec![(hand, &["create", "update"])], vec![]),
        (&apply, vec![], vec![]),
        // not in the scope
        (&apply, vec![(&stranger_s, &["create"])], vec![&stranger_s]),
        (&apply, vec![(&stranger_s, &["update"])], vec![&stranger_s]),
        (&apply, vec![(&other_s, &["delete"])], vec![&other_s]),
        (&apply, vec![(&me_s, &["delete", "create"])], vec![&me_s]),
        (&apply, vec![(&me_s, &["create", "delete"])], vec![&me_s]),
        (&apply, vec![(hand, &["create"])], vec![hand]),
        (&apply, vec![(hand, &["delete"])], vec![hand]),
        // imports: of requests in `apply` only, alone or with an update
        (&apply, vec![(&me_s, &["no-op", IMPORTING])], vec![]),
        (&apply, vec![(&other_s, &["update", IMPORTING])], vec![]),
        (
            &apply,
            vec![(&stranger_s, &["no-op", IMPORTING])],
            vec![&stranger_s],
        ),
        (&apply, vec![(hand, &["no-op", IMPORTING])], vec![hand]),
        (&destroy, vec![(&me_s, &["no-op", IMPORTING])], vec![&me_s]),
        // confirmed: exact address and action only
        (&confirmed, vec![(&stranger_s, &["delete"])], vec![]),
        (&confirmed, vec![(hand, &["create"])], vec![]),
        (
            &confirmed,
            vec![(&stranger_s, &["delete", "create"])],
            vec![&stranger_s],
        ),
        (&confirmed, vec![(hand, &["update"])], vec![hand]),
        // destroy: deletes of requests in `destroy`, nothing else
        (&destroy, vec![(&me_s, &["delete"])], vec![]),
        (&destroy, vec![(&me_s, &["create"])], vec![&me_s]),
        (&destroy, vec![(&me_s, &["update"])], vec![&me_s]),
        (&destroy, vec![(&me_s, &["delete", "create"])], vec![&me_s]),
        (&destroy, vec![(&other_s, &["delete"])], vec![&other_s]),
        (&destroy, vec![(hand, &["delete"])], vec![hand]),
        // several at once: destructive first, then by address
        (
            &apply,
            vec![
                (hand, &["create"]),
                (&me_s, &["create"]),
                (&stranger_s, &["update"]),
                (&other_s, &["delete"]),
                ("aws_s3_bucket.b", &["delete", "create"]),
            ],
            vec!["aws_s3_bucket.b", &other_s, &stranger_s, hand],
        ),
    ];
    for address in &not_ids {
        cases.push((&apply, vec![(address, &["create"])], vec![address]));
    }

    for (n, (scope, changes, want)) in cases.iter().enumerate() {
        let plan = plan(changes);
        let expected = rust_check(scope, &plan);
        let got: Vec<&str> = expected.iter().map(|u| u.address.as_str()).collect();
        assert_eq!(&got, want, "case {n}: the Rust check");
        let (code, written, out) = python_check(&serde_json::to_string(scope).unwrap(), &plan);
        let written = written.unwrap_or_else(|| panic!("case {n}: no check.json: {out}"));
        assert_eq!(
            written,
            json!({ "blocked": serde_json::to_value(&expected).unwrap() }),
            "case {n}: {changes:?} under {scope:?}: {out}"
        );
        let blocked: Vec<Unexpected> = serde_json::from_value(written["blocked"].clone()).unwrap();
        assert_eq!(blocked, expected, "case {n}");
        if expected.is_empty() {
            assert_eq!(code, Some(0), "case {n}: {out}");
        } else {
            assert_eq!(code, Some(3), "case {n}: {out}");
            for u in &expected {
                assert!(out.contains(&u.address), "case {n}: {out}");
            }
        }
        assert!(!out.contains("s3cr3t"), "values are never printed");
    }
}

#[test]
fn owners_are_parsed_alike() {
    let me = id(9);
    let blocked = Scope {
        kind: ScopeKind::Apply,
        apply: vec![],
        destroy: vec![],
        confirmed: vec![],
        target: None,
    };
    let plan = plan(&[
        (&block(me), &["create"]),
        ("terraform_data.hand", &["create"]),
    ]);
    let (code, written, out) = python_check(&serde_json::to_string(&blocked).unwrap(), &plan);
    assert_eq!(code, Some(3), "{out}");
    let written = written.unwrap();
    assert_eq!(written["blocked"][0]["owner"], me.to_string());
    assert_eq!(written["blocked"][1]["owner"], Value::Null);
    assert_eq!(
        serde_json::from_value::<Vec<Unexpected>>(written["blocked"].clone()).unwrap(),
        rust_check(&blocked, &plan)
    );
}

#[test]
fn an_unreadable_scope_or_plan_stops_the_run() {
    let plan = plan(&[("terraform_data.hand", &["create"])]);
    for scope in ["", "not json", "[]", r#"{"kind":"converge"}"#] {
        let (code, written, out) = python_check(scope, &plan);
        assert_eq!(code, Some(2), "{scope:?}: {out}");
        assert!(written.is_none(), "{scope:?}");
    }
    let scope = r#"{"kind":"apply","apply":[]}"#;
    let (code, written, out) =
        python_check(scope, &json!({"resource_changes": [{"address": "x.y"}]}));
    assert_eq!(code, Some(2), "{out}");
    assert!(written.is_none());
}
