//! The `GitHost` contract, run against every adapter: the local one, and
//! the GitHub one talking to the stateful fake (with faults injected).

mod cases;
pub mod github;

use crate::support::github::{Fake, TOKEN};
use crate::support::root;
use app::domain::ids::ProjectKey;
use server::git::GitHost;
use server::git::github::GitHubHost;
use server::git::local::LocalGit;
use server::github::{GitHubAuth, GitHubClient, GitHubSettings};
use server::store::fs::FsStore;
use std::sync::Arc;
use std::time::Duration;

/// Whatever must live as long as the host (a temp dir, a fake).
pub type Keep = Box<dyn std::any::Any + Send>;

/// A local host and the directory it lives in.
pub async fn local() -> (Arc<dyn GitHost>, Keep) {
    let dir = tempfile::tempdir().unwrap();
    let prs = Arc::new(FsStore::open(dir.path().join("store")).unwrap());
    let git = LocalGit::new(
        dir.path().join("git"),
        root().join("infra-workflows/template"),
        Some(root().join("infra-workflows/sandbox")),
        prs,
    );
    (Arc::new(git), Box::new(dir))
}

/// A client of the fake.
pub fn client(fake: &Fake, max_wait: Duration) -> GitHubClient {
    GitHubClient::new(&GitHubSettings {
        api_url: fake.api_url(),
        auth: GitHubAuth::Token(server::config::SecretString::new(TOKEN.into())),
        max_wait,
    })
    .unwrap()
}

/// A host on `fake` whose `acme/infra` backs project `sandbox`.
pub fn host_on(fake: &Fake) -> GitHubHost {
    GitHubHost::new(
        client(fake, Duration::from_secs(5)),
        [(
            ProjectKey::parse("sandbox").unwrap(),
            "acme/infra".to_owned(),
        )],
    )
    .unwrap()
}

/// A GitHub host on a fresh fake.
pub async fn github() -> (Arc<dyn GitHost>, Keep) {
    let fake = Fake::start().await;
    fake.create_repo("acme/infra").await;
    (Arc::new(host_on(&fake)), Box::new(fake))
}

macro_rules! git_contract {
    ($adapter:ident, $make:path) => {
        mod $adapter {
            git_contract!(@cases $make;
                the_repo_is_seeded_from_the_template_with_the_sandbox_overlay,
                commits_never_clobber_a_concurrent_commit,
                pull_requests_are_found_before_they_are_opened_and_merge_for_real,
                a_conflicting_branch_is_brought_up_to_date_with_a_merge_commit,
                ancestry_says_which_commit_contains_which
            );
        }
    };
    (@cases $make:path; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (git, _keep) = $make().await;
                super::cases::$case(git).await;
            }
        )*
    };
}

git_contract!(local_host, super::local);
git_contract!(github_host, super::github);
