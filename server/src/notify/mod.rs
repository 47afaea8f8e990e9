//! The `Notifier` port: tells people about a request's lifecycle (created, planned, applied, …).
//!
//! The flow derives a [`Notice`] from the status before and after each of
//! its compare-and-swap writes ([`Notices::changed`]), so a step that runs
//! again without changing the status notifies nobody a second time.
//! Adapters: [`LogNotifier`] (a log line per notice, the default),
//! [`NoopNotifier`], [`MemoryNotifier`] (records notices, for tests) and
//! [`EmailNotifier`] (a mail to the requester over SMTP); [`words`] holds
//! the sentences people read. The Slack adapter plugs in here. A notifier answers whether it
//! delivered: the outbox retries one that failed, without blocking the flow.

mod email;
pub mod ledger;
mod log;
mod memory;
pub mod outbox;
pub mod words;

pub use email::{EmailError, EmailNotifier};
pub use log::{LogNotifier, NoopNotifier};
pub use memory::MemoryNotifier;
pub use outbox::Outbox;

use app::domain::ids::{EnvName, ModuleType, ProjectKey, RequestId};
use app::domain::registry::{Registry, Risk};
use app::domain::request::{Origin, PlanSummary, Request};
use app::domain::status::{Status, Step, derive_status};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// What happened to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A request was filed.
    Created,
    /// A plan is queued or running.
    Planning,
    /// The plan of the PR's head succeeded.
    PlanSucceeded,
    /// The plan failed.
    PlanFailed,
    /// A successful plan waits for an approver.
    ApprovalNeeded,
    /// An approver approved the plan.
    Approved,
    /// An approver rejected the plan, with a reason.
    Rejected,
    /// The PR is merged.
    Merged,
    /// An apply of the merge is queued or running.
    Applying,
    /// The merge is applied.
    Applied,
    /// An apply or destroy stopped before applying: its plan changes
    /// something outside what was approved.
    ApplyBlocked,
    /// The request's resources are destroyed.
    Destroyed,
    /// Another step failed (PR or cleanup closed, apply or destroy failed).
    Failed,
    /// A drift run found the request's resources different from its config.
    DriftDetected,
    /// A remediation policy's message about the request (an alert fired).
    Remediation,
}

impl NoticeKind {
    /// The event name (`request.created`, `plan.succeeded`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "request.created",
            Self::Planning => "plan.started",
            Self::PlanSucceeded => "plan.succeeded",
            Self::PlanFailed => "plan.failed",
            Self::ApprovalNeeded => "approval.needed",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Merged => "merged",
            Self::Applying => "apply.started",
            Self::Applied => "applied",
            Self::ApplyBlocked => "apply.blocked",
            Self::Destroyed => "destroyed",
            Self::Failed => "failed",
            Self::DriftDetected => "drift.detected",
            Self::Remediation => "remediation",
        }
    }
}

/// One lifecycle event of one request, with what a person needs to read
/// it without opening tfpilot (never an input value of a sensitive input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Unique and deterministic (`<request>.<version>.<n>.<kind>`, in the
    /// order they happened): the outbox stores a notice once under it.
    pub id: String,
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
    /// The requester's login.
    pub requester: String,
    /// Who caused it, when a person did (the approver, the merger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// When it happened (RFC 3339).
    pub at: String,
    /// Where the request was asked for (a Slack thread), if not the web.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// The PR of the current revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_url: Option<String>,
    /// The current plan's counts (plan notices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanSummary>,
    /// `input = value` of each high-risk input (approval notices).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<String>,
    /// The change in plain words (plan notices; `app::domain::explain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// The failed step (`plan`, `apply`, …) for failure notices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    /// The first line of what went wrong, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A remediation policy's message (remediation notices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Why a notifier did not deliver; the outbox tries again later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// The receiver asked to wait (Slack's 429 `Retry-After`).
    #[error("rate limited; retry after {0:?}")]
    RetryAfter(Duration),
    /// It failed (Slack `ok: false`, SMTP refused, unreachable): retried
    /// with backoff.
    #[error("{0}")]
    Failed(String),
}

