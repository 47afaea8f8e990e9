//! Table tests: each transition from the facts that allow it, and the
//! refusal (with its rule) from the facts that do not.

use super::*;
use crate::domain::request::{Conclusion, PrState, RunStatus};
use crate::domain::scope::Unexpected;
use crate::domain::status::tests::{HEAD, MERGE, in_status};
use crate::domain::status::{Status, derive_status};

const NOW: &str = "2026-02-02T00:00:00Z";
const TIP: &str = "tip0000000aaaa";

/// A request in `status` (dev), its PR known to contain main at `TIP`.
fn at(status: Status) -> Request {
    let mut r = in_status("dev", status);
    if let Some(pr) = r.pr.as_mut() {
        pr.base_sha = Some(TIP.into());
    }
    for a in &mut r.runs.plan.attempts {
        a.base_sha = Some(TIP.into());
    }
    if let Some(a) = r.approval.as_mut() {
        a.base_sha = Some(TIP.into());
    }
    r
}

fn kinds(r: &Request) -> Vec<&str> {
    r.events.iter().map(|e| e.kind.as_str()).collect()
}

/// A request whose newest apply (or, with a cleanup, destroy) was blocked
/// by `changes` (`(action, address)`).
fn blocked(status: Status, changes: &[(&str, &str)]) -> Request {
    let mut r = at(status);
    let history = if r.cleanup_pr.is_some() {
        &mut r.runs.destroy
    } else {
        &mut r.runs.apply
    };
    let a = history.attempts.last_mut().expect("an attempt");
    a.conclusion = Some(Conclusion::Blocked);
    a.status = RunStatus::Completed;
    a.blocked = changes
        .iter()
        .map(|(action, address)| Unexpected {
            address: (*address).into(),
            action: (*action).into(),
            owner: None,
        })
        .collect();
    r
}

#[test]
fn queueing_numbers_attempts_and_needs_a_commit() {
    // (status, kind, the attempt queued or the refusal)
    let rows: &[(Status, RunKind, Result<u32, Refusal>)] = &[
        (
            Status::Created,
            RunKind::Plan,
            Err(Refusal::NoCommit(RunKind::Plan)),
        ),
        (Status::PlanReady, RunKind::Plan, Ok(2)),
        (Status::Planning, RunKind::Plan, Ok(2)),
        (
            Status::PlanReady,
            RunKind::Apply,
            Err(Refusal::NoCommit(RunKind::Apply)),
        ),
        (Status::Merged, RunKind::Apply, Ok(1)),
        (Status::Applied, RunKind::Apply, Ok(2)),
        (
            Status::Applied,
            RunKind::Destroy,
            Err(Refusal::NoCommit(RunKind::Destroy)),
        ),
        (
            Status::Destroying,
            RunKind::Destroy,
            Err(Refusal::NoCommit(RunKind::Destroy)),
        ),
        (Status::Failed(Step::Destroy), RunKind::Destroy, Ok(2)),
    ];
    for (status, kind, want) in rows {
        let before = at(*status);
        let mut doc = before.clone();
        let got = queue_attempt(&mut doc, *kind, "alice", Some("why".into()), NOW);
        assert_eq!(&got, want, "{status} {kind:?}");
        let Ok(n) = got else {
            assert_eq!(doc, before, "a refusal leaves the document as it was");
            continue;
        };
        let a = history(&doc, *kind).latest().expect("queued");
        assert_eq!(a.attempt, n);
        assert_eq!(a.run_id, format!("{}-{}-{n}", doc.id, kind.as_str()));
        assert_eq!(
            (a.status, a.dispatched_at.as_str()),
            (RunStatus::Queued, NOW)
        );
        assert_eq!(a.reason.as_deref(), Some("why"));
        let sha = if *kind == RunKind::Plan { HEAD } else { MERGE };
        assert_eq!(a.head_sha, sha);
        let base = (*kind == RunKind::Plan).then(|| TIP.to_owned());
        assert_eq!(a.base_sha, base, "only a plan records its base");
        let e = doc.events.last().expect("an event");
        assert_eq!(e.kind, format!("{}_queued", kind.as_str()));
        assert_eq!(
            e.detail,
            format!("{} attempt {n} at {sha} (why)", kind.as_str())
        );
    }
}

