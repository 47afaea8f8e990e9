//! The Actions executor's unit tests: run names, refs and inputs per kind.

use super::*;
use crate::exec::{Scope, ScopeKind};
use app::domain::ids::{EnvName, RequestId};

#[test]
fn run_names_match_the_workflows() {
    let spec = RunSpec {
        project: ProjectKey::parse("sandbox").unwrap(),
        environment: EnvName::parse("dev").unwrap(),
        request: RequestId::generate(1_700_000_000_000, 7),
        kind: RunKind::Apply,
        sha: "abc".into(),
        attempt: 2,
        scope: None,
    };
    let name = run_name(&spec);
    assert_eq!(name, format!("tfpilot apply {} attempt 2", spec.request));
    assert_eq!(crate::exec::request_of_run_name(&name), Some(spec.request));
    let workflow = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../infra-workflows/template/.github/workflows")
            .join(workflow_file(spec.kind)),
    )
    .unwrap();
    assert!(workflow.contains(
        "run-name: \"tfpilot apply ${{ inputs.request_id }} attempt ${{ inputs.attempt }}\""
    ));
    assert!(
        workflow.contains("name: tfpilot-apply-${{ inputs.request_id }}-${{ inputs.attempt }}")
    );
}

#[test]
fn applies_and_destroys_run_main_in_the_environment_they_change() {
    for kind in [RunKind::Apply, RunKind::Destroy] {
        let workflow = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../infra-workflows/template/.github/workflows")
                .join(workflow_file(kind)),
        )
        .unwrap();
        let kind = kind.as_str();
        // main only, never a ref chosen by whoever dispatches it …
        assert!(workflow.contains("          ref: main\n"), "{kind}");
        assert!(!workflow.contains("\n      ref:\n"), "{kind}");
        // … the scope as the one extra input, in the deployment
        // environment named after tfpilot's, one at a time per env.
        assert!(workflow.contains("\n      scope:\n"), "{kind}");
        assert!(
            workflow.contains("    environment: ${{ inputs.environment }}\n"),
            "{kind}"
        );
        assert!(
            workflow
                .contains("group: tfpilot-state-${{ inputs.project }}-${{ inputs.environment }}"),
            "{kind}: {workflow}"
        );
    }
}

fn spec(kind: RunKind, scope: Option<Scope>) -> RunSpec {
    RunSpec {
        project: ProjectKey::parse("sandbox").unwrap(),
        environment: EnvName::parse("dev").unwrap(),
        request: RequestId::generate(1_700_000_000_000, 7),
        kind,
        sha: "abc".into(),
        attempt: 1,
        scope,
    }
}

#[test]
fn plans_send_their_commit_and_applies_their_scope() {
    let plan = dispatch_inputs(&spec(RunKind::Plan, None)).unwrap();
    assert_eq!(plan["ref"], "abc");
    assert!(plan.get("scope").is_none());

    let request = RequestId::generate(1_700_000_000_000, 7);
    let scope = Scope {
        kind: ScopeKind::Apply,
        apply: vec![request],
        destroy: vec![],
        confirmed: vec![],
        target: None,
    };
    let apply = dispatch_inputs(&spec(RunKind::Apply, Some(scope.clone()))).unwrap();
    assert!(apply.get("ref").is_none(), "{apply}");
    let sent: Scope = serde_json::from_str(apply["scope"].as_str().unwrap()).unwrap();
    assert_eq!(sent, scope);
    for kind in [RunKind::Apply, RunKind::Destroy] {
        assert!(matches!(
            dispatch_inputs(&spec(kind, None)),
            Err(ExecError::Invalid(_))
        ));
    }
}

#[test]
fn the_drift_workflow_is_named_by_its_run_and_waits_for_applies() {
    let spec = DriftSpec {
        project: ProjectKey::parse("sandbox").unwrap(),
        environment: EnvName::parse("dev").unwrap(),
        run_id: "drift-sandbox-dev-7".into(),
    };
    let workflow = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../infra-workflows/template/.github/workflows")
            .join(drift::DRIFT_WORKFLOW),
    )
    .unwrap();
    let run_name = workflow
        .lines()
        .find_map(|l| l.strip_prefix("run-name: "))
        .unwrap()
        .trim_matches('"')
        .replace("${{ inputs.project }}", spec.project.as_str())
        .replace("${{ inputs.environment }}", spec.environment.as_str())
        .replace("${{ inputs.drift_run }}", &spec.run_id);
    assert_eq!(run_name, spec.run_name());
    let artifact = format!(
        "name: {}",
        drift::drift_artifact_name(&spec).replace(&spec.run_id, "${{ inputs.drift_run }}")
    );
    assert!(workflow.contains(&artifact), "{artifact}");
    // The applies' concurrency group, never cancelled; the default
    // branch's tip, whoever dispatches it.
    let apply = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../infra-workflows/template/.github/workflows")
            .join(workflow_file(RunKind::Apply)),
    )
    .unwrap();
    let group = |w: &str| {
        w.lines()
            .find(|l| l.trim_start().starts_with("group:"))
            .map(str::to_owned)
    };
    assert_eq!(group(&workflow), group(&apply));
    assert!(workflow.contains("cancel-in-progress: false"));
    assert!(workflow.contains("ref: ${{ github.event.repository.default_branch }}\n"));
    assert!(workflow.contains("-detailed-exitcode"));
}
