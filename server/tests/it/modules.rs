//! The registry and the Terraform modules agree, and every rendered block is
//! formatted the way `terraform fmt` wants it.

use crate::support::root;
use app::domain::config::normalize;
use app::domain::ids::{EnvName, ProjectKey, RequestId, Target};
use app::domain::registry::{InputType, Module, Registry};
use app::domain::render::{render_block, sample_config};
use std::path::{Path, PathBuf};
use std::process::Command;

fn registry() -> Registry {
    server::registry::load(&root().join("modules-registry.toml")).expect("registry loads")
}

fn module_dir(flavour: &str, m: &Module) -> PathBuf {
    let name = m
        .source
        .rsplit('/')
        .next()
        .expect("source names a directory");
    root()
        .join("infra-workflows")
        .join(flavour)
        .join("modules")
        .join(name)
}

struct Variable {
    name: String,
    ty: String,
    has_default: bool,
    sensitive: bool,
}

fn variables(path: &Path) -> Vec<Variable> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body =
        hcl_edit::parser::parse_body(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    body.get_blocks("variable")
        .map(|b| {
            let attr = |k: &str| {
                b.body
                    .get_attribute(k)
                    .map(|a| a.value.to_string().split_whitespace().collect::<String>())
            };
            Variable {
                name: b.labels[0].as_str().to_owned(),
                ty: attr("type").unwrap_or_default(),
                has_default: b.body.has_attribute("default"),
                sensitive: attr("sensitive").as_deref() == Some("true"),
            }
        })
        .collect()
}

fn tf_type(ty: InputType) -> &'static str {
    match ty {
        InputType::String | InputType::Enum => "string",
        InputType::Number => "number",
        InputType::Bool => "bool",
        InputType::List => "list(string)",
        InputType::Map => "map(string)",
    }
}

#[test]
fn every_module_variables_tf_matches_its_registry_inputs() {
    let reg = registry();
    assert!(reg.modules.len() >= 5, "at least five modules");
    for m in reg.modules.values() {
        for flavour in ["template", "sandbox"] {
            let path = module_dir(flavour, m).join("variables.tf");
            let vars = variables(&path);
            let var_names: Vec<_> = vars.iter().map(|v| v.name.as_str()).collect();
            let input_names: Vec<_> = m.inputs.iter().map(|i| i.name.as_str()).collect();
            assert_eq!(
                var_names,
                input_names,
                "{}: variable names and order",
                path.display()
            );
            for (v, i) in vars.iter().zip(&m.inputs) {
                let at = format!("{} variable `{}`", path.display(), v.name);
                assert_eq!(v.ty, tf_type(i.ty), "{at}: type");
                assert_eq!(v.has_default, !i.required, "{at}: required ⇔ no default");
                assert_eq!(v.sensitive, i.sensitive, "{at}: sensitive");
            }
        }
        let real = std::fs::read(module_dir("template", m).join("variables.tf")).unwrap();
        let sandbox = std::fs::read(module_dir("sandbox", m).join("variables.tf")).unwrap();
        assert!(
            real == sandbox,
            "{}: the sandbox flavour has the same variables",
            m.module_type
        );
    }
}

#[test]
fn the_sandbox_overlays_every_file_of_the_real_modules() {
    for m in registry().modules.values() {
        let names = |flavour| {
            let mut v: Vec<_> = std::fs::read_dir(module_dir(flavour, m))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names("template"), names("sandbox"), "{}", m.module_type);
    }
}

/// Renders every module's normalized sample block for `env` into
/// `dir/envs/<env>/`, as tfpilot would commit it.
pub fn render_samples(dir: &Path, env: &str) {
    let reg = registry();
    let env_dir = dir.join("envs").join(env);
    std::fs::create_dir_all(&env_dir).unwrap();
    let project = ProjectKey::parse("sandbox").unwrap();
    let environment = EnvName::parse(env).unwrap();
    for (n, m) in reg.modules.values().enumerate() {
        let id = RequestId::generate(1_750_000_000_000 + n as u64, 7);
        let ctx = Target {
            request_id: &id,
            project: &project,
            environment: &environment,
        };
        let config = normalize(m, &sample_config(m), ctx)
            .unwrap_or_else(|e| panic!("{}: the sample config is invalid: {e:?}", m.module_type));
        let target = Target {
            request_id: &id,
            project: &project,
            environment: &environment,
        };
        let block = render_block(m, target, &config).expect("renders");
        let path = env_dir.join(&block.file);
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let new = app::domain::blocks::insert(&old, &block.id, &block.body).expect("insert");
        std::fs::write(&path, new).unwrap();
    }
}

