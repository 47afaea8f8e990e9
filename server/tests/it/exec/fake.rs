//! The contract on the in-memory `FakeExecutor`, driven step by step by a
//! model of main and the state (each block one resource), and what only
//! the fake does: auto-complete and completions sent like the local
//! executor's.

use super::{Harness, World, block, resource};
use app::domain::drift::{AttrChange, DriftChange};
use app::domain::ids::RequestId;
use app::domain::request::{Conclusion, PlanSummary, RunStatus};
use app::domain::scope::PlannedChange;
use async_trait::async_trait;
use server::exec::fake::{FakeExecutor, Outcome};
use server::exec::{DriftSpec, Executor, PlanOutput, ResourceChange, RunKind, RunSpec};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// Main's commits (the blocks each holds) and what was applied.
#[derive(Default)]
struct Model {
    commits: HashMap<String, BTreeSet<RequestId>>,
    main: String,
    applied: BTreeSet<RequestId>,
}

struct Modelled {
    fake: FakeExecutor,
    model: Mutex<Model>,
}

/// A fake executor whose runs the model finishes.
async fn harness() -> Harness {
    let fake = FakeExecutor::new();
    Harness {
        exec: Arc::new(fake.clone()),
        world: Box::new(Modelled {
            fake,
            model: Mutex::new(Model::default()),
        }),
    }
}

/// The plan from `applied` to `blocks`: a create for each block not
/// applied, a delete for each applied block no longer there; only
/// `target`'s, when there is one.
fn plan_of(
    blocks: &BTreeSet<RequestId>,
    applied: &BTreeSet<RequestId>,
    target: Option<&str>,
) -> PlanOutput {
    let change = |r: &RequestId, action: &str| ResourceChange {
        address: resource(r),
        module: Some(block(r)),
        action: action.into(),
    };
    let deletes = applied.difference(blocks).map(|r| change(r, "delete"));
    let creates = blocks.difference(applied).map(|r| change(r, "create"));
    let changes: Vec<_> = deletes
        .chain(creates)
        .filter(|c| target.is_none_or(|t| c.module.as_deref() == Some(t)))
        .collect();
    let count = |action: &str| changes.iter().filter(|c| c.action == action).count() as u32;
    let summary = PlanSummary {
        import: 0,
        add: count("create"),
        change: 0,
        destroy: count("delete"),
    };
    let log = if changes.is_empty() {
        "No changes. Your infrastructure matches the configuration.\n".to_owned()
    } else {
        format!(
            "Plan: {} to add, 0 to change, {} to destroy.\n",
            summary.add, summary.destroy
        )
    };
    PlanOutput {
        summary,
        changes,
        log,
    }
}

impl Model {
    /// What the run of `spec` does, as terraform on this repo would.
    fn outcome(&mut self, spec: &RunSpec) -> Outcome {
        let sha = match spec.kind {
            RunKind::Plan => spec.sha.clone(),
            RunKind::Apply | RunKind::Destroy => self.main.clone(),
        };
        let blocks = self.commits.get(&sha).cloned().unwrap_or_default();
        let target = spec.scope.as_ref().and_then(|s| s.target.as_deref());
        let plan = plan_of(&blocks, &self.applied, target);
        let Some(scope) = &spec.scope else {
            return Outcome::success().with_plan(plan);
        };
        let planned: Vec<_> = plan
            .changes
            .iter()
            .map(|c| PlannedChange {
                address: c.address.clone(),
                action: c.action.clone(),
            })
            .collect();
        let blocked = app::domain::scope::check(scope, &planned);
        if !blocked.is_empty() {
            return Outcome::blocked(blocked).with_plan(plan).ran_at(sha);
        }
        for c in &plan.changes {
            let owner = app::domain::scope::owner(&c.address);
            match (c.action.as_str(), owner) {
                ("create", Some(r)) => self.applied.insert(r),
                ("delete", Some(r)) => self.applied.remove(&r),
                _ => false,
            };
        }
        Outcome::success().with_plan(plan).ran_at(sha)
    }

    /// A new commit on main with `change` made to its blocks.
    fn commit(&mut self, change: impl FnOnce(&mut BTreeSet<RequestId>)) -> String {
        let mut blocks = self.commits.get(&self.main).cloned().unwrap_or_default();
        change(&mut blocks);
        let sha = format!("{:040x}", self.commits.len() + 1);
        self.commits.insert(sha.clone(), blocks);
        self.main = sha.clone();
        sha
    }
}

#[async_trait]
impl World for Modelled {
    async fn merge_block(&self, request: &RequestId) -> String {
        let mut model = self.model.lock().unwrap();
        let tip = model.commit(|blocks| {
            blocks.insert(*request);
        });
        self.fake.set_main(&tip);
        tip
    }

