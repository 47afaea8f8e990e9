//! Bench: time from a plan's dispatch to HCP Terraform until the request
//! page shows that plan, against the fake HCP Terraform API on loopback
//! (real terraform on each uploaded archive, as in the tests).
//!
//! tfpilot runs in-process with one project on `executor = "tfc"`. Each
//! request is filed through the API; the clock starts at the plan
//! attempt's `dispatched_at` and stops when `GET /requests/<id>` (the
//! page) first shows the plan's counts. The JSON:API calls per plan are
//! counted too. Run with `cargo bench -p server --bench tfc`
//! (`TFPILOT_BENCH_REQUESTS` sets how many, default 10).

mod common;
#[allow(dead_code)]
#[path = "../tests/it/support/tfc/mod.rs"]
mod fake;

use common::percentile;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

const CONFIG: &str = r#"
[projects.payments]
title = "Payments"
environments = ["dev"]
executor = "tfc"

[projects.payments.tfc]
organization = "acme"
workspaces = { dev = "payments-dev" }
"#;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("TFPILOT_BENCH_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let tfc = fake::Fake::start().await;
    tfc.add_workspace("acme", "payments-dev", "envs/dev");
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("tfpilot.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let token = common::requester_token(data.path()).await;
    let password = "bench passphrase 2026";
    let store = std::sync::Arc::new(
        server::store::fs::FsStore::open(data.path().join("store/requests")).unwrap(),
    );
    server::auth::Users::new(store)
        .add("viewer", app::domain::policy::Role::Viewer, Some(password))
        .await
        .unwrap();
    let base = common::serve(
        data.path(),
        &[
            ("TFPILOT_CONFIG", config.clone()),
            ("TFPILOT_TFC_URL", PathBuf::from(tfc.url())),
            ("TFPILOT_TFC_TOKEN", PathBuf::from(fake::TOKEN)),
            ("TFPILOT_RECONCILE_SECS", PathBuf::from("3600")),
        ],
    )
    .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = common::session_cookie(&http, &base, "viewer", password).await;
    let mut shown = Vec::with_capacity(n);
    let mut calls = Vec::with_capacity(n);
    for i in 0..n {
        tfc.take_calls();
        let body = json!({"project": "payments", "environment": "dev", "module": "s3-bucket",
            "config": {"name": format!("bench-tfc-{i}")}});
        let res = http
            .post(format!("{base}/api/v1/requests"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            201,
            "{}",
            res.text().await.unwrap_or_default()
        );
        let created: Value = res.json().await.unwrap();
        let id = created["request"]["id"].as_str().unwrap().to_owned();
        let deadline = Instant::now() + Duration::from_secs(120);
        let seen = loop {
            let page = http
                .get(format!("{base}/requests/{id}"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if page.contains("data-testid=\"plan-counts\"") {
                break SystemTime::now();
            }
            assert!(
                Instant::now() < deadline,
                "request {id} never showed its plan"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        let doc: Value = http
            .get(format!("{base}/api/v1/requests/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let attempt = &doc["request"]["runs"]["plan"]["attempts"][0];
        let dispatched =
            humantime::parse_rfc3339(attempt["dispatched_at"].as_str().unwrap()).unwrap();
        shown.push(seen.duration_since(dispatched).unwrap_or_default());
        calls.push(
            tfc.take_calls()
                .iter()
                .filter(|c| !c.contains("_archivist"))
                .count(),
        );
    }
    let (p50, p90) = (percentile(&mut shown, 0.5), percentile(&mut shown, 0.9));
    calls.sort();
    let summary = format!(
        "HCP Terraform (fake, loopback, real terraform) plan dispatch → plan shown on the request page, \
         {n} requests: p50 {:.0} ms, p90 {:.0} ms; JSON:API calls per plan (polls included) median {}",
        ms(p50),
        ms(p90),
        calls[calls.len() / 2]
    );
    println!("{summary}");
    if let Some(path) = std::env::var_os("TFPILOT_BENCH_REPORT") {
        std::fs::write(path, format!("{summary}\n")).unwrap();
    }
}
