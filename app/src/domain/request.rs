//! The request document as stored (`requests/<id>.json`).
//!
//! It holds facts only — PRs, run attempts, approval, events. The status is
//! derived from them by [`super::status::derive_status`], never stored.

use super::config::Config;
use super::ids::{EnvName, ModuleType, ProjectKey, RequestId};
use super::scope::{PlannedChange, Scope, Unexpected};
use serde::{Deserialize, Serialize};

/// An RFC 3339 UTC timestamp, as written by the server's clock.
pub type Timestamp = String;

impl Request {
    /// Whether `login` authored any revision of the request.
    pub fn authored_by(&self, login: &str) -> bool {
        self.created_by == login || self.authors.iter().any(|a| a == login)
    }

    /// Records `login` as an author of a new revision.
    pub fn add_author(&mut self, login: &str) {
        if !self.authored_by(login) {
            self.authors.push(login.to_owned());
        }
    }
}

/// The stored request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Sortable id.
    pub id: RequestId,
    /// Incremented by exactly one on every write.
    pub version: u64,
    /// Project key.
    pub project: ProjectKey,
    /// Environment.
    pub environment: EnvName,
    /// Registry module type.
    pub module: ModuleType,
    /// Create a new resource, or adopt (import) one that already exists.
    /// Omitted when `create`, so older documents read and write the same.
    #[serde(default, skip_serializing_if = "Kind::is_create")]
    pub kind: Kind,
    /// Config revision: 1 at creation, +1 per update.
    pub revision: u32,
    /// Normalized inputs.
    pub config: Config,
    /// Login of the requester.
    pub created_by: String,
    /// Everyone else who authored a revision (changed the config), in the
    /// order they first did: with `created_by`, the request's authors, none
    /// of whom may approve it in production.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last write time.
    pub updated_at: Timestamp,
    /// The PR of the current revision.
    #[serde(default)]
    pub pr: Option<PullRequest>,
    /// Plan, apply and destroy attempts.
    #[serde(default)]
    pub runs: Runs,
    /// Approval of one plan attempt at one head sha.
    #[serde(default)]
    pub approval: Option<Approval>,
    /// The PR removing the block, once destroy was asked for.
    #[serde(default)]
    pub cleanup_pr: Option<PullRequest>,
    /// Changes an approver confirmed after a blocked apply or destroy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<Confirmation>,
    /// Timeline.
    #[serde(default)]
    pub events: Vec<Event>,
    /// Where it was asked for, when not in the web UI (a Slack thread):
    /// status changes are told there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// What the newest drift run found different on the request's
    /// resources; cleared when a later one finds them clean or the
    /// request is applied again. Never part of the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<super::drift::Drift>,
}

/// What a request does to its resource: create it, or adopt one that
/// already exists (an `import` block next to the module block until the
/// first successful apply).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A new resource.
    #[default]
    Create,
    /// An existing resource, imported.
    Adopt,
}

impl Kind {
    /// Whether this is the default, `create`.
    pub fn is_create(&self) -> bool {
        *self == Kind::Create
    }

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Create => "create",
            Kind::Adopt => "adopt",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "create" => Some(Kind::Create),
            "adopt" => Some(Kind::Adopt),
            _ => None,
        }
    }
}

/// A conversation a request came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum Origin {
    /// A Slack thread.
    Slack {
        /// The channel (or DM) id.
        channel: String,
        /// The thread's first message.
        thread_ts: String,
    },
}

/// An approver's explicit yes to the changes a blocked run listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// Approver's login.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// The blocked run (`apply` or `destroy`) and its attempt.
    pub kind: String,
    /// The attempt that was blocked.
    pub attempt: u32,
    /// Exactly the changes it listed.
    pub changes: Vec<PlannedChange>,
}

/// A pull request in the project's infra repo.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// PR number.
    pub number: u64,
    /// Web link.
    pub url: String,
    /// Head branch (`request/<id>`, `cleanup/<id>`).
    pub branch: String,
    /// Current head commit.
    pub head_sha: String,
    /// The tip of main the head is known to contain: plans of the head are
    /// plans of the change merged with that main. When main moves past it,
    /// tfpilot brings the branch up to date and plans again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_sha: Option<String>,
    /// A newer tip of main seen since `base_sha`: the plan is stale until
    /// the branch is brought up to date and planned again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_sha: Option<String>,
    /// Merge commit, once merged.
    #[serde(default)]
    pub merged_sha: Option<String>,
    /// Open, closed or merged.
    pub state: PrState,
}

/// A PR's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrState {
    /// Open for review.
    #[default]
    Open,
    /// Closed without merge.
    Closed,
    /// Merged.
    Merged,
}

/// Run history per kind of run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Runs {
    /// `terraform plan` attempts.
    #[serde(default)]
    pub plan: RunHistory,
    /// `terraform apply` attempts.
    #[serde(default)]
    pub apply: RunHistory,
    /// `terraform destroy` attempts.
    #[serde(default)]
    pub destroy: RunHistory,
}

/// Attempts of one kind of run; `current_attempt` is the newest's number.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunHistory {
    /// Number of the newest attempt (0 when none).
    pub current_attempt: u32,
    /// All attempts, oldest first.
    #[serde(default)]
    pub attempts: Vec<Attempt>,
}

