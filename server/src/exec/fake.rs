//! `FakeExecutor`: an in-memory `Executor` whose runs finish when a test says so.
//!
//! Dispatching records a run under its deterministic id (dispatching the
//! same spec again returns it); the run then stays `Queued` until the test
//! calls [`FakeExecutor::start`] and [`FakeExecutor::complete`] — or, in
//! auto-complete mode, it starts and completes on its own with the outcome
//! a configured function picks for its spec. A completed run is sent to the
//! completions channel, as the local executor sends its runs, so a
//! `Flow::on_run` loop can be driven by it. Every run's plan is the
//! executor's configured [`PlanOutput`] at completion, unless its outcome
//! carries its own.
//!
//! It passes the `Executor` contract suite (`tests/it/exec/`), like the
//! local and the Actions executors.

use super::{
    DriftReport, DriftSpec, ExecError, Executor, PlanOutput, RunInfo, RunKind, RunSpec, Unexpected,
};
use app::domain::drift::DriftChange;
use app::domain::request::{Conclusion, PlanSummary, RunStatus};
use async_trait::async_trait;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc::UnboundedSender;

/// How a run ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The run's conclusion.
    pub conclusion: Conclusion,
    /// The plan it made; `None`: the executor's configured plan for a
    /// successful or blocked run, no plan for the others (a failed apply
    /// given a plan keeps it, like a real one whose plan was saved; only
    /// successful and blocked runs report its counts).
    pub plan: Option<PlanOutput>,
    /// A blocked run: the changes outside its scope.
    pub blocked: Vec<Unexpected>,
    /// Applies and destroys: the tip of main they ran at (`None`: the spec's sha).
    pub ran_at: Option<String>,
    /// Why it did not succeed.
    pub error: Option<String>,
}

impl Outcome {
    /// Success with the configured plan.
    pub fn success() -> Self {
        Self {
            conclusion: Conclusion::Success,
            plan: None,
            blocked: Vec::new(),
            ran_at: None,
            error: None,
        }
    }

    /// A failure saying `error`; no plan.
    pub fn failure(error: impl Into<String>) -> Self {
        Self {
            conclusion: Conclusion::Failure,
            error: Some(error.into()),
            ..Self::success()
        }
    }

    /// Stopped before applying because of `blocked`, with the sentence the
    /// real executors give.
    pub fn blocked(blocked: Vec<Unexpected>) -> Self {
        Self {
            conclusion: Conclusion::Blocked,
            error: Some(app::domain::scope::describe(&blocked)),
            blocked,
            ..Self::success()
        }
    }

    /// The same outcome with its own plan.
    pub fn with_plan(mut self, plan: PlanOutput) -> Self {
        self.plan = Some(plan);
        self
    }

    /// The same outcome, run at `sha` (applies and destroys).
    pub fn ran_at(mut self, sha: impl Into<String>) -> Self {
        self.ran_at = Some(sha.into());
        self
    }

    fn keeps_plan(&self) -> bool {
        matches!(self.conclusion, Conclusion::Success | Conclusion::Blocked)
    }
}

/// Picks the outcome of a run in auto-complete mode.
pub type Decide = Arc<dyn Fn(&RunSpec) -> Outcome + Send + Sync>;

/// An in-memory executor; clones share their runs.
#[derive(Clone)]
pub struct FakeExecutor {
    state: Arc<Mutex<State>>,
}

struct State {
    /// In dispatch order.
    runs: Vec<Run>,
    plan: PlanOutput,
    auto: Option<Decide>,
    completed: Option<UnboundedSender<RunInfo>>,
    /// What drift checks find, per `<project>/<env>` (none: no drift).
    drift: std::collections::HashMap<String, Result<Vec<DriftChange>, String>>,
    /// Drift checks run, by run id (a repeated id is answered from here).
    drift_runs: Vec<DriftReport>,
    /// The tip of main drift checks report.
    main: String,
}

struct Run {
    info: RunInfo,
    plan: Option<PlanOutput>,
    log: String,
}

fn not_found(run_id: &str) -> ExecError {
    ExecError::NotFound(format!("run {run_id}"))
}

