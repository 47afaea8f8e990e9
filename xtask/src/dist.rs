//! `cargo xtask dist <dir>`: what the container image ships, built in
//! release — the `tfpilot` binary and the site (`site/pkg`, wasm-opt
//! required) — copied into `<dir>`.

use crate::{Workspace, tools, wasm};
use anyhow::{Context, Result, bail};
use std::path::Path;

/// Builds the optimised site and the release server, then copies both
/// into `out` (`out/tfpilot`, `out/site/pkg/…`).
pub fn dist(ws: &Workspace, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    tools::ensure_wasm_target()?;
    tools::ensure_npm_tools(ws, false)?;
    if tools::wasm_opt(ws).is_none() {
        bail!("wasm-opt is missing after the npm install: the image ships an optimised bundle");
    }
    let report = wasm::build_site_with(ws, true)?;
    let bin = crate::build_release_server(ws, &["--locked"])?;
    let site = out.join("site");
    if site.exists() {
        std::fs::remove_dir_all(&site)
            .with_context(|| format!("cannot empty {}", site.display()))?;
    }
    copy_dir(&ws.site(), &site)?;
    std::fs::copy(&bin, out.join("tfpilot"))
        .with_context(|| format!("cannot copy {} into {}", bin.display(), out.display()))?;
    println!("{report}");
    println!("dist: {} (tfpilot, site/)", out.display());
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}
