//! The sentence a person reads for a notice (`plan ready (+1 ~0 -0)`), shared by the e-mail and chat notifiers.

use super::{Notice, NoticeKind};
use app::domain::request::PlanSummary;

/// What happened, in a few words: `plan ready (+1 ~0 -0)`, `approved by
/// bob`, `apply failed: Error: creating SQS queue`.
pub fn sentence(notice: &Notice) -> String {
    let by = |what: &str| match &notice.actor {
        Some(actor) => format!("{what} by {actor}"),
        None => what.to_owned(),
    };
    let failed = |step: &str| match &notice.error {
        Some(error) => format!("{step} failed: {error}"),
        None => format!("{step} failed"),
    };
    match notice.kind {
        NoticeKind::Created => format!("filed by {}", notice.requester),
        NoticeKind::Planning => "planning".into(),
        NoticeKind::PlanSucceeded => with_counts("plan ready", notice.plan),
        NoticeKind::PlanFailed => failed("plan"),
        NoticeKind::ApprovalNeeded => with_counts("approval needed", notice.plan),
        NoticeKind::Approved => by("approved"),
        NoticeKind::Rejected => match &notice.error {
            Some(reason) => format!("{}: {reason}", by("rejected")),
            None => by("rejected"),
        },
        NoticeKind::Merged => by("merged"),
        NoticeKind::Applying => "applying".into(),
        NoticeKind::Applied => "applied".into(),
        NoticeKind::ApplyBlocked => {
            let step = notice.failed_step.as_deref().unwrap_or("apply");
            format!("{step} blocked: its plan changes something outside what was approved")
        }
        NoticeKind::Destroyed => "destroyed".into(),
        NoticeKind::Failed => failed(notice.failed_step.as_deref().unwrap_or("a step")),
        NoticeKind::DriftDetected => {
            "drifted: what is there no longer matches its config (revert or adopt it)".into()
        }
        NoticeKind::Remediation => format!(
            "{}: {}",
            by("remediation"),
            notice.message.as_deref().unwrap_or("an alert fired")
        ),
    }
}

/// A request's drift in a few words: `2 resources differ: update
/// terraform_data.this (input), create terraform_data.other` (attribute
/// names only, never a value).
pub fn drift(drift: &app::domain::drift::Drift) -> String {
    let n = drift.changes.len();
    let each: Vec<String> = drift
        .changes
        .iter()
        .map(|c| {
            let resource = resource_of(&c.address);
            let attrs: Vec<&str> = c.attributes.iter().map(|a| a.name.as_str()).collect();
            if attrs.is_empty() {
                format!("{} {resource}", c.action)
            } else {
                format!("{} {resource} ({})", c.action, attrs.join(", "))
            }
        })
        .collect();
    format!(
        "{n} resource{} differ{}: {}",
        if n == 1 { "" } else { "s" },
        if n == 1 { "s" } else { "" },
        each.join(", ")
    )
}

/// The resource part of an address inside a request's block
/// (`module.x_<id>.terraform_data.this` → `terraform_data.this`).
fn resource_of(address: &str) -> &str {
    match address.strip_prefix("module.") {
        Some(rest) => rest.split_once('.').map_or(address, |(_, r)| r),
        None => address,
    }
}

/// The request and what happened, on one line: `sqs-queue <id> in
/// sandbox/dev: plan ready (+1 ~0 -0)`.
pub fn headline(notice: &Notice) -> String {
    format!(
        "{} {} in {}/{}: {}",
        notice.module,
        notice.request,
        notice.project,
        notice.environment,
        sentence(notice)
    )
}

/// `+1 ~0 -0`: to create, to change, to destroy (then `, 1 to import`
/// when the plan imports).
pub fn counts(plan: PlanSummary) -> String {
    plan.short()
}

fn with_counts(what: &str, plan: Option<PlanSummary>) -> String {
    match plan {
        Some(plan) => format!("{what} ({})", counts(plan)),
        None => what.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::request;
    use crate::notify::notice;

    fn of(kind: NoticeKind, edit: impl FnOnce(&mut Notice)) -> Notice {
        let mut n = notice(0, kind, &request(), "https://tfpilot.example.com", None);
        edit(&mut n);
        n
    }

    #[test]
    fn each_kind_reads_as_one_sentence() {
        let plan = Some(PlanSummary {
            import: 0,
            add: 1,
            change: 0,
            destroy: 2,
        });
        let table: Vec<(Notice, &str)> = vec![
            (of(NoticeKind::Created, |_| {}), "filed by alice"),
            (of(NoticeKind::Planning, |_| {}), "planning"),
            (
                of(NoticeKind::PlanSucceeded, |n| n.plan = plan),
                "plan ready (+1 ~0 -2)",
            ),
            (of(NoticeKind::PlanSucceeded, |_| {}), "plan ready"),
            (
                of(NoticeKind::PlanFailed, |n| {
                    n.failed_step = Some("plan".into());
                    n.error = Some("Error: Invalid reference".into());
                }),
                "plan failed: Error: Invalid reference",
            ),
            (
                of(NoticeKind::ApprovalNeeded, |n| n.plan = plan),
                "approval needed (+1 ~0 -2)",
            ),
            (
                of(NoticeKind::Approved, |n| n.actor = Some("bob".into())),
                "approved by bob",
            ),
            (
                of(NoticeKind::Merged, |n| n.actor = Some("carol".into())),
                "merged by carol",
            ),
            (of(NoticeKind::Merged, |_| {}), "merged"),
            (of(NoticeKind::Applying, |_| {}), "applying"),
            (of(NoticeKind::Applied, |_| {}), "applied"),
            (
                of(NoticeKind::ApplyBlocked, |n| {
                    n.failed_step = Some("apply".into())
                }),
                "apply blocked: its plan changes something outside what was approved",
            ),
            (
                of(NoticeKind::Failed, |n| {
                    n.failed_step = Some("apply".into());
                    n.error = Some("Error: creating SQS queue".into());
                }),
                "apply failed: Error: creating SQS queue",
            ),
            (
                of(NoticeKind::Failed, |n| n.failed_step = Some("pr".into())),
                "pr failed",
            ),
            (of(NoticeKind::Destroyed, |_| {}), "destroyed"),
        ];
        for (notice, want) in table {
            assert_eq!(sentence(&notice), want, "{:?}", notice.kind);
        }
    }

    #[test]
    fn the_headline_names_the_request() {
        let n = of(NoticeKind::Applied, |_| {});
        assert_eq!(
            headline(&n),
            format!("sqs-queue {} in sandbox/dev: applied", n.request)
        );
    }
}
