//! The `Executor` port: where Terraform runs. Adapters: `local` (real
//! `terraform` on a checkout, the embedded default) and, with production,
//! GitHub Actions, or HCP Terraform / Terraform Enterprise (`tfc`); `fake`
//! is the in-memory one for tests.
//!
//! Plans run at the PR head (which tfpilot keeps merged with the current
//! main). Applies and destroys always run on the **tip of main** at the
//! moment they start, one at a time per project + environment, as a saved
//! plan whose resource changes are checked against the run's [`Scope`]
//! before anything is applied; a change outside it ends the run
//! `Blocked`, with nothing applied.
//!
//! Run ids are deterministic (`<request>-<kind>-<attempt>`): dispatching an
//! attempt that already exists returns it instead of starting another.

pub mod actions;
mod artifact;
mod checkouts;
pub mod drift;
pub mod fake;
pub mod local;
mod locks;
pub mod plan;
pub mod route;
pub mod tfc;

use app::domain::ids::{EnvName, ProjectKey, RequestId};
use app::domain::request::{Conclusion, PlanSummary, RunCheck, RunStatus};
pub use app::domain::scope::{Scope, ScopeKind, Unexpected};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use drift::{DriftReport, DriftSpec};
pub use plan::{PlanOutput, ResourceChange};

/// What can go wrong, decided by the adapter.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// No such run (or no plan output for it).
    #[error("not found: {0}")]
    NotFound(String),
    /// The executor could not be reached.
    #[error("executor unavailable: {0}")]
    Unavailable(String),
    /// The request is wrong.
    #[error("invalid run: {0}")]
    Invalid(String),
}

/// The kind of run: plan, apply or destroy (one type with the domain's).
pub use app::domain::transitions::RunKind;

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Project.
    pub project: ProjectKey,
    /// Environment (`envs/<env>`).
    pub environment: EnvName,
    /// Request.
    pub request: RequestId,
    /// Plan, apply or destroy.
    pub kind: RunKind,
    /// Plans: the commit to plan. Applies and destroys: the commit the run
    /// is for (the request's merge); the run itself uses main's tip.
    pub sha: String,
    /// Attempt number (1-based).
    pub attempt: u32,
    /// Applies and destroys: what the saved plan may change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

impl RunSpec {
    /// The deterministic run id.
    pub fn run_id(&self) -> String {
        run_id(&self.request, self.kind, self.attempt)
    }
}

/// The deterministic id of an attempt (`<request>-<kind>-<attempt>`).
pub use app::domain::transitions::run_id;

/// The `run-name` the workflows give a run of `spec`:
/// `tfpilot <kind> <id> attempt <n>`.
pub fn run_name(spec: &RunSpec) -> String {
    format!(
        "tfpilot {} {} attempt {}",
        spec.kind.as_str(),
        spec.request,
        spec.attempt
    )
}

/// The request a run belongs to, from its [`run_name`].
pub fn request_of_run_name(name: &str) -> Option<RequestId> {
    let mut words = name.split_whitespace();
    (words.next()? == "tfpilot").then_some(())?;
    words.next()?;
    RequestId::parse(words.next()?).ok()
}

/// A run as the executor reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Run id.
    pub run_id: String,
    /// What was run.
    pub spec: RunSpec,
    /// Link, when the executor has one.
    pub url: Option<String>,
    /// Queued, running or completed (never goes back).
    pub status: RunStatus,
    /// Outcome once completed.
    pub conclusion: Option<Conclusion>,
    /// Counts of the plan (plan runs; apply and destroy report theirs too).
    pub summary: Option<PlanSummary>,
    /// A line on why it failed.
    pub error: Option<String>,
    /// Applies and destroys: the tip of main the run used.
    #[serde(default)]
    pub ran_at: Option<String>,
    /// A blocked run: the changes outside its scope (nothing was applied).
    #[serde(default)]
    pub blocked: Vec<Unexpected>,
    /// Cost estimates and policy checks the executor ran, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<RunCheck>,
}

impl RunInfo {
    /// A run of `spec` just dispatched: queued, nothing known yet.
    pub fn queued(spec: &RunSpec) -> RunInfo {
        RunInfo {
            run_id: spec.run_id(),
            spec: spec.clone(),
            url: None,
            status: RunStatus::Queued,
            conclusion: None,
            summary: None,
            error: None,
            ran_at: None,
            blocked: Vec::new(),
            checks: Vec::new(),
        }
    }
}

/// Runs Terraform somewhere.
#[async_trait]
pub trait Executor: Send + Sync + 'static {
    /// Starts a run, or returns the existing run with the same id.
    async fn dispatch(&self, spec: &RunSpec) -> Result<RunInfo, ExecError>;

    /// The state of the run of `spec` (`NotFound` if it was never dispatched).
    async fn status(&self, spec: &RunSpec) -> Result<RunInfo, ExecError>;

    /// The plan of a completed run: text log and structured changes.
    async fn plan_output(&self, spec: &RunSpec) -> Result<PlanOutput, ExecError>;

    /// The run's log so far (complete once the run is).
    async fn log(&self, spec: &RunSpec) -> Result<String, ExecError>;

    /// Checks `spec`'s project + environment for drift on the tip of the
    /// default branch, under the same serialization as its applies, and
    /// waits for the answer. Found again by its run id: asked twice, it
    /// runs once.
    async fn drift(&self, spec: &DriftSpec) -> Result<DriftReport, ExecError>;

    /// Where runs of `project` go, as a metrics label: `local`,
    /// `actions`, `tfc` or `fake`.
    fn name(&self, project: &ProjectKey) -> &'static str;

    /// For a run waiting for a terraform slot here: how many runs wait
    /// ahead of it. `None` when it is not waiting here (started, done, or
    /// queued somewhere else, such as GitHub Actions).
    fn queued_ahead(&self, _run_id: &str) -> Option<usize> {
        None
    }

    /// Why a queued run waits, in a few words (`2 ahead`, `workspace
    /// busy`), when the executor knows; the request page shows
    /// `queued (<words>)`.
    fn waiting(&self, run_id: &str) -> Option<String> {
        self.queued_ahead(run_id).map(|n| format!("{n} ahead"))
    }
}