/// Tells people about notices.
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// A short stable name (`log`, `slack`, `email`): the outbox marks each
    /// notice delivered per notifier under it.
    fn name(&self) -> &'static str;

    /// Delivers `notice`. `Ok` also when there is nobody to tell (no
    /// channel, no address); an error is retried by the outbox, so a
    /// notifier must not deliver twice what it reported delivered.
    async fn notify(&self, notice: &Notice) -> Result<(), NotifyError>;
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
        Status::Planning => vec![NoticeKind::Planning],
        Status::Approved => vec![NoticeKind::Approved],
        Status::Merged => vec![NoticeKind::Merged],
        Status::Applying => vec![NoticeKind::Applying],
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

/// The `seq`th notice of one write of a request (`after`, just written),
/// carrying what its readers need.
pub fn notice(
    seq: usize,
    kind: NoticeKind,
    after: &Request,
    public_url: &str,
    registry: Option<&Registry>,
) -> Notice {
    let latest_event = after.events.last();
    let plan = after.runs.plan.latest();
    let failed = match derive_status(after) {
        Status::Failed(step) => Some(step),
        _ => None,
    };
    let module = registry.and_then(|r| r.module(&after.module));
    let explanation = match (kind, module) {
        (NoticeKind::PlanSucceeded | NoticeKind::ApprovalNeeded, Some(module)) => {
            Some(app::domain::explain::request(after, module))
        }
        (NoticeKind::DriftDetected, _) => after.drift.as_ref().map(words::drift),
        _ => None,
    };
    let risks = match (kind, module) {
        (NoticeKind::ApprovalNeeded, Some(module)) => module
            .inputs
            .iter()
            .filter(|i| i.risk == Risk::High && !i.sensitive)
            .filter_map(|i| {
                let value = after.config.get(&i.name)?;
                Some(format!(
                    "{} = {}",
                    i.name,
                    app::domain::assistant::show(i, value)
                ))
            })
            .collect(),
        _ => Vec::new(),
    };
    let actor = match kind {
        NoticeKind::Approved => after.approval.as_ref().map(|a| a.by.clone()),
        NoticeKind::Merged | NoticeKind::Applying | NoticeKind::Planning | NoticeKind::Rejected => {
            latest_event
                .map(|e| e.actor.clone())
                .filter(|a| a != "tfpilot")
        }
        _ => None,
    };
    Notice {
        id: format!("{}.{:010}.{seq}.{}", after.id, after.version, kind.as_str()),
        kind,
        request: after.id,
        project: after.project.clone(),
        environment: after.environment.clone(),
        module: after.module.clone(),
        link: format!("{}/requests/{}", public_url.trim_end_matches('/'), after.id),
        requester: after.created_by.clone(),
        actor,
        at: after.updated_at.to_string(),
        origin: after.origin.clone(),
        pr_url: after
            .pr
            .as_ref()
            .map(|p| p.url.clone())
            .filter(|u| !u.is_empty()),
        plan: match kind {
            NoticeKind::PlanSucceeded | NoticeKind::ApprovalNeeded => plan.and_then(|a| a.summary),
            _ => None,
        },
        risks,
        explanation,
        failed_step: failed.map(|s| s.as_str().to_owned()),
        error: match kind {
            NoticeKind::Rejected => latest_event
                .and_then(|e| e.detail.split_once(": "))
                .map(|(_, reason)| reason.to_owned()),
            _ => failed
                .and(latest_event)
                .map(|e| e.detail.lines().next().unwrap_or_default().to_owned())
                .filter(|l| !l.is_empty()),
        },
        message: None,
    }
}

/// Where notices go.
#[derive(Clone)]
enum Sink {
    /// Told at once, best effort.
    Direct(Arc<dyn Notifier>),
    /// Stored, then delivered by the outbox's worker.
    Outbox(Arc<Outbox>),
}

/// The notices of status changes, with the public address request links
/// are built on.
#[derive(Clone)]
pub struct Notices {
    sink: Sink,
    public_url: String,
    registry: Option<Arc<Registry>>,
    ledger: Option<ledger::Ledger>,
}