    async fn remove_block(&self, request: &RequestId) -> String {
        let mut model = self.model.lock().unwrap();
        let tip = model.commit(|blocks| {
            blocks.remove(request);
        });
        self.fake.set_main(&tip);
        tip
    }

    /// Queued → running → completed, one step per call.
    async fn advance(&self, spec: &RunSpec) {
        let run_id = spec.run_id();
        let info = self.fake.run(&run_id).unwrap();
        match info.status {
            RunStatus::Queued => {
                self.fake.start(&run_id).unwrap();
            }
            RunStatus::Running => {
                let outcome = self.model.lock().unwrap().outcome(spec);
                self.fake.complete(&run_id, outcome).unwrap();
            }
            RunStatus::Completed => {}
        }
    }

    async fn executions(&self, spec: &RunSpec) -> usize {
        let run_id = spec.run_id();
        self.fake
            .runs()
            .iter()
            .filter(|r| r.run_id == run_id)
            .count()
    }

    /// What the edited state makes a check find, told to the fake.
    async fn change_out_of_band(&self, request: &RequestId) {
        let input = |versioning: bool| {
            Some(format!(
                r#"{{"name":"bucket-{request}","versioning":{versioning}}}"#
            ))
        };
        let change = DriftChange {
            address: resource(request),
            action: "update".into(),
            attributes: vec![AttrChange {
                name: "input".into(),
                current: input(false),
                desired: input(true),
                sensitive: false,
            }],
        };
        self.fake.set_drift("sandbox", "dev", Ok(vec![change]));
    }

    async fn drift_executions(&self, spec: &DriftSpec) -> usize {
        self.fake
            .drift_runs()
            .iter()
            .filter(|r| r.run_id == spec.run_id)
            .count()
    }
}

exec_contract!(harness);

fn plan_spec(attempt: u32) -> RunSpec {
    RunSpec {
        project: super::sandbox(),
        environment: app::domain::ids::EnvName::parse("dev").unwrap(),
        request: RequestId::generate(1_760_000_000_000, 9),
        kind: RunKind::Plan,
        sha: "a".repeat(40),
        attempt,
        scope: None,
    }
}

#[tokio::test]
async fn completed_runs_are_reported_like_the_local_executors() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let fake = FakeExecutor::new().with_completions(tx);
    let spec = plan_spec(1);
    let run_id = fake.dispatch(&spec).await.unwrap().run_id;
    assert!(rx.try_recv().is_err(), "nothing before it completes");
    fake.start(&run_id).unwrap();
    let done = fake
        .complete(&run_id, Outcome::failure("terraform plan failed"))
        .unwrap();
    assert_eq!(rx.recv().await.unwrap(), done);
    assert_eq!(done.conclusion, Some(Conclusion::Failure));
    assert_eq!(done.error.as_deref(), Some("terraform plan failed"));
    assert!(
        matches!(
            fake.plan_output(&spec).await,
            Err(server::exec::ExecError::NotFound(_))
        ),
        "a failed plan has no plan output"
    );
    assert!(
        fake.log(&spec)
            .await
            .unwrap()
            .contains("terraform plan failed")
    );
    // A run completes once and never goes back.
    assert!(fake.complete(&run_id, Outcome::success()).is_err());
    assert!(fake.start(&run_id).is_err());
    assert_eq!(fake.status(&spec).await.unwrap(), done);
}

#[tokio::test]
async fn in_auto_complete_mode_runs_end_with_the_chosen_outcome() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let plan = plan_of(
        &BTreeSet::from([RequestId::generate(1_760_000_000_000, 9)]),
        &BTreeSet::new(),
        None,
    );
    let fake = FakeExecutor::new()
        .with_plan(plan.clone())
        .with_completions(tx)
        .with_auto_complete(|spec| match spec.attempt {
            1 => Outcome::success(),
            _ => Outcome::failure("no"),
        });
    let first = fake.dispatch(&plan_spec(1)).await.unwrap();
    assert_eq!(first.status, RunStatus::Queued);
    let done = rx.recv().await.unwrap();
    assert_eq!(done.run_id, first.run_id);
    assert_eq!(done.conclusion, Some(Conclusion::Success));
    assert_eq!(done.summary, Some(plan.summary));
    let output = fake.plan_output(&plan_spec(1)).await.unwrap();
    assert_eq!(output.changes, plan.changes);

    fake.dispatch(&plan_spec(2)).await.unwrap();
    assert_eq!(
        rx.recv().await.unwrap().conclusion,
        Some(Conclusion::Failure)
    );

    fake.manual();
    let third = fake.dispatch(&plan_spec(3)).await.unwrap();
    tokio::task::yield_now().await;
    assert_eq!(
        fake.status(&plan_spec(3)).await.unwrap().status,
        RunStatus::Queued,
        "manual again: {third:?}"
    );
    assert_eq!(fake.runs().len(), 3);
}
