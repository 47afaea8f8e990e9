//! The `Executor` contract, run against every adapter: local terraform on
//! a local repo, GitHub Actions on the stateful GitHub fake, HCP Terraform
//! on its stateful fake, and the in-memory `FakeExecutor`. Each adapter's module builds a [`Harness`]
//! and instantiates every case with [`exec_contract!`].

use app::domain::ids::{ProjectKey, RequestId};
use async_trait::async_trait;
use serde_json::{Value, json};
use server::exec::{DriftSpec, Executor, RunSpec};
use server::git::local::MAIN;
use server::git::{FileChange, GitHost};
use std::path::Path;
use std::sync::Arc;

/// Instantiates every contract case for the adapter `$make` builds.
macro_rules! exec_contract {
    ($make:path) => {
        exec_contract!(@cases $make;
            dispatch_starts_one_run_under_its_deterministic_id,
            nothing_is_known_of_a_run_never_dispatched,
            a_plan_reports_its_changes_in_status_plan_output_and_log,
            an_apply_within_its_scope_applies_main_at_its_tip,
            an_apply_beyond_its_scope_is_blocked_and_applies_nothing,
            a_destroy_removes_only_its_target,
            a_drift_check_of_a_clean_environment_finds_nothing_and_runs_once,
            a_drift_check_finds_exactly_the_resource_changed_out_of_band
        );
    };
    (@cases $make:path; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let harness = $make().await;
                crate::exec::cases::$case(&harness).await;
            }
        )*
    };
}

mod actions;
pub mod cases;
mod fake;
mod local;
pub mod tfc;

/// Whatever must live as long as the executor (a temp dir, a fake).
pub type Keep = Box<dyn std::any::Any + Send + Sync>;

/// An executor and the world its runs see.
pub struct Harness {
    /// The adapter under test.
    pub exec: Arc<dyn Executor>,
    /// Its infra repo and how its runs move on.
    pub world: Box<dyn World>,
}

/// What the cases need from an adapter's world.
#[async_trait]
pub trait World: Send + Sync {
    /// Commits a block of `request` to main (one resource,
    /// [`resource`]`(request)`); returns main's new tip.
    async fn merge_block(&self, request: &RequestId) -> String;

    /// Removes `request`'s block from main; returns main's new tip.
    async fn remove_block(&self, request: &RequestId) -> String;

    /// Lets the run of `spec` move on: the real executors wait a moment;
    /// the fake takes one step.
    async fn advance(&self, spec: &RunSpec);

    /// How many times the run of `spec` was really started.
    async fn executions(&self, spec: &RunSpec) -> usize;

    /// Changes the applied resource of `request`'s block behind
    /// Terraform's back: its `versioning` input becomes `false` in the
    /// state (the fake is told what a check will find).
    async fn change_out_of_band(&self, request: &RequestId);

    /// How many times the drift check `spec` really ran.
    async fn drift_executions(&self, spec: &DriftSpec) -> usize;
}

/// Sets `versioning = false` in the `input` of `request`'s resource in the
/// state file at `path`, as a hand edit of the state would.
pub fn edit_state(path: &Path, request: &RequestId) {
    let mut state: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let module = block(request);
    let resource = state["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["module"] == module.as_str())
        .unwrap_or_else(|| panic!("{module} is in the state"));
    let input = &mut resource["instances"][0]["attributes"]["input"]["value"];
    assert_eq!(input["versioning"], json!(true), "{input}");
    input["versioning"] = json!(false);
    state["serial"] = json!(state["serial"].as_u64().unwrap() + 1);
    std::fs::write(path, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
}

/// The project every case runs in (environment `dev`).
pub fn sandbox() -> ProjectKey {
    ProjectKey::parse("sandbox").unwrap()
}

/// The module of `request`'s block.
pub fn block(request: &RequestId) -> String {
    format!("module.s3-bucket_{request}")
}

/// The one resource of `request`'s block.
pub fn resource(request: &RequestId) -> String {
    format!("{}.terraform_data.this", block(request))
}

/// Commits a block of `request` to main through `git` (`present`) or
/// removes it; returns main's tip.
pub async fn commit_block(git: &dyn GitHost, request: &RequestId, present: bool) -> String {
    let tip = git.branch_head(&sandbox(), MAIN).await.unwrap().unwrap();
    let content = format!(
        "module \"s3-bucket_{request}\" {{\n  source = \"../../modules/s3-bucket\"\n  name = \"bucket-{request}\"\n  versioning = true\n  force_destroy = false\n  tags = {{}}\n}}\n"
    );
    let change = FileChange {
        path: format!("envs/dev/contract.{request}.tf"),
        content: present.then_some(content),
    };
    git.commit(&sandbox(), MAIN, &tip, &[change], "block")
        .await
        .unwrap()
}
