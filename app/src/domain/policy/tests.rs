//! Table tests: every status × action, then who may act.

use super::*;
use crate::domain::status::tests::{ALL, in_status};

fn policy() -> Policy {
    Policy {
        prod_environments: ["prod".to_owned()].into(),
        prod_allowed_users: ["pat".to_owned(), "alice".to_owned()].into(),
        destroy_prod_allowed_users: ["dora".to_owned()].into(),
        four_eyes: true,
        ..Policy::default()
    }
}

fn actor(login: &str, role: Role) -> Actor {
    Actor::person(login, role)
}

/// The actions the state allows, for an actor every rule lets through.
fn allowed_in(status: Status) -> &'static str {
    use Status as S;
    match status {
        S::Created => "plan update destroy",
        S::Planning => "update",
        S::PlanReady => "plan approve update destroy",
        S::Approved => "plan merge update destroy",
        S::Merged => "apply update destroy",
        S::Applying => "",
        S::Applied => "update destroy reapply",
        S::Destroying => "merge",
        S::Destroyed => "",
        S::Failed(Step::Plan) => "plan update destroy retry",
        S::Failed(_) => "update destroy retry",
    }
}

#[test]
fn every_status_allows_exactly_its_actions() {
    let admin = actor("root", Role::Admin);
    for status in ALL {
        let req = in_status("dev", status);
        let got: Vec<_> = allowed_actions(&req, &admin, &policy())
            .into_iter()
            .filter(|(_, d)| d.is_allowed())
            .map(|(a, _)| a.as_str())
            .collect();
        assert_eq!(got.join(" "), allowed_in(status), "status {status}");
        for (action, decision) in allowed_actions(&req, &admin, &policy()) {
            if let Decision::Conflict { reason, .. } = decision {
                assert!(!reason.is_empty(), "{status} {action:?}");
            } else {
                assert!(
                    decision.is_allowed(),
                    "admin on dev is never forbidden: {status} {action:?}"
                );
            }
        }
    }
}

/// The rule (or "ok") for an action in a state that allows it.
fn rule(action: Action, env: &str, who: &Actor) -> String {
    let status = match action {
        Action::Approve => Status::PlanReady,
        Action::Merge => Status::Approved,
        Action::Apply => Status::Merged,
        Action::Retry => Status::Failed(Step::Apply),
        _ => Status::Created,
    };
    let req = in_status(env, status);
    match decide(action, &req, who, &policy()) {
        Decision::Allowed => "ok".into(),
        Decision::Forbidden { rule, .. } => rule,
        Decision::Conflict { reason, .. } => panic!("state should allow {action:?}: {reason}"),
    }
}

