//! Installs what builds and tests need, from the package registries only.

use crate::{Workspace, run_step};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const PLAYWRIGHT_CORE: &str = "1.64.0";
const BINARYEN: &str = "132.0.0";

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

/// Installs binaryen (wasm-opt) and playwright-core from npm into `.tools`,
/// and, for tests, the driver layout playwright-rs expects (`node` + `package`).
pub fn ensure_npm_tools(ws: &Workspace, for_tests: bool) -> Result<()> {
    let tools = ws.tools();
    std::fs::create_dir_all(&tools)?;
    let modules = tools.join("node_modules");
    let fresh = installed_version(&modules.join("playwright-core/package.json")).as_deref()
        == Some(PLAYWRIGHT_CORE)
        && installed_version(&modules.join("binaryen/package.json")).as_deref() == Some(BINARYEN);
    if !fresh {
        let manifest = format!(
            "{{\n  \"private\": true,\n  \"dependencies\": {{\n    \"binaryen\": \"{BINARYEN}\",\n    \"playwright-core\": \"{PLAYWRIGHT_CORE}\"\n  }}\n}}\n"
        );
        std::fs::write(tools.join("package.json"), manifest)?;
        run_step(
            &format!("npm install binaryen@{BINARYEN} playwright-core@{PLAYWRIGHT_CORE}"),
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