impl Default for FakeExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeExecutor {
    /// No runs, an empty plan, runs finish only when told.
    pub fn new() -> Self {
        let plan = PlanOutput {
            summary: PlanSummary::default(),
            changes: Vec::new(),
            log: "No changes. Your infrastructure matches the configuration.\n".to_owned(),
        };
        Self {
            state: Arc::new(Mutex::new(State {
                runs: Vec::new(),
                plan,
                auto: None,
                completed: None,
                drift: Default::default(),
                drift_runs: Vec::new(),
                main: "fake-main".into(),
            })),
        }
    }

    /// Sends every completed run to `completed` too.
    pub fn with_completions(self, completed: UnboundedSender<RunInfo>) -> Self {
        self.lock().completed = Some(completed);
        self
    }

    /// Runs completing from now on plan `plan` (unless their outcome has one).
    pub fn with_plan(self, plan: PlanOutput) -> Self {
        self.set_plan(plan);
        self
    }

    /// Runs dispatched from now on start and complete on their own, with
    /// the outcome `decide` picks for their spec.
    pub fn with_auto_complete(
        self,
        decide: impl Fn(&RunSpec) -> Outcome + Send + Sync + 'static,
    ) -> Self {
        self.lock().auto = Some(Arc::new(decide));
        self
    }

    /// Changes the plan of the runs completing from now on.
    pub fn set_plan(&self, plan: PlanOutput) {
        self.lock().plan = plan;
    }

    /// Drift checks of `project`/`env` from now on find `changes` (an
    /// error: the check fails with it).
    pub fn set_drift(&self, project: &str, env: &str, changes: Result<Vec<DriftChange>, String>) {
        self.lock()
            .drift
            .insert(format!("{project}/{env}"), changes);
    }

    /// Drift checks from now on report `sha` as the tip of main they
    /// planned (default `fake-main`).
    pub fn set_main(&self, sha: &str) {
        self.lock().main = sha.to_owned();
    }

    /// Every drift check run, in order.
    pub fn drift_runs(&self) -> Vec<DriftReport> {
        self.lock().drift_runs.clone()
    }

    /// Back to runs that finish only when told.
    pub fn manual(&self) {
        self.lock().auto = None;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every run, in dispatch order.
    pub fn runs(&self) -> Vec<RunInfo> {
        self.lock().runs.iter().map(|r| r.info.clone()).collect()
    }

    /// The run `run_id`, if it was dispatched.
    pub fn run(&self, run_id: &str) -> Option<RunInfo> {
        let state = self.lock();
        state
            .runs
            .iter()
            .find(|r| r.info.run_id == run_id)
            .map(|r| r.info.clone())
    }

    /// Moves a queued run to `Running` (a running one stays as it is);
    /// `Invalid` once it has completed.
    pub fn start(&self, run_id: &str) -> Result<RunInfo, ExecError> {
        let mut state = self.lock();
        let run = find(&mut state, run_id)?;
        match run.info.status {
            RunStatus::Queued => {
                run.info.status = RunStatus::Running;
                let spec = &run.info.spec;
                run.log.push_str(&format!(
                    "# {} of {} started\n",
                    spec.kind.as_str(),
                    spec.sha
                ));
            }
            RunStatus::Running => {}
            RunStatus::Completed => {
                return Err(ExecError::Invalid(format!("run {run_id} has completed")));
            }
        }
        Ok(run.info.clone())
    }

    /// Completes a queued or running run with `outcome` and reports it;
    /// `Invalid` if it has completed already (a run completes once).
    pub fn complete(&self, run_id: &str, outcome: Outcome) -> Result<RunInfo, ExecError> {
        let (info, completed) = {
            let mut state = self.lock();
            let configured = state.plan.clone();
            let completed = state.completed.clone();
            let run = find(&mut state, run_id)?;
            if run.info.status == RunStatus::Completed {
                return Err(ExecError::Invalid(format!(
                    "run {run_id} has completed already"
                )));
            }
            finish(run, outcome, configured);
            (run.info.clone(), completed)
        };
        if let Some(tx) = completed {
            let _ = tx.send(info.clone());
        }
        Ok(info)
    }
}

fn find<'a>(state: &'a mut State, run_id: &str) -> Result<&'a mut Run, ExecError> {
    state
        .runs
        .iter_mut()
        .find(|r| r.info.run_id == run_id)
        .ok_or_else(|| not_found(run_id))
}

