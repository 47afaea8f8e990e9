//! Build and test orchestration. Two commands do all the set-up:
//!
//! - `cargo xtask run`  — build the browser bundle and the server, then serve
//!   the embedded mode on http://127.0.0.1:3000;
//! - `cargo xtask test` — install what the tests need, then fmt, clippy, every
//!   unit, integration and browser test;
//! - `cargo xtask contract` — only the API contract run (schemathesis);
//! - `cargo xtask dist DIR` — what the container image ships, built in release;
//! - `cargo xtask check-deploy` — only the Dockerfile and `deploy/` checks.
//! - `cargo xtask load` — the release server under sustained load (minutes;
//!   wants a quiet machine, so it is not part of `test`).

mod contract;
mod deploy;
mod dist;
mod dockerfile;
mod moto;
mod tools;
mod wasm;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str =
    "usage: cargo xtask <run | test | contract | bench | load | build-site | dist DIR | check-deploy>

  run         build the wasm bundle and the server (release), then serve the
              embedded mode on http://127.0.0.1:3000 (TFPILOT_* variables apply)
  test        install test tools, then fmt --check, actionlint, the Dockerfile and
              deploy/ checks, clippy -D warnings, all tests
  contract    only the API contract: schemathesis (--checks all, fixed seed) against a
              live debug tfpilot
  bench       start moto and run the benches (request index; create → PR; …)
  load        build the release server, start moto and hold 500 SSE clients,
              1,000 API reads/s and 20 creates/s against it for 60 s
              (TFPILOT_LOAD_SECS); the table is kept in <target>/e2e-artifacts/load.txt
  build-site  only build the browser bundle into <target>/site/pkg
  dist DIR    build the release server and the optimised site into DIR
              (DIR/tfpilot, DIR/site): what the Dockerfile ships
  check-deploy
              only the Dockerfile (hadolint, syntax check) and deploy/ checks";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(),
        Some("test") => test(),
        Some("bench") => bench(),
        Some("load") => load(),
        Some("contract") => contract_only(),
        Some("build-site") => Workspace::locate().and_then(|ws| wasm::build_site(&ws).map(drop)),
        Some("dist") if args.len() == 2 => {
            Workspace::locate().and_then(|ws| dist::dist(&ws, Path::new(&args[1])))
        }
        Some("check-deploy") => Workspace::locate().and_then(|ws| deploy::check(&ws)),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

/// Paths of the checkout and its build output.
pub struct Workspace {
    /// The workspace root (holds `Cargo.toml`).
    pub root: PathBuf,
    /// Cargo's target directory (`CARGO_TARGET_DIR` or `<root>/target`).
    pub target: PathBuf,
}

impl Workspace {
    fn locate() -> Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("xtask has no parent directory")?
            .to_path_buf();
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => {
                let dir = PathBuf::from(dir);
                if dir.is_absolute() {
                    dir
                } else {
                    root.join(dir)
                }
            }
            None => root.join("target"),
        };
        Ok(Self { root, target })
    }

    /// Where the served assets live (`pkg/` under it).
    pub fn site(&self) -> PathBuf {
        self.target.join("site")
    }

    /// Installed helper tools (npm packages, the Playwright driver).
    pub fn tools(&self) -> PathBuf {
        self.root.join(".tools")
    }

    /// A `cargo` command run from the root.
    pub fn cargo(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(args).current_dir(&self.root);
        cmd
    }
}

