//! What the benches share: percentiles, and the real server started on a
//! data dir with the embedded defaults (terraform pointed at a missing
//! binary, so plans fail at once instead of competing for the CPU).

#![allow(dead_code)] // each bench uses its own part

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `p` quantile (0.0–1.0) of `samples`.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

/// Starts tfpilot on `data` with `extra` settings; its base URL.
pub async fn serve(data: &Path, extra: &[(&str, PathBuf)]) -> String {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut vars = vec![
        ("TFPILOT_DATA_DIR", data.to_path_buf()),
        ("TFPILOT_REGISTRY", root.join("modules-registry.toml")),
        ("TFPILOT_WORKFLOWS_DIR", root.join("infra-workflows")),
        ("TFPILOT_SITE_ROOT", data.join("site")),
        ("TFPILOT_TERRAFORM", data.join("no-terraform")),
    ];
    vars.extend(extra.iter().cloned());
    let config = server::config::Config::load(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string_lossy().into_owned())
    })
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = server::start(config, listener, std::future::pending())
        .await
        .unwrap();
    format!("http://{}", running.addr)
}
