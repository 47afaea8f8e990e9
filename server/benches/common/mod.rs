//! What the benches share: percentiles, and the real server started on a
//! data dir with the embedded defaults (terraform pointed at a missing
//! binary, so plans fail at once instead of competing for the CPU).

#![allow(dead_code)] // each bench uses its own part

use app::domain::ids::{EnvName, ModuleType, ProjectKey, RequestId};
use app::domain::request::{PrState, PullRequest, Request};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Stored request number `i` (ids sort by `i`): `resource-<i>` by one of 50
/// users, with no PR yet.
pub fn request(i: u64, project: &str, env: &str, module: &str) -> Request {
    Request {
        id: RequestId::generate(1_700_000_000_000 + i * 1000, (i * 7919) as u32),
        version: 1,
        project: ProjectKey::parse(project).unwrap(),
        environment: EnvName::parse(env).unwrap(),
        module: ModuleType::parse(module).unwrap(),
        kind: Default::default(),
        revision: 1,
        config: serde_json::json!({"name": format!("resource-{i}")})
            .as_object()
            .unwrap()
            .clone(),
        created_by: format!("user{}", i % 50),
        authors: Vec::new(),
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
        pr: None,
        runs: Default::default(),
        approval: None,
        cleanup_pr: None,
        confirmation: None,
        events: vec![],
        origin: None,
        drift: None,
    }
}

/// The PR of request `doc` (number `i`), open or merged.
pub fn pull_request(i: u64, doc: &Request, merged: bool) -> PullRequest {
    PullRequest {
        number: i,
        url: format!("http://git.local/pr/{i}"),
        branch: format!("request/{}", doc.id),
        head_sha: format!("{i:040x}"),
        base_sha: None,
        main_sha: None,
        merged_sha: merged.then(|| format!("{:040x}", i + 1)),
        state: if merged {
            PrState::Merged
        } else {
            PrState::Open
        },
    }
}

/// The `p` quantile (0.0–1.0) of `samples`.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

/// Adds the requester `bench` to the store under `data`; a bearer token
/// for them.
pub async fn requester_token(data: &Path) -> String {
    let store =
        std::sync::Arc::new(server::store::fs::FsStore::open(data.join("store/requests")).unwrap());
    server::auth::Users::new(store.clone())
        .add("bench", app::domain::policy::Role::Requester, None)
        .await
        .unwrap();
    let (_, token) = server::auth::Tokens::new(store)
        .create("bench", "bench")
        .await
        .unwrap();
    token
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

/// Signs `login` in with `password` at `base`; the session cookie
/// (`tfpilot_session=…`) to send with page requests.
pub async fn session_cookie(
    http: &reqwest::Client,
    base: &str,
    login: &str,
    password: &str,
) -> String {
    let res = http
        .post(format!("{base}/auth/login"))
        .json(&serde_json::json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap();
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tfpilot_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned()
}
