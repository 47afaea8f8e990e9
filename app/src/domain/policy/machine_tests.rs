//! Table tests of the machine scopes: a `metrics` token reads the metrics
//! and nothing else, and only admins read them otherwise.

use super::*;
use crate::domain::status::tests::{ALL, in_status};

fn person(login: &str, role: Role) -> Actor {
    Actor::person(login, role)
}

fn scoped(login: &str, owner: Role, scope: TokenScope) -> Actor {
    Actor {
        login: login.into(),
        role: scope.cap(owner),
        credential: Credential::Token { scope: Some(scope) },
    }
}

fn rule(op: Operation<'_>, who: &Actor) -> String {
    match decide_operation(op, who) {
        Decision::Allowed => "ok".into(),
        Decision::Forbidden { rule, .. } => rule,
        Decision::Conflict { .. } => "conflict".into(),
    }
}

#[test]
fn a_metrics_token_only_reads_metrics() {
    // Even an admin's metrics token acts as no role at all.
    let scraper = scoped("root", Role::Admin, TokenScope::Metrics);
    assert_eq!(scraper.machine_scope(), Some(TokenScope::Metrics));
    assert_eq!(scraper.role, Role::Viewer);
    #[rustfmt::skip]
    let table: &[(Operation<'_>, &str)] = &[
        (Operation::ReadMetrics, "ok"),
        (Operation::UseApi, "scope.metrics"),
        (Operation::File, "scope.metrics"),
        (Operation::ReadRequests, "scope.metrics"),
        (Operation::ReadJobs, "scope.metrics"),
        (Operation::FileRemediation, "scope.metrics"),
        (Operation::ListUsers, "scope.metrics"),
        (Operation::CreateToken { owner: "root", scope: None }, "scope.metrics"),
        (Operation::ManageIntegrations, "scope.metrics"),
    ];
    for (op, expected) in table {
        assert_eq!(&rule(*op, &scraper), expected, "{op:?}");
    }
    for status in ALL {
        let req = in_status("dev", status);
        for action in Action::ALL {
            let decision = decide(action, &req, &scraper, &Policy::default());
            assert!(
                matches!(&decision, Decision::Forbidden { rule, .. } if rule == METRICS_RULE),
                "{status} {action:?}: {decision:?}"
            );
        }
    }
}

#[test]
fn metrics_are_read_by_admins_and_metrics_tokens_only() {
    #[rustfmt::skip]
    let table: &[(Actor, &str)] = &[
        (person("root", Role::Admin), "ok"),
        (scoped("root", Role::Admin, TokenScope::Admin), "ok"),
        (scoped("root", Role::Admin, TokenScope::Metrics), "ok"),
        (scoped("vic", Role::Viewer, TokenScope::Metrics), "ok"),
        (scoped("root", Role::Admin, TokenScope::Approver), "metrics.scope"),
        (scoped("root", Role::Admin, TokenScope::Viewer), "metrics.scope"),
        (person("pat", Role::Approver), "metrics.scope"),
        (person("vic", Role::Viewer), "metrics.scope"),
        (scoped("root", Role::Admin, TokenScope::Automation), "scope.automation"),
    ];
    for (who, expected) in table {
        assert_eq!(&rule(Operation::ReadMetrics, who), expected, "{who:?}");
    }
}

#[test]
fn only_an_admin_gives_a_machine_scope() {
    let op = |scope| Operation::CreateToken {
        owner: "root",
        scope: Some(scope),
    };
    assert_eq!(
        rule(op(TokenScope::Metrics), &person("root", Role::Admin)),
        "ok"
    );
    assert_eq!(
        rule(op(TokenScope::Metrics), &person("root", Role::Approver)),
        "tokens.metrics"
    );
    assert_eq!(
        rule(op(TokenScope::Automation), &person("root", Role::Approver)),
        "tokens.automation"
    );
    let admin = person("root", Role::Admin);
    assert_eq!(
        token_scope(&admin, Some(TokenScope::Metrics)),
        Some(TokenScope::Metrics)
    );
    assert_eq!(TokenScope::parse("metrics"), Some(TokenScope::Metrics));
    for s in TokenScope::ALL {
        assert_eq!(TokenScope::parse(s.as_str()), Some(s));
        assert_eq!(s.is_machine(), s.role().is_none());
    }
}