/// Writes `outcome` into `run`: status, conclusion, plan, log.
fn finish(run: &mut Run, outcome: Outcome, configured: PlanOutput) {
    let info = &mut run.info;
    if info.status == RunStatus::Queued {
        run.log
            .push_str(&format!("# {} started\n", info.spec.kind.as_str()));
    }
    info.status = RunStatus::Completed;
    info.conclusion = Some(outcome.conclusion);
    info.error = outcome.error.clone();
    info.blocked = outcome.blocked.clone();
    if info.spec.kind != RunKind::Plan {
        info.ran_at = Some(
            outcome
                .ran_at
                .clone()
                .unwrap_or_else(|| info.spec.sha.clone()),
        );
    }
    let keeps_plan = outcome.keeps_plan();
    if let Some(plan) = outcome.plan.clone().or(keeps_plan.then_some(configured)) {
        if keeps_plan {
            info.summary = Some(plan.summary);
        }
        run.log.push_str(&plan.log);
        run.plan = Some(plan);
    }
    if !outcome.blocked.is_empty() {
        run.log.push_str(&format!(
            "\n# {}\n# Nothing was applied.\n",
            app::domain::scope::describe(&outcome.blocked)
        ));
    } else if let Some(error) = &outcome.error {
        run.log.push_str(&format!("\n# {error}\n"));
    }
}

#[async_trait]
impl Executor for FakeExecutor {
    fn name(&self, _project: &app::domain::ids::ProjectKey) -> &'static str {
        "fake"
    }

    async fn dispatch(&self, spec: &RunSpec) -> Result<RunInfo, ExecError> {
        let run_id = spec.run_id();
        let (info, auto) = {
            let mut state = self.lock();
            if let Some(run) = state.runs.iter().find(|r| r.info.run_id == run_id) {
                return Ok(run.info.clone());
            }
            let info = RunInfo::queued(spec);
            state.runs.push(Run {
                info: info.clone(),
                plan: None,
                log: String::new(),
            });
            (info, state.auto.clone())
        };
        if let Some(decide) = auto {
            let this = self.clone();
            let spec = spec.clone();
            tokio::spawn(async move {
                // After the dispatcher has seen the run queued.
                tokio::task::yield_now().await;
                let outcome = decide(&spec);
                let _ = this.start(&run_id);
                tokio::task::yield_now().await;
                let _ = this.complete(&run_id, outcome);
            });
        }
        Ok(info)
    }

    async fn status(&self, spec: &RunSpec) -> Result<RunInfo, ExecError> {
        let run_id = spec.run_id();
        self.run(&run_id).ok_or_else(|| not_found(&run_id))
    }

    async fn plan_output(&self, spec: &RunSpec) -> Result<PlanOutput, ExecError> {
        let run_id = spec.run_id();
        let state = self.lock();
        let run = state
            .runs
            .iter()
            .find(|r| r.info.run_id == run_id)
            .ok_or_else(|| not_found(&run_id))?;
        let plan = run
            .plan
            .as_ref()
            .ok_or_else(|| ExecError::NotFound(format!("no plan for run {run_id}")))?;
        Ok(PlanOutput {
            log: run.log.clone(),
            ..plan.clone()
        })
    }

    async fn drift(&self, spec: &DriftSpec) -> Result<DriftReport, ExecError> {
        let mut state = self.lock();
        if let Some(done) = state.drift_runs.iter().find(|r| r.run_id == spec.run_id) {
            return Ok(done.clone());
        }
        let key = format!("{}/{}", spec.project, spec.environment);
        let changes = match state.drift.get(&key) {
            None => Vec::new(),
            Some(Ok(changes)) => changes.clone(),
            Some(Err(e)) => return Err(ExecError::Unavailable(e.clone())),
        };
        let report = DriftReport {
            run_id: spec.run_id.clone(),
            sha: state.main.clone(),
            changes,
            url: None,
        };
        state.drift_runs.push(report.clone());
        Ok(report)
    }

    async fn log(&self, spec: &RunSpec) -> Result<String, ExecError> {
        let run_id = spec.run_id();
        let state = self.lock();
        state
            .runs
            .iter()
            .find(|r| r.info.run_id == run_id && !r.log.is_empty())
            .map(|r| r.log.clone())
            .ok_or_else(|| ExecError::NotFound(format!("no log yet for run {run_id}")))
    }
}
