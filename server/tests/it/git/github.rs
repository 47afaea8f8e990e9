//! What only the GitHub adapters do: retries on 5xx, waiting out primary
//! and secondary rate limits, refusing bad credentials, and the Actions
//! executor (dispatch found again by run-name, artifacts downloaded
//! without credentials).

use super::{client, host_on};
use crate::metrics::series;
use crate::support::github::Fake;
use app::domain::ids::{EnvName, ProjectKey, RequestId};
use app::domain::request::{Conclusion, RunStatus};
use server::exec::actions::ActionsExecutor;
use server::exec::{Executor, RunKind, RunSpec};
use server::git::local::MAIN;
use server::git::{FileChange, GitError, GitHost};
use server::github::{GitHubAuth, GitHubClient, GitHubSettings};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn sandbox() -> ProjectKey {
    ProjectKey::parse("sandbox").unwrap()
}

async fn fake() -> Fake {
    let fake = Fake::start().await;
    fake.create_repo("acme/infra").await;
    fake
}

#[tokio::test]
async fn server_errors_are_retried_and_rate_limits_waited_out() {
    let fake = fake().await;
    let host = host_on(&fake);
    let counted = |outcome: &str| {
        series(&format!(
            r#"tfpilot_upstream_calls_total{{service="github",outcome="{outcome}"}}"#
        ))
    };
    let waits = r#"tfpilot_rate_limit_waits_total{service="github"}"#;
    let (errors, limited, waited) = (counted("error"), counted("rate_limited"), series(waits));
    fake.fail_next(502, &[], "/git/ref/heads/main");
    fake.fail_next(503, &[], "/git/ref/heads/main");
    let main = host.branch_head(&sandbox(), MAIN).await.unwrap();
    assert!(main.is_some(), "two 5xx, then the answer");
    assert!(
        counted("error") >= errors + 2.0,
        "each 5xx is a GitHub error"
    );

    fake.fail_next(429, &[("retry-after", "1")], "/git/ref/heads/main");
    let started = Instant::now();
    assert_eq!(host.branch_head(&sandbox(), MAIN).await.unwrap(), main);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the secondary limit's retry-after was honoured"
    );

    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    fake.fail_next(
        403,
        &[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &reset.to_string()),
        ],
        "/git/ref/heads/main",
    );
    assert_eq!(host.branch_head(&sandbox(), MAIN).await.unwrap(), main);
    // Both limits, the secondary (429) and the primary (403), are counted
    // as rate-limited calls and waits.
    assert!(counted("rate_limited") >= limited + 2.0);
    assert!(series(waits) >= waited + 2.0);

    // A limit longer than the configured wait is reported, not slept through.
    fake.fail_next(429, &[("retry-after", "3600")], "/git/ref/heads/main");
    let err = host.branch_head(&sandbox(), MAIN).await.unwrap_err();
    assert!(
        matches!(&err, GitError::Unavailable(m) if m.contains("rate limit")),
        "{err:?}"
    );

    // A commit whose ref update hits a 500 is retried and lands once.
    let head = main.unwrap();
    fake.fail_next(500, &[], "/git/refs/heads/main");
    let sha = host
        .commit(
            &sandbox(),
            MAIN,
            &head,
            &[FileChange {
                path: "envs/dev/x.tf".into(),
                content: Some("# x\n".into()),
            }],
            "x",
        )
        .await
        .unwrap();
    assert_eq!(fake.repo("acme/infra").count(&head, &sha).await, 1);
}

#[tokio::test]
async fn bad_credentials_are_named() {
    let fake = fake().await;
    let bad = GitHubClient::new(&GitHubSettings {
        api_url: fake.api_url(),
        auth: GitHubAuth::Token(server::config::SecretString::new("ghp_wrong".into())),
        max_wait: Duration::from_secs(1),
    })
    .unwrap();
    let host =
        server::git::github::GitHubHost::new(bad, [(sandbox(), "acme/infra".to_owned())]).unwrap();
    let err = host.ensure_repo(&sandbox()).await.unwrap_err();
    assert!(
        matches!(&err, GitError::Unavailable(m) if m.contains("credentials")),
        "{err:?}"
    );
    let missing = host_on(&fake);
    let other = server::git::github::GitHubHost::new(
        client(&fake, Duration::from_secs(1)),
        [(sandbox(), "acme/nope".to_owned())],
    )
    .unwrap();
    assert!(matches!(
        other.ensure_repo(&sandbox()).await,
        Err(GitError::NotFound(m)) if m.contains("acme/nope")
    ));
    assert!(missing.ensure_repo(&sandbox()).await.is_ok());
}

/// An RSA key pair as GitHub hands them out: (private PKCS#1 PEM, public PEM).
pub fn app_key(dir: &std::path::Path) -> (String, String) {
    let private = dir.join("app.pem");
    let ok = std::process::Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&private)
        .arg("2048")
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "openssl genrsa");
    let public = std::process::Command::new("openssl")
        .args(["rsa", "-pubout", "-in"])
        .arg(&private)
        .output()
        .unwrap();
    assert!(public.status.success());
    (
        std::fs::read_to_string(&private).unwrap(),
        String::from_utf8(public.stdout).unwrap(),
    )
}