impl RunHistory {
    /// The newest attempt.
    pub fn latest(&self) -> Option<&Attempt> {
        self.attempts.iter().max_by_key(|a| a.attempt)
    }

    /// The newest attempt made at `sha`.
    pub fn latest_at(&self, sha: &str) -> Option<&Attempt> {
        self.attempts
            .iter()
            .filter(|a| a.head_sha == sha)
            .max_by_key(|a| a.attempt)
    }
}

/// One run of plan, apply or destroy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1-based attempt number.
    pub attempt: u32,
    /// Executor's run id.
    pub run_id: String,
    /// Link to the run, when there is one.
    #[serde(default)]
    pub url: Option<String>,
    /// The commit the run is for: the PR head for a plan, the request's
    /// merge commit for an apply, the cleanup merge for a destroy.
    pub head_sha: String,
    /// Plans: the tip of main the head contained when it was planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_sha: Option<String>,
    /// Applies and destroys: the tip of main the run actually used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ran_at: Option<String>,
    /// Why this attempt was queued, when not by a person (`main moved to …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A request applied by another request's run: that run's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The changes that stopped a blocked run before anything was applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<Unexpected>,
    /// Applies and destroys: what the run was allowed to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// Queued, running or completed.
    pub status: RunStatus,
    /// Outcome once completed.
    #[serde(default)]
    pub conclusion: Option<Conclusion>,
    /// When it was dispatched.
    pub dispatched_at: Timestamp,
    /// When it completed.
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
    /// Resource counts of a plan.
    #[serde(default)]
    pub summary: Option<PlanSummary>,
    /// Plans and destroys: the saved plan's changes to this request's own
    /// block (address and action; the rest of the plan is only counted,
    /// in `summary`), kept when the run completed; `None` when they could
    /// not be read. `explain` words them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<PlannedChange>>,
    /// What the executor checked beside the plan (HCP Terraform's cost
    /// estimate and policy checks), when it has such checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<RunCheck>,
}

/// A check an executor ran beside the plan: a cost estimate or a policy
/// check (Sentinel or OPA). Shown on the request page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCheck {
    /// Cost estimate or policy check.
    pub kind: CheckKind,
    /// Its name (`cost estimate`, a policy set's name).
    pub name: String,
    /// Its outcome as the executor words it (`passed`, `soft failed`,
    /// `finished`, `errored`…).
    pub outcome: String,
    /// One line of what it found (`+$12.40/month`, `2 of 3 policies passed`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// Whether the outcome stops the run (a hard-failed policy).
    #[serde(default)]
    pub blocking: bool,
}

/// The kind of a [`RunCheck`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// A cost estimate.
    Cost,
    /// A policy check (Sentinel or OPA).
    Policy,
}

impl Attempt {
    /// Completed successfully.
    pub fn succeeded(&self) -> bool {
        self.status == RunStatus::Completed && self.conclusion == Some(Conclusion::Success)
    }

    /// Completed with any other conclusion.
    pub fn failed(&self) -> bool {
        self.status == RunStatus::Completed && self.conclusion != Some(Conclusion::Success)
    }

    /// Stopped by the change check before anything was applied.
    pub fn is_blocked(&self) -> bool {
        self.status == RunStatus::Completed && self.conclusion == Some(Conclusion::Blocked)
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Dispatched, not started.
    #[default]
    Queued,
    /// Running.
    Running,
    /// Finished (see the conclusion). Never goes back.
    Completed,
}

/// How a completed run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    /// It worked.
    Success,
    /// It failed.
    Failure,
    /// Someone cancelled it.
    Cancelled,
    /// It ran out of time.
    TimedOut,
    /// Stopped before applying: the saved plan changed something outside
    /// its scope (see the attempt's `blocked`).
    Blocked,
}

/// Resource counts of a plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// To import (adopted as they are; an import may also be counted as a
    /// change). Omitted when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub import: u32,
    /// To create.
    pub add: u32,
    /// To update in place.
    pub change: u32,
    /// To destroy.
    pub destroy: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl PlanSummary {
    /// The counts as Terraform words them: `1 to import, 0 to add, 0 to
    /// change, 0 to destroy` (the import count only when there is one).
    pub fn words(&self) -> String {
        let import = match self.import {
            0 => String::new(),
            n => format!("{n} to import, "),
        };
        format!(
            "{import}{} to add, {} to change, {} to destroy",
            self.add, self.change, self.destroy
        )
    }

    /// The counts in short: `+1 ~0 -0`, then `, 1 to import` when there
    /// are imports.
    pub fn short(&self) -> String {
        let import = match self.import {
            0 => String::new(),
            n => format!(", {n} to import"),
        };
        format!("+{} ~{} -{}{import}", self.add, self.change, self.destroy)
    }
}

/// An approval, valid only for one plan attempt at one head sha.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Approver's login.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// The plan attempt approved.
    pub plan_attempt: u32,
    /// The PR head it was planned at.
    pub head_sha: String,
    /// The tip of main that plan was made against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_sha: Option<String>,
}

/// A timeline entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// When.
    pub at: Timestamp,
    /// Who (a login, or `tfpilot` for the system).
    pub actor: String,
    /// What kind (`created`, `plan_dispatched`, ...).
    pub kind: String,
    /// Free text.
    #[serde(default)]
    pub detail: String,
}
