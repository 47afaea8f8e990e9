//! HCP Terraform with the infra repo on GitHub: the executor reads the
//! commit through the GitHub host's tarball and uploads it.

use crate::exec::cases::{request, spec};
use crate::exec::{commit_block, sandbox};
use crate::git::host_on;
use crate::support::github::Fake as GitHub;
use crate::support::tfc::{Fake, TOKEN};
use app::domain::ids::EnvName;
use app::domain::request::{Conclusion, RunStatus};
use server::config::SecretString;
use server::exec::tfc::{TfcExecutor, TfcSettings, Workspace};
use server::exec::{Executor as _, RunKind};
use server::git::GitHost as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tfc_plans_a_commit_of_a_github_repo() {
    let github = GitHub::start().await;
    github.create_repo("acme/infra").await;
    let host = Arc::new(host_on(&github));
    host.ensure_repo(&sandbox()).await.unwrap();
    let tfc = Fake::start().await;
    tfc.add_workspace("acme", "sandbox-dev", "envs/dev");
    let exec = TfcExecutor::new(
        &TfcSettings {
            url: tfc.url(),
            token: SecretString::new(TOKEN.into()),
        },
        host.clone(),
        [(
            (sandbox(), EnvName::parse("dev").unwrap()),
            Workspace {
                organization: "acme".into(),
                name: "sandbox-dev".into(),
            },
        )],
        None,
    )
    .unwrap()
    .with_poll(Duration::from_millis(20), Duration::from_millis(200));

    let r = request(70);
    let tip = commit_block(host.as_ref(), &r, true).await;
    let plan = spec(RunKind::Plan, &r, &tip, 1);
    exec.dispatch(&plan).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let info = loop {
        let info = exec.status(&plan).await.unwrap();
        if info.status == RunStatus::Completed {
            break info;
        }
        assert!(Instant::now() < deadline, "the plan never completed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(info.conclusion, Some(Conclusion::Success), "{info:?}");
    assert_eq!(info.summary.map(|s| s.add), Some(1), "{info:?}");
    let run = tfc.runs().pop().unwrap();
    let bytes = tfc.archive_of(&run);
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let paths: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(
        paths.contains(&format!("envs/dev/contract.{r}.tf")),
        "the commit's block, from GitHub's tarball: {paths:?}"
    );
    assert!(paths.iter().any(|p| p.starts_with("modules/")), "{paths:?}");
}