#[tokio::test]
async fn a_github_app_authenticates_with_installation_tokens() {
    let fake = fake().await;
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = app_key(dir.path());
    fake.enable_app(77, 99, public);
    let app = |app_id, installation_id| {
        let client = GitHubClient::new(&GitHubSettings {
            api_url: fake.api_url(),
            auth: GitHubAuth::App {
                app_id,
                installation_id,
                private_key: server::config::SecretString::new(private.clone()),
            },
            max_wait: Duration::from_secs(1),
        })
        .unwrap();
        server::git::github::GitHubHost::new(client, [(sandbox(), "acme/infra".to_owned())])
            .unwrap()
    };
    let host = app(77, 99);
    host.ensure_repo(&sandbox()).await.unwrap();
    host.branch_head(&sandbox(), MAIN).await.unwrap().unwrap();
    assert_eq!(fake.minted(), 1, "one installation token, reused");
    let wrong = app(78, 99).ensure_repo(&sandbox()).await.unwrap_err();
    assert!(
        matches!(&wrong, GitError::Unavailable(_)),
        "another app's JWT is refused: {wrong:?}"
    );
}

fn spec(kind: RunKind, sha: &str, attempt: u32) -> RunSpec {
    RunSpec {
        project: sandbox(),
        environment: EnvName::parse("dev").unwrap(),
        request: RequestId::generate(1_700_000_000_000, 42),
        kind,
        sha: sha.into(),
        attempt,
        scope: None,
    }
}

async fn completed(exec: &ActionsExecutor, spec: &RunSpec) -> server::exec::RunInfo {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let info = exec.status(spec).await.unwrap();
        if info.status == RunStatus::Completed {
            return info;
        }
        assert!(Instant::now() < deadline, "run never completed: {info:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_runs_are_dispatched_once_found_by_run_name_and_read_from_artifacts() {
    let fake = fake().await;
    let host = host_on(&fake);
    let exec = ActionsExecutor::new(
        client(&fake, Duration::from_secs(5)),
        [(sandbox(), "acme/infra".to_owned())],
        Duration::from_millis(50),
    );
    let main = host.ensure_repo(&sandbox()).await.unwrap();
    let block = "module \"s3-bucket_x\" {\n  source = \"../../modules/s3-bucket\"\n  name = \"artifact-bucket\"\n  versioning = true\n  force_destroy = false\n  tags = {}\n}\n";
    let branch = host
        .ensure_branch(&sandbox(), "request/x", MAIN)
        .await
        .unwrap();
    assert_eq!(branch, main);
    let head = host
        .commit(
            &sandbox(),
            "request/x",
            &main,
            &[FileChange {
                path: "envs/dev/tfpilot.s3.tf".into(),
                content: Some(block.into()),
            }],
            "block",
        )
        .await
        .unwrap();

    let plan = spec(RunKind::Plan, &head, 1);
    assert!(matches!(
        exec.status(&plan).await,
        Err(server::exec::ExecError::NotFound(_))
    ));
    let first = exec.dispatch(&plan).await.unwrap();
    let again = exec.dispatch(&plan).await.unwrap();
    assert_eq!(
        first.url, again.url,
        "found by run-name, not dispatched twice"
    );
    let runs = fake.runs("acme/infra");
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0].display_title,
        format!("tfpilot plan {} attempt 1", plan.request),
        "the run-name of the real workflow file"
    );

    let done = completed(&exec, &plan).await;
    assert_eq!(done.conclusion, Some(Conclusion::Success), "{done:?}");
    assert_eq!(done.summary.map(|s| s.add), Some(1));
    let output = exec.plan_output(&plan).await.unwrap();
    assert_eq!(output.summary.add, 1);
    assert!(output.changes[0].address.contains("module.s3-bucket_x"));
    assert!(output.log.contains("Plan: 1 to add"), "{}", output.log);

    // A second attempt is a second run; the first is untouched.
    let second = spec(RunKind::Plan, &head, 2);
    exec.dispatch(&second).await.unwrap();
    assert_eq!(fake.runs("acme/infra").len(), 2);
    assert_eq!(
        completed(&exec, &second).await.conclusion,
        Some(Conclusion::Success)
    );

    // A failing dispatch (bad inputs) is an error, not a silent queue.
    let unknown = RunSpec {
        project: ProjectKey::parse("other").unwrap(),
        ..spec(RunKind::Apply, &head, 1)
    };
    assert!(exec.dispatch(&unknown).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_is_exported_from_its_tarball() {
    use server::git::TreeExport;
    let fake = fake().await;
    let host = host_on(&fake);
    let main = host.ensure_repo(&sandbox()).await.unwrap();
    let change = FileChange {
        path: "envs/dev/tfpilot.s3.tf".into(),
        content: Some("# exported\n".into()),
    };
    let sha = host
        .commit(&sandbox(), MAIN, &main, &[change], "a block")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    host.export(&sandbox(), &sha, dir.path()).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("envs/dev/tfpilot.s3.tf")).unwrap(),
        "# exported\n",
        "the file is at its repo path, without the tarball's top directory"
    );
    assert!(
        dir.path().join("modules").is_dir(),
        "the template's modules came along"
    );
    let older = tempfile::tempdir().unwrap();
    host.export(&sandbox(), &main, older.path()).await.unwrap();
    assert!(!older.path().join("envs/dev/tfpilot.s3.tf").exists());
    let err = host
        .export(
            &sandbox(),
            "0123456789abcdef0123456789abcdef01234567",
            older.path(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, GitError::NotFound(_)), "{err:?}");
}
