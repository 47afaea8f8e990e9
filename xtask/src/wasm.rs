//! The browser bundle: `frontend` → wasm32 → wasm-bindgen (as a library) →
//! wasm-opt → `<target>/site/pkg`, with gzip copies served as-is (made with
//! zopfli: ordinary gzip that any browser inflates, about 5% smaller than
//! `gzip -9`).

use crate::{Workspace, run_step, tools};
use anyhow::{Context, Result};
use std::path::Path;
use std::process::Command;

/// What was built, for the closing report.
pub struct SiteReport {
    wasm_raw: u64,
    wasm_gzip: u64,
    optimised: bool,
}

impl std::fmt::Display for SiteReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "wasm bundle: {:.1} KB raw, {:.1} KB gzipped ({})",
            self.wasm_raw as f64 / 1024.0,
            self.wasm_gzip as f64 / 1024.0,
            if self.optimised {
                "wasm-opt -Oz"
            } else {
                "not optimised"
            }
        )
    }
}

/// Builds the site, optimising when wasm-opt is installed.
pub fn build_site(ws: &Workspace) -> Result<SiteReport> {
    build_site_with(ws, tools::wasm_opt(ws).is_some())
}

/// Builds the site; `optimise` runs wasm-opt -Oz.
pub fn build_site_with(ws: &Workspace, optimise: bool) -> Result<SiteReport> {
    run_step(
        "build the browser bundle (wasm32, wasm-release)",
        ws.cargo(&[
            "build",
            "--package",
            "frontend",
            "--lib",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm-release",
        ]),
    )?;
    let input = ws
        .target
        .join("wasm32-unknown-unknown/wasm-release/frontend.wasm");
    let pkg = ws.site().join("pkg");
    std::fs::create_dir_all(&pkg).with_context(|| format!("cannot create {}", pkg.display()))?;
    println!("==> wasm-bindgen → {}", pkg.display());
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .web(true)?
        .out_name("tfpilot")
        .typescript(false)
        .generate(&pkg)
        .context("wasm-bindgen failed")?;
    let wasm = pkg.join("tfpilot_bg.wasm");
    let optimised = optimise && optimise_wasm(ws, &wasm)?;
    for (from, to) in [("main.css", "tfpilot.css"), ("favicon.svg", "favicon.svg")] {
        let from = ws.root.join("style").join(from);
        std::fs::copy(&from, pkg.join(to))
            .with_context(|| format!("cannot copy {}", from.display()))?;
    }
    for name in [
        "tfpilot_bg.wasm",
        "tfpilot.js",
        "tfpilot.css",
        "favicon.svg",
    ] {
        gzip(&pkg.join(name))?;
    }
    Ok(SiteReport {
        wasm_raw: std::fs::metadata(&wasm)?.len(),
        wasm_gzip: std::fs::metadata(pkg.join("tfpilot_bg.wasm.gz"))?.len(),
        optimised,
    })
}

fn optimise_wasm(ws: &Workspace, wasm: &Path) -> Result<bool> {
    let Some(bin) = tools::wasm_opt(ws) else {
        return Ok(false);
    };
    let out = wasm.with_extension("opt.wasm");
    run_step(
        "wasm-opt -Oz",
        Command::new(bin)
            .arg(wasm)
            .args([
                "-Oz",
                "--enable-bulk-memory",
                "--enable-nontrapping-float-to-int",
            ])
            .args([
                "--enable-sign-ext",
                "--enable-mutable-globals",
                "--enable-reference-types",
            ])
            .args(["--enable-multivalue", "-o"])
            .arg(&out),
    )?;
    std::fs::rename(&out, wasm)?;
    Ok(true)
}

fn gzip(path: &Path) -> Result<()> {
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::with_capacity(data.len() / 2);
    zopfli::compress(
        zopfli::Options::default(),
        zopfli::Format::Gzip,
        &data[..],
        &mut out,
    )
    .with_context(|| format!("cannot compress {}", path.display()))?;
    let mut gz = path.as_os_str().to_owned();
    gz.push(".gz");
    std::fs::write(&gz, out)?;
    Ok(())
}
