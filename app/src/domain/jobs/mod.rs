//! Remediation jobs: one per new alert, stored under `jobs/<id>.json` and
//! changed only by compare-and-swap. A job is claimed with a lease (a
//! holder and an expiry by the caller's clock) that its worker renews while
//! it runs; a job whose lease ran out is claimed again by anyone, and the
//! steps it records let the next holder skip what is done. Pure: the
//! caller passes the time.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many times a job is claimed before it is given up (a job that kills
/// its worker every time must not loop for ever).
pub const MAX_ATTEMPTS: u32 = 5;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker holds its lease.
    Running,
    /// Done: the request is applied (or the notice stored).
    Succeeded,
    /// Stopped with a reason (`result`).
    Failed,
    /// The request is planned and waits for a person to approve it.
    WaitingApproval,
    /// No policy matched the alert: recorded, nothing to do.
    Skipped,
}

impl JobStatus {
    /// Every status, in the order filters list them.
    pub const ALL: [JobStatus; 6] = [
        Self::Queued,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::WaitingApproval,
        Self::Skipped,
    ];

    /// The wire name (`waiting_approval`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::WaitingApproval => "waiting_approval",
            Self::Skipped => "skipped",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether a worker still has something to do.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }

    /// In words, for the job log.
    pub fn words(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::WaitingApproval => "waiting for approval",
            Self::Skipped => "no policy matched",
        }
    }
}

/// The alert a job was made for, as Alertmanager sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobAlert {
    /// `labels.alertname`, or empty.
    pub name: String,
    /// `firing` or `resolved`.
    pub status: String,
    /// Its labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Its annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Alertmanager's fingerprint.
    pub fingerprint: String,
    /// When it started firing (RFC 3339, as sent).
    pub starts_at: String,
    /// When it ended, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    /// The link to its source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_url: Option<String>,
    /// The Alertmanager group it came in.
    #[serde(default)]
    pub group_key: String,
}

/// What the chosen policy does, interpolated from the alert at receipt.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobAction {
    /// `update_inputs`, `replan`, `reapply` or `notify`.
    pub kind: String,
    /// The request it acts on (an id, as interpolated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// Inputs to set (`update_inputs`), as interpolated text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, String>,
    /// The message (`notify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Environments the policy lets the job approve, merge and apply in
    /// (never a production one, whatever it says).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auto_approve_environments: Vec<String>,
}

/// Who holds a running job, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLease {
    /// The worker (`<replica>/<n>`).
    pub holder: String,
    /// Unix milliseconds after which anyone may claim the job again.
    pub expires_at: u64,
}

/// What a job has done so far; each step is recorded before the next, so
/// whoever takes it over does nothing twice.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobSteps {
    /// The revision the job filed (or found already filed), `update_inputs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_filed: Option<u32>,
    /// The plan attempt the job asked for (`replan`, `reapply`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_requested: Option<u32>,
    /// The plan attempt the job approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<u32>,
    /// The merge the job made (the merge commit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<String>,
    /// The apply attempt the job started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_requested: Option<u32>,
    /// The notice the job stored (`notify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified: Option<String>,
    /// Unix milliseconds when the job began to wait on its request (plans,
    /// applies): its deadline counts from here, across take-overs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_since: Option<u64>,
}

/// One remediation job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Sortable by time, like request ids.
    pub id: String,
    /// Where it stands.
    pub status: JobStatus,
    /// The alert.
    pub alert: JobAlert,
    /// The policy chosen at receipt (`None`: no policy matched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// What the policy does, interpolated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<JobAction>,
    /// The request acted on, once known (for filters and links).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// How many times a worker claimed it.
    #[serde(default)]
    pub attempts: u32,
    /// The running worker's lease.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<JobLease>,
    /// The steps done.
    #[serde(default)]
    pub steps: JobSteps,
    /// What came of it, in a sentence (also why it failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// When the alert was stored (RFC 3339).
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// When it finished (succeeded, failed, waiting for approval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

impl Job {
    /// Whether `holder` may claim it at `now_ms`: queued, or running under
    /// a lease that ran out.
    pub fn claimable(&self, now_ms: u64) -> bool {
        match self.status {
            JobStatus::Queued => true,
            JobStatus::Running => self.lease.as_ref().is_none_or(|l| l.expires_at <= now_ms),
            _ => false,
        }
    }

    /// Whether `holder` holds a lease still good at `now_ms`.
    pub fn held_by(&self, holder: &str, now_ms: u64) -> bool {
        self.status == JobStatus::Running
            && self
                .lease
                .as_ref()
                .is_some_and(|l| l.holder == holder && l.expires_at > now_ms)
    }
}

/// What a claim gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The job is the holder's, running, with one more attempt.
    Taken(Job),
    /// It had been claimed too often: failed, with the reason.
    GivenUp(Job),
    /// Not claimable now.
    Busy,
}

/// Claims `job` for `holder` until `now_ms + ttl_ms`.
pub fn claim(job: &Job, holder: &str, now_ms: u64, ttl_ms: u64, now: &str) -> Claim {
    if !job.claimable(now_ms) {
        return Claim::Busy;
    }
    let mut next = job.clone();
    next.updated_at = now.to_owned();
    if job.attempts >= MAX_ATTEMPTS {
        next.lease = None;
        next.status = JobStatus::Failed;
        next.finished_at = Some(now.to_owned());
        next.result = Some(format!(
            "given up after {} attempts: its worker stopped each time before it finished",
            job.attempts
        ));
        return Claim::GivenUp(next);
    }
    next.status = JobStatus::Running;
    next.attempts += 1;
    next.lease = Some(JobLease {
        holder: holder.to_owned(),
        expires_at: now_ms + ttl_ms,
    });
    Claim::Taken(next)
}

/// `job` with its lease pushed to `now_ms + ttl_ms`, if `holder` still
/// holds it.
pub fn renew(job: &Job, holder: &str, now_ms: u64, ttl_ms: u64) -> Option<Job> {
    if !job.held_by(holder, now_ms) {
        return None;
    }
    let mut next = job.clone();
    next.lease = Some(JobLease {
        holder: holder.to_owned(),
        expires_at: now_ms + ttl_ms,
    });
    Some(next)
}

/// `job` ended as `status` with `result`, its lease given up.
pub fn finish(job: &Job, status: JobStatus, result: impl Into<String>, now: &str) -> Job {
    let mut next = job.clone();
    next.status = status;
    next.lease = None;
    next.result = Some(result.into());
    next.updated_at = now.to_owned();
    next.finished_at = Some(now.to_owned());
    next
}

/// Why a job that began waiting on request `request` at `since_ms` stops
/// at `now_ms`, once `wait_secs` have gone by (`None` while time is left);
/// `state` says where the request stands.
pub fn overdue(
    request: &str,
    state: &str,
    since_ms: u64,
    now_ms: u64,
    wait_secs: u64,
) -> Option<String> {
    (now_ms.saturating_sub(since_ms) >= wait_secs.saturating_mul(1000)).then(|| {
        format!(
            "gave up waiting after {}: request {request} is still {state} (the limit is TFPILOT_JOBS_WAIT_SECS)",
            span(wait_secs)
        )
    })
}

/// A number of seconds in words: `1 h`, `90 min`, `45 s`.
pub fn span(secs: u64) -> String {
    match secs {
        s if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests;