#[test]
fn who_may_act_is_one_table() {
    let alice = actor("alice", Role::Requester); // owns every fixture request
    let mallory = actor("mallory", Role::Requester);
    let viewer = actor("vic", Role::Viewer);
    let bob = actor("bob", Role::Approver); // not on any allow-list
    let pat = actor("pat", Role::Approver); // prod allow-list
    let alice_approver = actor("alice", Role::Approver); // on the list, but owns the request
    let dora = actor("dora", Role::Admin); // prod destroy list only
    #[rustfmt::skip]
    let table: &[(&Actor, &str, Action, &str)] = &[
        (&viewer, "dev", Action::Plan, "role.viewer"),
        (&viewer, "dev", Action::Approve, "role.viewer"),
        (&alice, "dev", Action::Plan, "ok"),
        (&alice, "dev", Action::Update, "ok"),
        (&alice, "dev", Action::Destroy, "ok"),
        (&alice, "dev", Action::Approve, "role.approver"),
        (&alice, "dev", Action::Merge, "role.approver"),
        (&alice, "dev", Action::Apply, "role.approver"),
        (&alice, "dev", Action::Retry, "role.approver"),
        (&alice, "prod", Action::Destroy, "prod.destroy_allow_list"),
        (&mallory, "dev", Action::Plan, "role.requester_own"),
        (&mallory, "dev", Action::Update, "role.requester_own"),
        (&mallory, "dev", Action::Destroy, "role.requester_own"),
        (&bob, "dev", Action::Approve, "ok"),
        (&bob, "dev", Action::Merge, "ok"),
        (&bob, "dev", Action::Apply, "ok"),
        (&bob, "dev", Action::Update, "ok"),
        (&bob, "prod", Action::Approve, "prod.allow_list"),
        (&bob, "prod", Action::Merge, "prod.allow_list"),
        (&bob, "prod", Action::Apply, "prod.allow_list"),
        (&bob, "prod", Action::Retry, "prod.allow_list"),
        (&bob, "prod", Action::Destroy, "prod.destroy_allow_list"),
        (&pat, "prod", Action::Approve, "ok"),
        (&pat, "prod", Action::Merge, "ok"),
        (&pat, "prod", Action::Apply, "ok"),
        (&pat, "prod", Action::Destroy, "prod.destroy_allow_list"),
        (&alice_approver, "prod", Action::Approve, "prod.four_eyes"),
        (&alice_approver, "prod", Action::Merge, "ok"),
        (&alice_approver, "dev", Action::Approve, "ok"),
        (&dora, "prod", Action::Destroy, "ok"),
        (&dora, "prod", Action::Approve, "prod.allow_list"),
        (&dora, "dev", Action::Approve, "ok"),
    ];
    for (who, env, action, expected) in table {
        assert_eq!(
            &rule(*action, env, who),
            expected,
            "{} on {env}: {action:?}",
            who.login
        );
    }
}

#[test]
fn four_eyes_can_be_switched_off() {
    let mut p = policy();
    p.four_eyes = false;
    let req = in_status("prod", Status::PlanReady);
    let own = actor("alice", Role::Approver);
    assert!(decide(Action::Approve, &req, &own, &p).is_allowed());
}

#[test]
fn forbidden_wins_over_conflict() {
    let req = in_status("dev", Status::Destroyed);
    let d = decide(
        Action::Approve,
        &req,
        &actor("vic", Role::Viewer),
        &policy(),
    );
    assert!(matches!(d, Decision::Forbidden { .. }), "{d:?}");
}

#[test]
fn actions_and_roles_round_trip_by_name() {
    for a in Action::ALL {
        assert_eq!(Action::parse(a.as_str()), Some(a));
    }
    for r in [Role::Viewer, Role::Requester, Role::Approver, Role::Admin] {
        assert_eq!(Role::parse(r.as_str()), Some(r));
    }
    assert_eq!(Action::parse("nuke"), None);
}

