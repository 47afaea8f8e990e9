//! The API contract run: schemathesis (PyPI, in its own venv) against a
//! live `tfpilot` on its embedded default, every check on, a fixed seed.
//! Any failure fails the test command; the summary line is kept.

use crate::{Workspace, run_step};
use anyhow::{Context, Result, bail};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SCHEMATHESIS: &str = "schemathesis==4.32.5";
const SEED: &str = "20261203";
const EXAMPLES: &str = "25";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tfpilot(ws: &Workspace, data: &std::path::Path) -> Command {
    let mut cmd = Command::new(ws.target.join("debug/tfpilot"));
    cmd.current_dir(&ws.root)
        .env("TFPILOT_DATA_DIR", data)
        .env("TFPILOT_SITE_ROOT", ws.site())
        .env("TFPILOT_LOG", "warn")
        .env("TF_CLI_CONFIG_FILE", "/dev/null");
    cmd
}

/// Runs the contract suite; returns schemathesis' summary line.
pub fn run(ws: &Workspace) -> Result<String> {
    let st = crate::tools::pip_tool("schemathesis-4.32.5-venv", SCHEMATHESIS, "st")?;
    run_step(
        "cargo build (the tfpilot binary)",
        ws.cargo(&["build", "--package", "server", "--bin", "tfpilot"]),
    )?;
    let artifacts = ws.target.join("e2e-artifacts");
    std::fs::create_dir_all(&artifacts)?;
    let data = artifacts.join("contract-data");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data)?;
    let added = tfpilot(ws, &data)
        .args(["users", "add", "contract", "--role", "admin"])
        .output()?;
    if !added.status.success() {
        bail!(
            "tfpilot users add: {}",
            String::from_utf8_lossy(&added.stderr)
        );
    }
    let created = tfpilot(ws, &data)
        .args([
            "tokens", "create", "--user", "contract", "--name", "contract",
        ])
        .output()?;
    let out = String::from_utf8_lossy(&created.stdout).into_owned();
    let token = out
        .split_whitespace()
        .find(|w| w.starts_with("tfp_"))
        .context("tfpilot tokens create printed no token")?
        .to_owned();
    let port = crate::moto::free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(artifacts.join("contract-server.log"))?;
    println!("==> tfpilot serve on {url} (contract run)");
    let _server = Server(
        tfpilot(ws, &data)
            .arg("serve")
            .env("TFPILOT_BIND", format!("127.0.0.1:{port}"))
            .env("TFPILOT_PUBLIC_URL", &url)
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start tfpilot")?,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("tfpilot did not listen on {port} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let report = artifacts.join("schemathesis.txt");
    println!(
        "==> schemathesis --checks all --seed {SEED} --max-examples {EXAMPLES} ({url}/api/v1/openapi.json)"
    );
    let output = Command::new(&st)
        // Its cache (`.schemathesis/`) goes with the artifacts, not the checkout.
        .current_dir(&artifacts)
        .arg("--config-file")
        .arg(ws.root.join("xtask/schemathesis/schemathesis.toml"))
        .args(["run", &format!("{url}/api/v1/openapi.json"), "--url", &url])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "all",
            "--seed",
            SEED,
            "--max-examples",
            EXAMPLES,
        ])
        .arg("--no-color")
        .stdin(Stdio::null())
        .output()
        .context("cannot run schemathesis")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    std::fs::write(&report, &text)?;
    let summary = text
        .lines()
        .rev()
        .find(|l| l.contains(" in ") && l.starts_with('='))
        .map(|l| l.trim_matches(|c| c == '=' || c == ' ').to_owned())
        .unwrap_or_else(|| "no summary".into());
    let cases = text
        .lines()
        .skip_while(|l| l.trim() != "Test cases:")
        .nth(1)
        .map(str::trim)
        .unwrap_or("no test cases");
    let summary = format!("{cases}; {summary}");
    if !output.status.success() {
        println!("{text}");
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        bail!(
            "schemathesis found failures: {summary} (report: {})",
            report.display()
        );
    }
    Ok(format!("schemathesis: {summary}"))
}