/// Runs `cmd`, failing with its description if it does not succeed.
pub fn run_step(what: &str, mut cmd: impl std::borrow::BorrowMut<Command>) -> Result<()> {
    println!("==> {what}");
    let status = cmd
        .borrow_mut()
        .status()
        .with_context(|| format!("cannot start: {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Builds the release `tfpilot` (with `extra` cargo flags); its path.
pub fn build_release_server(ws: &Workspace, extra: &[&str]) -> Result<PathBuf> {
    let mut args = vec!["build", "--release"];
    args.extend_from_slice(extra);
    args.extend(["--package", "server", "--bin", "tfpilot"]);
    run_step("build the server (release)", ws.cargo(&args))?;
    Ok(ws.target.join("release").join("tfpilot"))
}

fn run() -> Result<()> {
    let ws = Workspace::locate()?;
    tools::ensure_wasm_target()?;
    let optimizer = tools::ensure_npm_tools(&ws, false).err();
    let report = wasm::build_site_with(&ws, optimizer.is_none())?;
    if let Some(e) = optimizer {
        println!("note: wasm-opt is unavailable ({e:#}); serving the unoptimised bundle");
    }
    println!("{report}");
    let bin = build_release_server(&ws, &[])?;
    let bind = std::env::var("TFPILOT_BIND").unwrap_or_else(|_| "127.0.0.1:3000".into());
    println!();
    println!("tfpilot is starting on http://{bind}");
    println!("  - open http://{bind}/ to browse the module catalogue; on a new data dir the");
    println!("    server prints a one-time link below to create the first admin");
    println!("  - for the API, create a user and a token (in another terminal):");
    println!("      {} users add alice --role requester", bin.display());
    println!("      {} tokens create --user alice", bin.display());
    println!("  - data is kept in ./data (TFPILOT_DATA_DIR); Ctrl-C stops the server");
    println!();
    let status = Command::new(&bin)
        .arg("serve")
        .current_dir(&ws.root)
        .env("TFPILOT_SITE_ROOT", ws.site())
        .status()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    if !status.success() {
        bail!("tfpilot exited with {status}");
    }
    Ok(())
}

/// The contract step alone: the debug binary against schemathesis.
fn contract_only() -> Result<()> {
    let ws = Workspace::locate()?;
    let summary = contract::run(&ws)?;
    println!("{summary}");
    Ok(())
}

fn bench() -> Result<()> {
    let ws = Workspace::locate()?;
    let moto = moto::start(&ws)?;
    run_step(
        "cargo bench (request index vs naive listing)",
        ws.cargo(&["bench", "--package", "server", "--bench", "index"])
            .env("TFPILOT_BENCH_S3_ENDPOINT", &moto.endpoint),
    )?;
    run_step(
        "cargo bench (create → PR opened on the local Git host)",
        ws.cargo(&["bench", "--package", "server", "--bench", "flow"]),
    )?;
    run_step(
        "cargo bench (dashboard SSR with 10,000 requests)",
        ws.cargo(&["bench", "--package", "server", "--bench", "dashboard"]),
    )?;
    run_step(
        "cargo bench (Slack @mention → first thread reply)",
        ws.cargo(&["bench", "--package", "server", "--bench", "slack"]),
    )?;
    run_step(
        "cargo bench (POST /api/v1/assistant/draft: rules, cache, model)",
        ws.cargo(&["bench", "--package", "server", "--bench", "assistant"]),
    )?;
    run_step(
        "cargo bench (HCP Terraform: plan dispatch → plan shown)",
        ws.cargo(&["bench", "--package", "server", "--bench", "tfc"])
            .env("TF_CLI_CONFIG_FILE", "/dev/null"),
    )?;
    let alertmanager = tools::ensure_alertmanager()?;
    run_step(
        "cargo bench (alerts: fired → job queued, receiver throughput)",
        ws.cargo(&["bench", "--package", "server", "--bench", "alerts"])
            .env("TFPILOT_TEST_ALERTMANAGER", &alertmanager),
    )?;
    run_step(
        "cargo bench (tfpilot keys rotate: 1,000 records)",
        ws.cargo(&["bench", "--package", "server", "--bench", "rotate"]),
    )
}

/// The load harness: the release binary against moto under 500 SSE
/// clients, 1,000 reads/s and 20 creates/s (`server/benches/load`).
fn load() -> Result<()> {
    let ws = Workspace::locate()?;
    let bin = build_release_server(&ws, &[])?;
    let artifacts = ws.target.join("e2e-artifacts");
    std::fs::create_dir_all(&artifacts)
        .with_context(|| format!("cannot create {}", artifacts.display()))?;
    let moto = moto::start(&ws)?;
    run_step(
        "cargo bench (load: 10,000 requests, 500 SSE clients, 1,000 reads/s, 20 creates/s)",
        ws.cargo(&["bench", "--package", "server", "--bench", "load"])
            .env("TFPILOT_BENCH_S3_ENDPOINT", &moto.endpoint)
            .env("TFPILOT_LOAD_BINARY", &bin)
            .env("TFPILOT_BENCH_REPORT", artifacts.join("load.txt")),
    )?;
    println!("load report: {}", artifacts.join("load.txt").display());
    Ok(())
}

fn test() -> Result<()> {
    let started = std::time::Instant::now();
    let ws = Workspace::locate()?;
    tools::ensure_wasm_target()?;
    tools::ensure_npm_tools(&ws, true)?;
    tools::ensure_chromium()?;
    tools::ensure_terraform()?;
    let alertmanager = tools::ensure_alertmanager()?;
    let promtool = tools::ensure_promtool()?;
    let test_python = tools::test_python()?;
    run_step(
        "cargo fmt --check",
        ws.cargo(&["fmt", "--all", "--", "--check"]),
    )?;
    tools::actionlint(&ws)?;
    deploy::check(&ws)?;
    run_step(
        "cargo clippy (server, app, tests)",
        ws.cargo(&["clippy", "--all-targets", "--", "-D", "warnings"]),
    )?;
    run_step(
        "cargo clippy (browser bundle, wasm32)",
        ws.cargo(&[
            "clippy",
            "--package",
            "frontend",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    let report = wasm::build_site(&ws)?;
    let moto = moto::start(&ws)?;
    // The replicas' timing test measures the store it runs on: a moto of
    // its own, not the one every other test loads at the same time.
    let quiet_moto = moto::start(&ws)?;
    run_step(
        "cargo test (unit, integration, browser)",
        ws.cargo(&["test", "--lib", "--bins", "--tests"])
            .env("TFPILOT_TEST_S3_ENDPOINT", &moto.endpoint)
            .env("TFPILOT_TEST_S3_QUIET_ENDPOINT", &quiet_moto.endpoint)
            .env("TFPILOT_TEST_PYTHON", &test_python)
            .env("TFPILOT_TEST_ALERTMANAGER", &alertmanager)
            .env("TFPILOT_TEST_PROMTOOL", &promtool)
            .env("TFPILOT_SITE_ROOT", ws.site())
            .env("TFPILOT_E2E_ARTIFACTS", ws.target.join("e2e-artifacts"))
            .env("TF_CLI_CONFIG_FILE", "/dev/null"),
    )?;
    let contract = contract::run(&ws)?;
    let bench_report = ws.target.join("e2e-artifacts/dashboard.txt");
    run_step(
        "cargo bench (dashboard SSR with 10,000 requests)",
        ws.cargo(&["bench", "--package", "server", "--bench", "dashboard"])
            .env("TFPILOT_BENCH_REPORT", &bench_report),
    )?;
    run_step(
        "cargo bench (Slack @mention → first thread reply)",
        ws.cargo(&["bench", "--package", "server", "--bench", "slack"])
            .env(
                "TFPILOT_BENCH_REPORT",
                ws.target.join("e2e-artifacts/slack.txt"),
            ),
    )?;
    run_step(
        "cargo bench (POST /api/v1/assistant/draft: rules, cache, model)",
        ws.cargo(&["bench", "--package", "server", "--bench", "assistant"])
            .env(
                "TFPILOT_BENCH_REPORT",
                ws.target.join("e2e-artifacts/assistant.txt"),
            ),
    )?;
    run_step(
        "cargo bench (HCP Terraform: plan dispatch → plan shown)",
        ws.cargo(&["bench", "--package", "server", "--bench", "tfc"])
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env(
                "TFPILOT_BENCH_REPORT",
                ws.target.join("e2e-artifacts/tfc.txt"),
            ),
    )?;
    run_step(
        "cargo bench (alerts: fired → job queued, receiver throughput)",
        ws.cargo(&["bench", "--package", "server", "--bench", "alerts"])
            .env("TFPILOT_TEST_ALERTMANAGER", &alertmanager)
            .env(
                "TFPILOT_BENCH_REPORT",
                ws.target.join("e2e-artifacts/alerts.txt"),
            ),
    )?;
    run_step(
        "cargo bench (tfpilot keys rotate: 1,000 records)",
        ws.cargo(&["bench", "--package", "server", "--bench", "rotate"])
            .env(
                "TFPILOT_BENCH_REPORT",
                ws.target.join("e2e-artifacts/rotate.txt"),
            ),
    )?;
    println!();
    println!("{report}");
    for measured in [
        "dashboard.txt",
        "slack.txt",
        "assistant.txt",
        "tfc.txt",
        "alerts.txt",
        "rotate.txt",
        "paint.txt",
    ] {
        if let Ok(line) = std::fs::read_to_string(ws.target.join("e2e-artifacts").join(measured)) {
            println!("{}", line.trim());
        }
    }
    println!(
        "browser screenshots: {}",
        ws.target.join("e2e-artifacts").display()
    );
    for matrix in ["matrix.txt", "matrix-projects.txt"] {
        if let Ok(line) = std::fs::read_to_string(ws.target.join("e2e-artifacts").join(matrix)) {
            println!("{}", line.trim());
        }
    }
    println!("{contract}");
    println!("xtask test: all steps passed in {:.0?}", started.elapsed());
    Ok(())
}