fn copy_tree(from: &Path, to: &Path) {
    server::git::local::copy_tree(from, to).expect("copy the repo template");
}

fn terraform(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("TF_IN_AUTOMATION", "1")
        .output()
        .expect("terraform is on the PATH");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "terraform {args:?} failed in {}:\n{text}",
        dir.display()
    );
    text
}

#[test]
fn every_module_plans_offline_in_the_sandbox() {
    let repo = tempfile::tempdir().unwrap();
    let flavours = root().join("infra-workflows");
    copy_tree(&flavours.join("template"), repo.path());
    copy_tree(&flavours.join("sandbox"), repo.path());
    render_samples(repo.path(), "dev");
    let env = repo.path().join("envs/dev");
    terraform(&env, &["init", "-input=false", "-no-color"]);
    let plan = terraform(&env, &["plan", "-input=false", "-no-color", "-lock=false"]);
    let added: usize = plan
        .split("Plan: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no plan summary in:\n{plan}"));
    assert!(
        added >= registry().modules.len(),
        "every module adds resources:\n{plan}"
    );
    assert!(
        plan.contains(" to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
}

#[test]
fn every_rendered_sample_passes_terraform_fmt_check() {
    let dir = tempfile::tempdir().unwrap();
    render_samples(dir.path(), "dev");
    let out = Command::new("terraform")
        .args(["fmt", "-check", "-diff", "-recursive"])
        .arg(dir.path())
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .expect("terraform is on the PATH");
    assert!(
        out.status.success(),
        "terraform fmt -check failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_workflows_correlate_runs_and_serialize_state_changes() {
    let dir = root().join("infra-workflows/template/.github/workflows");
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    for (name, group) in [
        (
            "tfpilot-plan.yml",
            "group: tfpilot-plan-${{ inputs.project }}-${{ inputs.environment }}-${{ inputs.request_id }}",
        ),
        (
            "tfpilot-cleanup.yml",
            "group: tfpilot-cleanup-${{ inputs.project }}-${{ inputs.environment }}-${{ inputs.request_id }}",
        ),
        (
            "tfpilot-apply.yml",
            "group: tfpilot-state-${{ inputs.project }}-${{ inputs.environment }}",
        ),
        (
            "tfpilot-destroy.yml",
            "group: tfpilot-state-${{ inputs.project }}-${{ inputs.environment }}",
        ),
        (
            "tfpilot-drift.yml",
            "group: tfpilot-state-${{ inputs.project }}-${{ inputs.environment }}",
        ),
    ] {
        let text = read(name);
        let run_name = text
            .lines()
            .find(|l| l.starts_with("run-name:"))
            .unwrap_or_else(|| panic!("{name}: run-name"));
        let correlated = if name == "tfpilot-drift.yml" {
            run_name.contains("${{ inputs.drift_run }}")
        } else {
            run_name.contains("${{ inputs.request_id }}")
                && run_name.contains("${{ inputs.attempt }}")
        };
        assert!(correlated, "{name}: {run_name}");
        assert!(text.contains(group), "{name}: concurrency {group}");
        assert!(text.contains("workflow_dispatch:"), "{name}");
        assert!(text.contains("plan.json"), "{name}: plan artifact");
        // Drift checks share the applies' group: never cancelled either.
        let state_changing =
            name.contains("apply") || name.contains("destroy") || name.contains("drift");
        assert_eq!(
            text.contains("cancel-in-progress: false"),
            state_changing,
            "{name}: never cancel an apply"
        );
    }
    let backend =
        std::fs::read_to_string(root().join("infra-workflows/template/envs/prod/backend.tf"))
            .unwrap();
    assert!(
        backend.contains("backend \"s3\"") && backend.contains("use_lockfile = true"),
        "{backend}"
    );
}