#[test]
fn approve_takes_the_newest_plan_of_the_head_on_the_current_main() {
    let stale = |seen: Option<&str>| Refusal::Stale {
        tip: "newtip".into(),
        seen: seen.map(str::to_owned),
    };
    // (request, tip of main, approved plan attempt or refusal)
    let mut head_moved = at(Status::PlanReady);
    head_moved.pr.as_mut().unwrap().head_sha = "cccc".into();
    let mut two_plans = at(Status::PlanReady);
    let mut second = two_plans.runs.plan.attempts[0].clone();
    second.attempt = 2;
    two_plans.runs.plan.attempts.push(second);
    let mut plan_before_refresh = at(Status::PlanReady);
    plan_before_refresh.runs.plan.attempts[0].base_sha = None;
    let rows: Vec<(&str, Request, &str, Result<u32, Refusal>)> = vec![
        ("plan ready", at(Status::PlanReady), TIP, Ok(1)),
        ("newest plan", two_plans, TIP, Ok(2)),
        ("again", at(Status::Approved), TIP, Ok(1)),
        ("no PR", at(Status::Created), TIP, Err(Refusal::NoPr)),
        ("no plan of the head", head_moved, TIP, Err(Refusal::NoPlan)),
        (
            "main moved",
            at(Status::PlanReady),
            "newtip",
            Err(stale(Some(TIP))),
        ),
        (
            "plan of an older base",
            plan_before_refresh,
            TIP,
            Err(Refusal::Stale {
                tip: TIP.into(),
                seen: None,
            }),
        ),
        // A merged change is approved whatever main is now.
        ("merged", at(Status::Merged), "newtip", Ok(1)),
    ];
    for (name, doc, tip, want) in rows {
        let got = approve(&doc, "bob", tip, NOW);
        match (&got, &want) {
            (Ok(next), Ok(n)) => {
                let a = next.approval.as_ref().expect("approved");
                assert_eq!(
                    (a.by.as_str(), a.at.as_str(), a.plan_attempt),
                    ("bob", NOW, *n),
                    "{name}"
                );
                assert_eq!(a.head_sha, next.pr.as_ref().unwrap().head_sha, "{name}");
                assert_eq!(kinds(next).last(), Some(&"approved"), "{name}");
            }
            (Err(e), Err(w)) => assert_eq!(e, w, "{name}"),
            _ => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn refusals_name_their_rule_and_keep_their_message() {
    let rows = [
        (
            Refusal::NoCommit(RunKind::Apply),
            None,
            "there is no commit to apply yet",
        ),
        (Refusal::NoPr, None, "no PR"),
        (Refusal::NoPlan, None, "no plan to approve"),
        (Refusal::NothingFailed, None, "nothing has failed"),
        (Refusal::NothingBlocked, None, "no blocked run to confirm"),
        (
            Refusal::Reason,
            Some("reject.reason"),
            "a rejection needs a reason of 1 to 500 characters",
        ),
        (
            Refusal::Stale {
                tip: "0123456789abcdef".into(),
                seen: Some("fedcba9876543210".into()),
            },
            Some("approval.stale"),
            "the plan was made against main at fedcba9876, but main is now at 0123456789: tfpilot brings the PR up to date and plans it again; approve that plan",
        ),
        (
            Refusal::Stale {
                tip: "abc".into(),
                seen: None,
            },
            Some("approval.stale"),
            "the plan was made against main at an older commit, but main is now at abc: tfpilot brings the PR up to date and plans it again; approve that plan",
        ),
        (
            Refusal::ConfirmMismatch {
                listed: vec!["a.x".into(), "b.y".into()],
            },
            Some("confirm.mismatch"),
            "addresses must be exactly the blocked run's: a.x, b.y",
        ),
    ];
    for (refusal, rule, message) in rows {
        assert_eq!(refusal.rule(), rule, "{refusal:?}");
        assert_eq!(refusal.to_string(), message);
    }
}

#[test]
fn retry_repeats_the_failed_step_only() {
    // (status, the status after or the refusal)
    let rows: &[(Status, Result<Status, Refusal>)] = &[
        (Status::Failed(Step::Plan), Ok(Status::Planning)),
        (Status::Failed(Step::Apply), Ok(Status::Applying)),
        (Status::Failed(Step::Destroy), Ok(Status::Destroying)),
        // A closed PR is forgotten: the step driver opens a new one.
        (Status::Failed(Step::Pr), Ok(Status::Created)),
        // (The fixture's cleanup follows a merge without an apply.)
        (Status::Failed(Step::Cleanup), Ok(Status::Merged)),
        (Status::PlanReady, Err(Refusal::NothingFailed)),
        (Status::Applied, Err(Refusal::NothingFailed)),
        (Status::Created, Err(Refusal::NothingFailed)),
    ];
    for (status, want) in rows {
        let got = retry(&at(*status), "alice", NOW);
        match (&got, want) {
            (Ok(next), Ok(after)) => {
                assert_eq!(derive_status(next), *after, "{status}");
                let e = next.events.last().expect("an event");
                assert_eq!(
                    (e.kind.as_str(), e.detail.clone()),
                    ("retry", status.to_string())
                );
            }
            (Err(e), Err(w)) => assert_eq!(e, w, "{status}"),
            _ => panic!("{status}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn plan_voids_the_approval_and_a_merged_change_is_planned_as_main() {
    // (status, tip, the new attempt's base, the approval kept)
    type Row<'a> = (Status, &'a str, Result<Option<&'a str>, Refusal>);
    let rows: &[Row<'_>] = &[
        (Status::PlanReady, "newtip", Ok(Some(TIP))),
        (Status::Approved, TIP, Ok(Some(TIP))),
        (Status::Applied, "newtip", Ok(Some("newtip"))),
        (Status::Created, TIP, Err(Refusal::NoCommit(RunKind::Plan))),
    ];
    for (status, tip, want) in rows {
        let doc = at(*status);
        match (plan(&doc, "alice", tip, NOW), want) {
            (Ok(next), Ok(base)) => {
                assert!(next.approval.is_none(), "{status}");
                let a = next.runs.plan.latest().expect("queued");
                assert_eq!(a.base_sha.as_deref(), *base, "{status}");
                let voided = kinds(&next).contains(&"approval_voided");
                assert_eq!(voided, doc.approval.is_some(), "{status}");
            }
            (Err(e), Err(w)) => assert_eq!(&e, w, "{status}"),
            (got, _) => panic!("{status}: got {got:?}, want {want:?}"),
        }
    }
    assert!(apply(&at(Status::Merged), "bob", NOW).is_ok());
    assert_eq!(
        apply(&at(Status::Approved), "bob", NOW),
        Err(Refusal::NoCommit(RunKind::Apply))
    );
}

#[test]
fn confirm_takes_exactly_the_blocked_changes() {
    let changes = [("delete", "aws_s3_bucket.a"), ("update", "aws_iam_role.b")];
    let mismatch = Err(Refusal::ConfirmMismatch {
        listed: vec!["aws_iam_role.b".into(), "aws_s3_bucket.a".into()],
    });
    let list = |xs: &[&str]| Some(xs.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>());
    // (name, request, addresses given, the kind queued again or the refusal)
    type Row<'a> = (
        &'a str,
        Request,
        Option<Vec<String>>,
        Result<RunKind, Refusal>,
    );
    let rows: Vec<Row<'_>> = vec![
        (
            "from the page's button",
            blocked(Status::Applied, &changes),
            None,
            Ok(RunKind::Apply),
        ),
        (
            "as addresses",
            blocked(Status::Applied, &changes),
            list(&["aws_iam_role.b", "aws_s3_bucket.a"]),
            Ok(RunKind::Apply),
        ),
        (
            "as shown",
            blocked(Status::Applied, &changes),
            list(&["delete aws_s3_bucket.a", "update aws_iam_role.b"]),
            Ok(RunKind::Apply),
        ),
        (
            "a destroy",
            blocked(Status::Failed(Step::Destroy), &changes),
            None,
            Ok(RunKind::Destroy),
        ),
        (
            "one missing",
            blocked(Status::Applied, &changes),
            list(&["aws_s3_bucket.a"]),
            mismatch.clone(),
        ),
        (
            "other actions than shown",
            blocked(Status::Applied, &changes),
            list(&["update aws_s3_bucket.a", "update aws_iam_role.b"]),
            mismatch,
        ),
        (
            "nothing blocked",
            at(Status::Applied),
            None,
            Err(Refusal::NothingBlocked),
        ),
        (
            "a failure is not a block",
            at(Status::Failed(Step::Apply)),
            None,
            Err(Refusal::NothingBlocked),
        ),
    ];
    for (name, doc, given, want) in rows {
        match (confirm(&doc, "bob", given.as_deref(), NOW), want) {
            (Ok(next), Ok(kind)) => {
                let c = next.confirmation.as_ref().expect("confirmed");
                assert_eq!(
                    (c.by.as_str(), c.kind.as_str()),
                    ("bob", kind.as_str()),
                    "{name}"
                );
                assert_eq!(c.changes.len(), 2, "{name}");
                let a = history(&next, kind).latest().expect("queued again");
                assert_eq!(a.status, RunStatus::Queued, "{name}");
                assert_eq!(
                    a.reason.as_deref(),
                    Some("changes confirmed by bob"),
                    "{name}"
                );
                let k = kinds(&next);
                assert_eq!(
                    k[k.len() - 2..],
                    ["changes_confirmed", &format!("{}_queued", kind.as_str())],
                    "{name}"
                );
            }
            (Err(e), Err(w)) => assert_eq!(e, w, "{name}"),
            (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn a_new_revision_supersedes_the_current_one() {
    let mut config = Config::new();
    config.insert("name".into(), "q2".into());
    let mut confirmed = blocked(Status::Applied, &[("delete", "x.y")]);
    confirmed = confirm(&confirmed, "bob", None, NOW).unwrap();
    // (name, request, by, authors after, whether an approval was voided)
    let rows: Vec<(&str, Request, &str, Vec<&str>, bool)> = vec![
        ("plan ready", at(Status::PlanReady), "alice", vec![], false),
        (
            "approved",
            at(Status::Approved),
            "carol",
            vec!["carol"],
            true,
        ),
        (
            "applied and confirmed",
            confirmed,
            "carol",
            vec!["carol"],
            true,
        ),
        (
            "a closed PR",
            at(Status::Failed(Step::Pr)),
            "alice",
            vec![],
            false,
        ),
    ];
    for (name, doc, by, authors, voided) in rows {
        let next = new_revision(&doc, &config, by, NOW);
        assert_eq!(next.revision, doc.revision + 1, "{name}");
        assert_eq!(next.config, config, "{name}");
        assert!(
            next.pr.is_none() && next.approval.is_none() && next.confirmation.is_none(),
            "{name}"
        );
        assert_eq!(next.authors, authors, "{name}");
        assert_eq!(next.runs, doc.runs, "{name}: the history is kept");
        assert_eq!(derive_status(&next), Status::Created, "{name}");
        assert_eq!(kinds(&next).contains(&"approval_voided"), voided, "{name}");
        let e = next.events.last().expect("an event");
        assert_eq!(
            (e.kind.as_str(), e.detail.as_str(), e.at.as_str()),
            ("updated", "revision 2", NOW)
        );
    }
    // A superseded revision's attempts go on counting.
    let mut doc = at(Status::PlanReady);
    doc = new_revision(&doc, &config, "alice", NOW);
    doc.pr = at(Status::PlanReady).pr;
    let n = queue_attempt(&mut doc, RunKind::Plan, "alice", None, NOW).unwrap();
    assert_eq!(n, 2, "attempt numbers rise across revisions");
}

#[test]
fn merge_and_destroy_record_the_pr_they_are_about() {
    let merged = PullRequest {
        number: 1,
        state: PrState::Merged,
        head_sha: "hhhh".into(),
        merged_sha: Some("mmmm".into()),
        ..Default::default()
    };
    let other = PullRequest {
        number: 9,
        ..merged.clone()
    };
    // (name, request, merged PR, cleanup, status after)
    let rows: Vec<(&str, Request, &PullRequest, bool, Status)> = vec![
        (
            "the request PR",
            at(Status::Approved),
            &merged,
            false,
            Status::Merged,
        ),
        (
            "another PR",
            at(Status::Approved),
            &other,
            false,
            Status::Approved,
        ),
        (
            "the cleanup PR",
            at(Status::Destroying),
            &merged,
            true,
            Status::Destroying,
        ),
        (
            "no cleanup yet",
            at(Status::Applied),
            &merged,
            true,
            Status::Applied,
        ),
    ];
    for (name, doc, pr, cleanup, after) in rows {
        let next = record_merge(&doc, pr, cleanup, "bob", NOW);
        assert_eq!(derive_status(&next), after, "{name}");
        let e = next.events.last().expect("an event");
        assert_eq!(e.detail, format!("PR #{} into main", pr.number), "{name}");
    }
    let cleanup = PullRequest {
        number: 3,
        ..Default::default()
    };
    let next = request_destroy(&at(Status::Applied), &cleanup, "bob", NOW);
    assert_eq!(derive_status(&next), Status::Destroying);
    assert_eq!(
        next.events.last().map(|e| e.detail.as_str()),
        Some("cleanup PR #3")
    );
}

#[test]
fn only_a_destroyed_request_is_archived() {
    use crate::domain::status::Step;
    use Status::*;
    let table = [
        (Created, false),
        (PlanReady, false),
        (Merged, false),
        (Applied, false),
        (Destroying, false),
        (Failed(Step::Destroy), false),
        (Failed(Step::Cleanup), false),
        (Destroyed, true),
    ];
    for (status, archived) in table {
        let r = at(status);
        assert_eq!(derive_status(&r), status, "fixture for {status:?}");
        assert_eq!(archivable(&r), archived, "{status:?}");
    }
}

#[test]
fn a_rejection_records_its_reason_and_voids_no_plan() {
    let doc = at(Status::PlanReady);
    let next =
        reject(&doc, "bob", "  too big for dev  ", "2026-01-02T00:00:00Z").expect("rejected");
    let last = next.events.last().expect("an event");
    assert_eq!(
        (last.kind.as_str(), last.actor.as_str()),
        ("rejected", "bob")
    );
    assert!(
        last.detail.ends_with(": too big for dev"),
        "{}",
        last.detail
    );
    assert_eq!(derive_status(&next), Status::PlanReady);
    assert_eq!(reject(&doc, "bob", " ", "now"), Err(Refusal::Reason));
    assert_eq!(
        reject(&doc, "bob", &"x".repeat(501), "now"),
        Err(Refusal::Reason)
    );
    assert_eq!(
        reject(&at(Status::Created), "bob", "no", "now"),
        Err(Refusal::NoPr)
    );
}

#[test]
fn approvals_are_read_back_per_revision_and_plan_attempt() {
    let mut config = Config::new();
    config.insert("name".into(), "q2".into());
    let doc = at(Status::PlanReady);
    assert!(approvals(&doc).is_empty(), "not approved yet");
    let first = approve(&doc, "bob", TIP, NOW).unwrap();
    let want = |by: &str, revision, attempt, holds| Approved {
        by: by.into(),
        at: NOW.into(),
        revision,
        plan_attempt: Some(attempt),
        holds,
    };
    assert_eq!(approvals(&first), vec![want("bob", 1, 1, true)]);
    // A new revision voids it; its plan (attempt 2) is approved by carol.
    let mut second = new_revision(&first, &config, "alice", NOW);
    assert_eq!(approvals(&second), vec![want("bob", 1, 1, false)]);
    second.pr = at(Status::PlanReady).pr;
    let mut plan = second.runs.plan.attempts[0].clone();
    plan.attempt = 2;
    second.runs.plan.attempts.push(plan);
    let second = approve(&second, "carol", TIP, NOW).unwrap();
    assert_eq!(
        approvals(&second),
        vec![want("bob", 1, 1, false), want("carol", 2, 2, true)]
    );
}

#[test]
fn reapply_queues_an_apply_of_the_merge_marked_as_a_reapply() {
    let applied = at(Status::Applied);
    let before = applied.runs.apply.current_attempt;
    let next = reapply(&applied, "pat", NOW).unwrap();
    let a = next.runs.apply.latest().unwrap();
    assert_eq!(a.attempt, before + 1);
    assert_eq!(a.head_sha, MERGE);
    assert_eq!(a.reason.as_deref(), Some(REAPPLY));
    assert_eq!(derive_status(&next), Status::Applying);
    assert_eq!(kinds(&next).last(), Some(&"apply_queued"));
    assert_eq!(
        reapply(&at(Status::Created), "pat", NOW).unwrap_err(),
        Refusal::NoCommit(RunKind::Apply)
    );
}