fn conflict_of(d: Decision) -> (String, Option<String>) {
    match d {
        Decision::Conflict { reason, rule } => (reason, rule),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn a_merge_without_an_approval_of_its_head_is_not_applied() {
    let pat = actor("pat", Role::Approver);
    let mut req = in_status("dev", Status::Merged);
    assert!(approval_holds(&req));
    // Merged on the host at another head than the approved one.
    req.pr.as_mut().unwrap().head_sha = "other".into();
    assert_eq!(derive_status(&req), Status::Merged);
    let (_, rule) = conflict_of(decide(Action::Apply, &req, &pat, &policy()));
    assert_eq!(rule.as_deref(), Some("approval.missing"));
    // It may be planned again; once planned at its head, approved.
    assert!(decide(Action::Plan, &req, &pat, &policy()).is_allowed());
    assert!(!decide(Action::Approve, &req, &pat, &policy()).is_allowed());
    let mut planned = req.runs.plan.attempts[0].clone();
    planned.attempt = 2;
    planned.head_sha = "other".into();
    req.runs.plan.attempts.push(planned);
    req.runs.plan.current_attempt = 2;
    assert!(decide(Action::Approve, &req, &pat, &policy()).is_allowed());
}

#[test]
fn a_merge_onto_a_main_its_plan_did_not_see_is_stale_until_planned_again() {
    let pat = actor("pat", Role::Approver);
    let mut req = in_status("dev", Status::Merged);
    // Merged on the host at the approved head, but onto a newer main: the
    // driver recorded that main and voided the approval.
    req.pr.as_mut().unwrap().main_sha = Some("newer-main".into());
    let approval = req.approval.take();
    let (reason, rule) = conflict_of(decide(Action::Apply, &req, &pat, &policy()));
    assert_eq!(rule.as_deref(), Some("approval.stale"));
    assert!(reason.contains("newer-main"), "{reason}");
    // A plan of the merged change and its approval make it shippable.
    assert!(decide(Action::Plan, &req, &pat, &policy()).is_allowed());
    let mut planned = req.runs.plan.attempts[0].clone();
    planned.attempt = 2;
    req.runs.plan.attempts.push(planned);
    req.runs.plan.current_attempt = 2;
    let mut approval = approval.unwrap();
    approval.plan_attempt = 2;
    req.approval = Some(approval);
    assert!(decide(Action::Apply, &req, &pat, &policy()).is_allowed());
}

#[test]
fn an_applied_request_names_the_run_that_applied_it() {
    let pat = actor("pat", Role::Approver);
    let mut req = in_status("dev", Status::Applied);
    req.runs.apply.attempts[0].via = Some("someone-else-apply-1".into());
    let (reason, _) = conflict_of(decide(Action::Apply, &req, &pat, &policy()));
    assert!(
        reason.contains("already applied by run someone-else-apply-1"),
        "{reason}"
    );
}

#[test]
fn only_a_blocked_run_is_confirmed_and_only_by_who_may_ship() {
    let mut req = in_status("prod", Status::Failed(Step::Apply));
    let (reason, _) = conflict_of(decide(
        Action::Confirm,
        &req,
        &actor("pat", Role::Approver),
        &policy(),
    ));
    assert!(reason.contains("blocked"), "{reason}");
    let a = &mut req.runs.apply.attempts[0];
    a.conclusion = Some(crate::domain::request::Conclusion::Blocked);
    assert!(blocked_attempt(&req).is_some());
    assert!(
        decide(
            Action::Confirm,
            &req,
            &actor("pat", Role::Approver),
            &policy()
        )
        .is_allowed()
    );
    assert_eq!(
        decide(
            Action::Confirm,
            &req,
            &actor("ann", Role::Approver),
            &policy()
        ),
        Decision::Forbidden {
            rule: "prod.allow_list".into(),
            reason: "confirm in production needs a user on the prod allow-list".into()
        }
    );
    assert!(
        !decide(
            Action::Confirm,
            &req,
            &actor("alice", Role::Requester),
            &policy()
        )
        .is_allowed()
    );
}

#[test]
fn reapply_is_for_applied_requests_and_needs_the_rights_of_an_apply() {
    let req = in_status("prod", Status::Applied);
    let cases: &[(&str, Role, Option<&str>)] = &[
        ("pat", Role::Approver, None),
        ("root", Role::Admin, Some("prod.allow_list")),
        ("ann", Role::Approver, Some("prod.allow_list")),
        ("alice", Role::Requester, Some("role.approver")),
        ("vic", Role::Viewer, Some("role.viewer")),
    ];
    for (login, role, rule) in cases {
        let d = decide(Action::Reapply, &req, &actor(login, *role), &policy());
        match rule {
            None => assert!(d.is_allowed(), "{login}: {d:?}"),
            Some(rule) => assert!(
                matches!(&d, Decision::Forbidden { rule: r, .. } if r == rule),
                "{login}: {d:?}"
            ),
        }
    }
    let merged = in_status("dev", Status::Merged);
    let (reason, _) = conflict_of(decide(
        Action::Reapply,
        &merged,
        &actor("root", Role::Admin),
        &policy(),
    ));
    assert!(reason.contains("only an applied request"), "{reason}");
    assert_eq!(Action::from_path("reapply"), Ok(Action::Reapply));
}

#[test]
fn whoever_changed_the_config_may_not_approve_it_in_production() {
    let pat = actor("pat", Role::Approver); // on the prod allow-list
    let mut req = in_status("prod", Status::PlanReady);
    assert!(decide(Action::Approve, &req, &pat, &policy()).is_allowed());
    req.add_author("pat");
    req.add_author("pat");
    assert_eq!(req.authors, ["pat"], "an author is listed once");
    let d = decide(Action::Approve, &req, &pat, &policy());
    assert!(
        matches!(&d, Decision::Forbidden { rule, reason } if rule == "prod.four_eyes" && reason.contains("changed its config")),
        "{d:?}"
    );
    // Merging and applying what someone else approved stays allowed, and
    // in dev an author may approve.
    assert!(
        decide(
            Action::Approve,
            &in_status_by("dev", &["pat"]),
            &pat,
            &policy()
        )
        .is_allowed()
    );
    let mut approved = in_status("prod", Status::Approved);
    approved.add_author("pat");
    assert!(decide(Action::Merge, &approved, &pat, &policy()).is_allowed());
}

fn in_status_by(env: &str, authors: &[&str]) -> Request {
    let mut req = in_status(env, Status::PlanReady);
    for a in authors {
        req.add_author(a);
    }
    req
}

fn token(login: &str, role: Role, scope: Option<Role>) -> Actor {
    Actor {
        credential: Credential::Token {
            scope: scope.map(TokenScope::from),
        },
        ..actor(login, role)
    }
}

fn op_rule(op: Operation<'_>, who: &Actor) -> String {
    match decide_operation(op, who) {
        Decision::Allowed => "ok".into(),
        Decision::Forbidden { rule, .. } => rule,
        Decision::Conflict { .. } => "conflict".into(),
    }
}

#[test]
fn filing_people_tokens_and_audit_are_one_table() {
    let root = actor("root", Role::Admin);
    let root_token = token("root", Role::Admin, None);
    let ann = actor("ann", Role::Requester);
    let ann_token = token("ann", Role::Requester, None);
    let vic = actor("vic", Role::Viewer);
    let scoped = token("root", Role::Viewer, Some(Role::Viewer)); // an admin's viewer token
    let change = |login, role, disabled, password| Operation::ChangeUser {
        login,
        role,
        disabled,
        password,
        links: false,
    };
    let links = |login| Operation::ChangeUser {
        login,
        role: None,
        disabled: None,
        password: false,
        links: true,
    };
    #[rustfmt::skip]
    let table: &[(&Actor, Operation<'_>, &str)] = &[
        (&vic, Operation::File, "role.viewer"),
        (&scoped, Operation::File, "role.viewer"),
        (&ann, Operation::File, "ok"),
        (&ann, Operation::ListUsers, "users.admin"),
        (&scoped, Operation::ListUsers, "users.admin"),
        (&root_token, Operation::ListUsers, "ok"),
        (&ann, Operation::AddUser, "users.admin"),
        (&root, Operation::AddUser, "ok"),
        (&ann, change("ann", None, None, true), "ok"),
        (&ann_token, change("ann", None, None, true), "password.session"),
        (&root_token, change("ann", None, None, true), "password.session"),
        (&scoped, change("root", None, None, true), "password.session"),
        (&ann, change("bob", None, None, true), "users.admin"),
        (&ann, change("ann", Some(Role::Admin), None, false), "users.admin"),
        (&root, change("ann", Some(Role::Admin), None, false), "ok"),
        (&root, change("root", Some(Role::Viewer), None, false), "conflict"),
        (&root, change("root", None, Some(true), false), "conflict"),
        (&ann, links("ann"), "users.admin"),
        (&ann, links("bob"), "users.admin"),
        (&scoped, links("root"), "users.admin"),
        (&root, links("ann"), "ok"),
        (&root, links("root"), "ok"),
        (&root_token, links("ann"), "ok"),
        (&ann, Operation::ListTokens { owner: Some("ann") }, "ok"),
        (&ann, Operation::ListTokens { owner: None }, "users.admin"),
        (&ann, Operation::CreateToken { owner: "ann", scope: None }, "ok"),
        (&ann, Operation::CreateToken { owner: "ann", scope: Some(TokenScope::Admin) }, "tokens.scope"),
        (&ann, Operation::CreateToken { owner: "bob", scope: None }, "tokens.owner"),
        (&scoped, Operation::CreateToken { owner: "root", scope: Some(TokenScope::Admin) }, "tokens.scope"),
        (&scoped, Operation::CreateToken { owner: "root", scope: Some(TokenScope::Viewer) }, "ok"),
        (&scoped, Operation::CreateToken { owner: "bob", scope: None }, "tokens.owner"),
        (&root, Operation::CreateToken { owner: "bob", scope: None }, "ok"),
        (&ann, Operation::RevokeToken { owner: "ann" }, "ok"),
        (&ann, Operation::RevokeToken { owner: "bob" }, "tokens.owner"),
        (&vic, Operation::ReadAudit { request: true }, "ok"),
        (&ann, Operation::ReadAudit { request: false }, "audit.admin"),
        (&scoped, Operation::ReadAudit { request: false }, "audit.admin"),
        (&root, Operation::ReadAudit { request: false }, "ok"),
        (&vic, Operation::ReadRequests, "ok"),
        (&scoped, Operation::ReadRequests, "ok"),
        (&ann_token, Operation::ReadRequests, "ok"),
        (&ann, Operation::ManageIntegrations, "integrations.admin"),
        (&scoped, Operation::ManageIntegrations, "integrations.admin"),
        (&root, Operation::ManageIntegrations, "ok"),
        (&root_token, Operation::ManageIntegrations, "ok"),
    ];
    for (who, op, expected) in table {
        assert_eq!(
            &op_rule(*op, who),
            expected,
            "{} {:?}: {op:?}",
            who.login,
            who.credential
        );
    }
}

#[test]
fn a_scoped_caller_passes_its_scope_on() {
    let scoped = token("root", Role::Viewer, Some(Role::Viewer));
    assert_eq!(token_scope(&scoped, None), Some(TokenScope::Viewer));
    assert_eq!(
        token_scope(&scoped, Some(TokenScope::Admin)),
        Some(TokenScope::Viewer)
    );
    let unscoped = token("root", Role::Admin, None);
    assert_eq!(token_scope(&unscoped, None), None);
    assert_eq!(
        token_scope(&unscoped, Some(TokenScope::Approver)),
        Some(TokenScope::Approver)
    );
    assert_eq!(
        token_scope(&unscoped, Some(TokenScope::Automation)),
        Some(TokenScope::Automation)
    );
    assert_eq!(token_scope(&actor("ann", Role::Requester), None), None);
}

#[test]
fn action_names_from_outside_are_parsed_once() {
    for a in ["plan", "approve", "merge", "apply", "destroy", "retry"] {
        assert_eq!(Action::from_path(a).map(Action::as_str), Ok(a));
    }
    for bad in ["update", "confirm", "nuke", ""] {
        let e = Action::from_path(bad).unwrap_err();
        assert!(e.contains("is not an action"), "{bad}: {e}");
    }
}

fn automation(login: &str, owner: Role) -> Actor {
    Actor {
        login: login.into(),
        role: TokenScope::Automation.cap(owner),
        credential: Credential::Token {
            scope: Some(TokenScope::Automation),
        },
    }
}

#[test]
fn an_automation_token_only_files_remediations() {
    // Even an admin's automation token: it acts as no role at all.
    let bot = automation("root", Role::Admin);
    assert!(bot.is_automation());
    assert_eq!(
        bot.role,
        Role::Viewer,
        "the lowest role, for every `<` check"
    );
    #[rustfmt::skip]
    let table: &[(Operation<'_>, &str)] = &[
        (Operation::FileRemediation, "ok"),
        (Operation::UseApi, "scope.automation"),
        (Operation::File, "scope.automation"),
        (Operation::ReadRequests, "scope.automation"),
        (Operation::ReadJobs, "scope.automation"),
        (Operation::ReadAudit { request: true }, "scope.automation"),
        (Operation::ListUsers, "scope.automation"),
        (Operation::ListTokens { owner: Some("root") }, "scope.automation"),
        (Operation::CreateToken { owner: "root", scope: None }, "scope.automation"),
        (Operation::RevokeToken { owner: "root" }, "scope.automation"),
        (Operation::ManageIntegrations, "scope.automation"),
    ];
    for (op, expected) in table {
        assert_eq!(&op_rule(*op, &bot), expected, "{op:?}");
    }
    for who in [
        actor("root", Role::Admin),
        token("root", Role::Admin, None),
        actor("ann", Role::Requester),
        actor("vic", Role::Viewer),
    ] {
        assert_eq!(
            op_rule(Operation::FileRemediation, &who),
            "alerts.automation",
            "{who:?}"
        );
        assert_eq!(op_rule(Operation::UseApi, &who), "ok");
        assert_eq!(op_rule(Operation::ReadJobs, &who), "ok");
    }
    for status in ALL {
        for env in ["dev", "prod"] {
            let req = in_status(env, status);
            for (action, decision) in allowed_actions(&req, &bot, &policy()) {
                assert!(
                    matches!(&decision, Decision::Forbidden { rule, .. } if rule == "scope.automation"),
                    "{status} {env} {action:?}: {decision:?}"
                );
            }
        }
    }
}

#[test]
fn only_an_admin_gives_the_automation_scope() {
    let op = |owner| Operation::CreateToken {
        owner,
        scope: Some(TokenScope::Automation),
    };
    assert_eq!(op_rule(op("bot"), &actor("root", Role::Admin)), "ok");
    assert_eq!(op_rule(op("root"), &token("root", Role::Admin, None)), "ok");
    assert_eq!(
        op_rule(op("ann"), &actor("ann", Role::Approver)),
        "tokens.automation"
    );
    assert_eq!(
        op_rule(op("root"), &token("root", Role::Viewer, Some(Role::Viewer))),
        "tokens.automation",
        "an admin's viewer token is no admin"
    );
    assert_eq!(
        TokenScope::parse("automation"),
        Some(TokenScope::Automation)
    );
    for s in TokenScope::ALL {
        assert_eq!(TokenScope::parse(s.as_str()), Some(s));
    }
}

#[test]
fn a_remediation_job_never_ships_in_production() {
    let job = Actor {
        login: "policy:scale".into(),
        role: Role::Approver,
        credential: Credential::Remediation,
    };
    // Even on the allow-lists.
    let mut pol = policy();
    pol.prod_allowed_users.insert(job.login.clone());
    pol.destroy_prod_allowed_users.insert(job.login.clone());
    for (action, status) in [
        (Action::Approve, Status::PlanReady),
        (Action::Merge, Status::Approved),
        (Action::Apply, Status::Merged),
        (Action::Destroy, Status::Applied),
    ] {
        let prod = decide(action, &in_status("prod", status), &job, &pol);
        assert!(
            matches!(&prod, Decision::Forbidden { rule, .. } if rule == "prod.remediation"),
            "{action:?}: {prod:?}"
        );
        assert!(decide(action, &in_status("dev", status), &job, &pol).is_allowed());
    }
    let update = decide(
        Action::Update,
        &in_status("prod", Status::Applied),
        &job,
        &pol,
    );
    assert!(
        update.is_allowed(),
        "a new revision waits for people: {update:?}"
    );
}

/// Two teams: `pay` open with members, `core` for its members only.
fn teams() -> Policy {
    let mut p = policy();
    p.projects.insert(
        "pay".into(),
        ProjectAccess {
            members: [
                ("ana".to_owned(), Role::Approver),
                ("rex".to_owned(), Role::Viewer),
            ]
            .into(),
            prod_allowed_users: Some(["ana".to_owned()].into()),
            ..ProjectAccess::default()
        },
    );
    p.projects.insert(
        "core".into(),
        ProjectAccess {
            visibility: Visibility::Members,
            members: [("cat".to_owned(), Role::Approver)].into(),
            ..ProjectAccess::default()
        },
    );
    p
}

#[test]
fn a_project_role_decides_in_its_project_only() {
    let in_project = |project: &str, env: &str, status| {
        let mut req = in_status(env, status);
        req.project = crate::domain::ids::ProjectKey::parse(project).expect("key");
        req
    };
    let ana = actor("ana", Role::Requester); // approver of `pay` only
    let rex = actor("rex", Role::Approver); // viewer of `pay`, approver elsewhere
    let cat = actor("cat", Role::Requester); // approver of hidden `core`
    let pat = actor("pat", Role::Approver); // on the deployment's prod list
    let root = actor("root", Role::Admin);
    #[rustfmt::skip]
    let table: &[(&Actor, &str, &str, &str)] = &[
        (&ana, "pay", "dev", "ok"),
        (&ana, "pay", "prod", "ok"),            // the project's own allow-list
        (&ana, "open", "dev", "role.approver"), // her global role elsewhere
        (&ana, "core", "dev", "project.hidden"),
        (&rex, "pay", "dev", "role.viewer"),     // demoted in `pay`
        (&rex, "open", "dev", "ok"),
        (&pat, "pay", "prod", "prod.allow_list"), // `pay` replaces the list
        (&pat, "open", "prod", "ok"),
        (&cat, "core", "dev", "ok"),
        (&cat, "pay", "dev", "role.approver"),
        (&root, "core", "dev", "ok"),             // admins are admins everywhere
    ];
    for (who, project, env, expected) in table {
        let req = in_project(project, env, Status::PlanReady);
        let got = match decide(Action::Approve, &req, who, &teams()) {
            Decision::Allowed => "ok".to_owned(),
            Decision::Forbidden { rule, .. } => rule,
            Decision::Conflict { reason, .. } => panic!("{reason}"),
        };
        assert_eq!(&got, expected, "{} approves in {project}/{env}", who.login);
    }
    let hidden = in_project("core", "dev", Status::PlanReady);
    assert!(teams().sees("core", &cat) && !teams().sees("core", &ana));
    assert!(
        allowed_actions(&hidden, &ana, &teams())
            .iter()
            .all(|(_, d)| !d.is_allowed())
    );
}

#[test]
fn projects_are_created_by_admins_and_their_members_managed_by_project_admins() {
    let root = actor("root", Role::Admin);
    let lead = actor("lead", Role::Requester);
    let change = |role_here, settings| Operation::ChangeProject {
        role_here,
        settings,
    };
    #[rustfmt::skip]
    let table: &[(Operation<'_>, &Actor, &str)] = &[
        (Operation::CreateProject, &root, "ok"),
        (Operation::CreateProject, &lead, "projects.admin"),
        (change(Some(Role::Admin), false), &lead, "ok"),
        (change(Some(Role::Admin), true), &lead, "projects.admin"),
        (change(Some(Role::Approver), false), &lead, "projects.members"),
        (change(None, false), &lead, "projects.members"),
        (change(None, true), &root, "ok"),
        (Operation::ManageIntegrations, &root, "ok"),
        (Operation::ManageIntegrations, &lead, "integrations.admin"),
    ];
    for (op, who, expected) in table {
        assert_eq!(&op_rule(*op, who), expected, "{op:?} by {}", who.login);
    }
}
