//! The `Notifier` port: tells people about a request's lifecycle (created, planned, applied, …).
//!
//! The flow derives a [`Notice`] from the status before and after each of
//! its compare-and-swap writes ([`Notices::changed`]), so a step that runs
//! again without changing the status notifies nobody a second time.
//! Adapters: [`LogNotifier`] (a log line per notice, the default),
//! [`NoopNotifier`], and [`MemoryNotifier`] (records notices, for tests).
//! Slack and e-mail adapters plug in here.

mod log;
mod memory;

pub use log::{LogNotifier, NoopNotifier};
pub use memory::MemoryNotifier;

use app::domain::ids::{EnvName, ModuleType, ProjectKey, RequestId};
use app::domain::request::Request;
use app::domain::status::{Status, Step, derive_status};
use async_trait::async_trait;
use std::sync::Arc;

/// What happened to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    /// A request was filed.
    Created,
    /// The plan of the PR's head succeeded.
    PlanSucceeded,
    /// The plan failed.
    PlanFailed,
    /// A successful plan waits for an approver.
    ApprovalNeeded,
    /// The merge is applied.
    Applied,
    /// An apply or destroy stopped before applying: its plan changes
    /// something outside what was approved.
    ApplyBlocked,
    /// The request's resources are destroyed.
    Destroyed,
    /// Another step failed (PR or cleanup closed, apply or destroy failed).
    Failed,
}

impl NoticeKind {
    /// The event name (`request.created`, `plan.succeeded`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "request.created",
            Self::PlanSucceeded => "plan.succeeded",
            Self::PlanFailed => "plan.failed",
            Self::ApprovalNeeded => "approval.needed",
            Self::Applied => "applied",
            Self::ApplyBlocked => "apply.blocked",
            Self::Destroyed => "destroyed",
            Self::Failed => "failed",
        }
    }
}

/// One lifecycle event of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// What happened.
    pub kind: NoticeKind,
    /// The request.
    pub request: RequestId,
    /// Its project.
    pub project: ProjectKey,
    /// Its environment.
    pub environment: EnvName,
    /// Its module.
    pub module: ModuleType,
    /// The request's page.
    pub link: String,
}

/// Tells people about notices.
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// Delivers `notice` (best effort: a failure is the adapter's to log).
    async fn notify(&self, notice: &Notice);
}

/// The notices of a status change (none when the status stayed).
/// `before` is `None` for a request that did not exist.
pub fn notices_for(before: Option<Status>, after: &Request) -> Vec<NoticeKind> {
    let now = derive_status(after);
    if before == Some(now) {
        return Vec::new();
    }
    let blocked = |latest: Option<&app::domain::request::Attempt>| {
        latest.is_some_and(app::domain::request::Attempt::is_blocked)
    };
    match now {
        Status::Created if before.is_none() => vec![NoticeKind::Created],
        Status::PlanReady if before == Some(Status::Planning) => {
            vec![NoticeKind::PlanSucceeded, NoticeKind::ApprovalNeeded]
        }
        Status::PlanReady => vec![NoticeKind::ApprovalNeeded],
        Status::Failed(Step::Plan) => vec![NoticeKind::PlanFailed],
        Status::Applied => vec![NoticeKind::Applied],
        Status::Failed(Step::Apply) if blocked(after.runs.apply.latest()) => {
            vec![NoticeKind::ApplyBlocked]
        }
        Status::Failed(Step::Destroy) if blocked(after.runs.destroy.latest()) => {
            vec![NoticeKind::ApplyBlocked]
        }
        Status::Failed(_) => vec![NoticeKind::Failed],
        Status::Destroyed => vec![NoticeKind::Destroyed],
        _ => Vec::new(),
    }
}

/// The notifier with the public address request links are built on.
#[derive(Clone)]
pub struct Notices {
    notifier: Arc<dyn Notifier>,
    public_url: String,
}

impl Notices {
    /// Over `notifier`; links start with `public_url` (no trailing slash).
    pub fn new(notifier: Arc<dyn Notifier>, public_url: &str) -> Self {
        Self {
            notifier,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Notifies the notices of `after`'s status change from `before`.
    pub async fn changed(&self, before: Option<Status>, after: &Request) {
        for kind in notices_for(before, after) {
            let notice = Notice {
                kind,
                request: after.id,
                project: after.project.clone(),
                environment: after.environment.clone(),
                module: after.module.clone(),
                link: format!("{}/requests/{}", self.public_url, after.id),
            };
            self.notifier.notify(&notice).await;
        }
    }
}

#[cfg(test)]
mod tests;