impl Notices {
    /// Tells `notifier` at once; links start with `public_url`.
    pub fn new(notifier: Arc<dyn Notifier>, public_url: &str) -> Self {
        Self {
            sink: Sink::Direct(notifier),
            public_url: public_url.trim_end_matches('/').to_owned(),
            registry: None,
            ledger: None,
        }
    }

    /// Stores each notice in `outbox`, whose worker delivers it, and
    /// records in the outbox's store which status change each request's
    /// notices last covered ([`Notices::recover`] reads it).
    pub fn durable(outbox: Arc<Outbox>, public_url: &str) -> Self {
        Self {
            ledger: Some(ledger::Ledger::new(outbox.store().clone())),
            sink: Sink::Outbox(outbox),
            public_url: public_url.trim_end_matches('/').to_owned(),
            registry: None,
        }
    }

    /// Risk notes name the high-risk inputs `registry` declares, and plan
    /// notices explain the change with its modules.
    pub fn with_registry(mut self, registry: Arc<Registry>) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Notifies the notices of `after`'s status change from `before`.
    pub async fn changed(&self, before: Option<Status>, after: &Request) {
        let now = derive_status(after);
        if before == Some(now) {
            return;
        }
        self.send(notices_for(before, after), after).await;
        self.told(after, now).await;
    }

    /// Records that `after`'s notices are stored.
    async fn told(&self, after: &Request, status: Status) {
        let Some(ledger) = &self.ledger else {
            return;
        };
        let told = ledger::Told {
            version: after.version,
            status,
        };
        if let Err(e) = ledger.advance(&after.id, told).await {
            tracing::warn!(request = %after.id, "cannot record the notices told: {e}");
        }
    }

    /// Stores the notices of `doc`'s last status change when a crash cut
    /// them off between the write and the outbox (the ledger still names
    /// an older status); the number stored. Requests the ledger has never
    /// seen are left alone: the only notice that can be missing for them is
    /// `request.created`, which only the log hears.
    pub async fn recover(&self, doc: &Request) -> usize {
        let Some(ledger) = &self.ledger else {
            return 0;
        };
        let now = derive_status(doc);
        let told = match ledger.get(&doc.id).await {
            Ok(Some(told)) => told,
            Ok(None) => return 0,
            Err(e) => {
                tracing::warn!(request = %doc.id, "cannot read the notices told: {e}");
                return 0;
            }
        };
        if told.version >= doc.version || told.status == now {
            return 0;
        }
        let kinds = notices_for(Some(told.status), doc);
        let n = kinds.len();
        self.send(kinds, doc).await;
        self.told(doc, now).await;
        n
    }

    /// Notifies `kind` of `after`, an event that changes no status (a
    /// rejection).
    pub async fn tell(&self, kind: NoticeKind, after: &Request) {
        self.send(vec![kind], after).await;
    }

    /// Stores a remediation job's `message` about `doc` under an id made
    /// from the job's, so a job that runs again stores it once; the id.
    pub async fn remediation(
        &self,
        doc: &Request,
        job: &str,
        actor: &str,
        message: &str,
    ) -> String {
        let mut n = notice(0, NoticeKind::Remediation, doc, &self.public_url, None);
        n.id = format!("{}.job-{job}.remediation", doc.id);
        n.actor = Some(actor.to_owned());
        n.message = Some(message.to_owned());
        let id = n.id.clone();
        self.deliver(n).await;
        id
    }

    async fn send(&self, kinds: Vec<NoticeKind>, after: &Request) {
        for (seq, kind) in kinds.into_iter().enumerate() {
            let notice = notice(seq, kind, after, &self.public_url, self.registry.as_deref());
            self.deliver(notice).await;
        }
    }

    async fn deliver(&self, notice: Notice) {
        match &self.sink {
            Sink::Direct(notifier) => {
                if let Err(e) = notifier.notify(&notice).await {
                    tracing::warn!(notifier = notifier.name(), notice = %notice.id, "notice not delivered: {e}");
                }
            }
            Sink::Outbox(outbox) => {
                if let Err(e) = outbox.enqueue(&notice).await {
                    tracing::error!(notice = %notice.id, "notice not stored in the outbox: {e}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
