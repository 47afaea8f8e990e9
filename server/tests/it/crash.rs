//! Crash tests: the real `tfpilot` binary is aborted at every step boundary
//! of create, apply and destroy (`TFPILOT_CRASH_AT`: right after a step took
//! effect, before it was recorded), restarted on the same data directory,
//! and the reconciler finishes the job. At the end the request is
//! destroyed and nothing exists twice: one branch, one commit and one PR
//! per step, one run per attempt.

use crate::flow::HAND_WRITTEN;
use crate::support::binary::Binary as Server;
use crate::support::root;
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::store::fs::FsStore;
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The binary on `data`, aborting at `crash_at` if given.
async fn start(data: &Path, crash_at: Option<&str>) -> Server {
    Server::start(data, &[("TFPILOT_CRASH_AT", crash_at.unwrap_or(""))]).await
}

impl Server {
    /// Waits for the process to abort at `point`.
    fn crashed_at(mut self, point: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                use std::io::Read as _;
                let _ = self
                    .child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr);
                assert_eq!(status.signal(), Some(6), "aborted at {point}: {stderr}");
                assert!(
                    stderr.contains(&format!("crash point {point} reached")),
                    "{stderr}"
                );
                return;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("never reached crash point {point}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

async fn token(store: &Arc<FsStore>, login: &str, role: Role) -> String {
    server::auth::Users::new(store.clone())
        .add(login, role, None)
        .await
        .unwrap();
    server::auth::Tokens::new(store.clone())
        .create(login, "crash test")
        .await
        .unwrap()
        .1
}

/// Commits one file onto main by hand (while no server runs); the new tip.
async fn commit_on_main(data: &Path, store: &Arc<FsStore>, path: &str, content: &str) -> String {
    use server::git::GitHost as _;
    let git_host = server::git::local::LocalGit::new(
        data.join("git"),
        root().join("infra-workflows/template"),
        Some(root().join("infra-workflows/sandbox")),
        store.clone(),
    );
    let project = app::domain::ids::ProjectKey::parse("sandbox").unwrap();
    let main = git_host.ensure_repo(&project).await.unwrap();
    let change = server::git::FileChange {
        path: path.into(),
        content: Some(content.into()),
    };
    git_host
        .commit(&project, "main", &main, &[change], "by hand")
        .await
        .unwrap()
}

fn git(data: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(data.join("git/sandbox.git"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_step_is_finished_by_the_reconciler_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let store = Arc::new(FsStore::open(data.join("store/requests")).unwrap());
    let alice = token(&store, "alice", Role::Requester).await;
    let bob = token(&store, "bob", Role::Approver).await;

    // Create: crash after the branch, after the commit, after the PR,
    // after the plan's dispatch and after the plan finished.
    let server = start(data, Some("request.branch")).await;
    let main = {
        // A hand-written file shares the block's file.
        commit_on_main(data, &store, "envs/dev/tfpilot.s3.tf", HAND_WRITTEN).await
    };
    let created: Value = server
        .client
        .post(format!("{}/api/v1/requests", server.url))
        .bearer_auth(&alice)
        .json(&json!({"project": "sandbox", "environment": "dev", "module": "s3-bucket", "config": {"name": "crash-bucket"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["request"]["id"].as_str().unwrap().to_owned();
    server.crashed_at("request.branch");
    let mut points = vec![];
    for (next, point) in [
        ("request.commit", "request.branch"),
        ("request.pr", "request.commit"),
        ("run.plan.dispatched", "request.pr"),
        ("run.plan.finished", "run.plan.dispatched"),
    ] {
        points.push(point);
        start(data, Some(next)).await.crashed_at(next);
    }
    points.push("run.plan.finished");

    // Approve, then crash right after the merge.
    let server = start(data, Some("merge.merged")).await;
    server.wait_for(&alice, &id, "plan_ready").await;
    assert_eq!(server.act(&bob, &id, "approve").await, Some(202));
    server.act(&bob, &id, "merge").await;
    server.crashed_at("merge.merged");
    points.push("merge.merged");

    // The reconciler sees the merged PR; apply crashes after its dispatch
    // and after it finished.
    let server = start(data, Some("run.apply.dispatched")).await;
    server.wait_for(&bob, &id, "merged").await;
    // The step driver may dispatch (and die) before the answer is sent.
    let answered = server.act(&bob, &id, "apply").await;
    assert!(matches!(answered, Some(202) | None), "{answered:?}");
    server.crashed_at("run.apply.dispatched");
    points.push("run.apply.dispatched");
    // Between the saved plan and its apply: the restart runs it again
    // through the same checked path, on the tip of main.
    start(data, Some("run.apply.planned"))
        .await
        .crashed_at("run.apply.planned");
    points.push("run.apply.planned");
    // Main moves while the server is down: the run started again plans
    // and applies the new tip, not the tip its first try saw.
    let moved = commit_on_main(data, &store, "envs/dev/moved.tf", "# moved by hand\n").await;
    start(data, Some("run.apply.finished"))
        .await
        .crashed_at("run.apply.finished");
    points.push("run.apply.finished");

    // Destroy: crashes inside the action are repaired by repeating it,
    // which finds the branch, commit and PR already made.
    for point in ["cleanup.branch", "cleanup.commit", "cleanup.pr"] {
        let server = start(data, Some(point)).await;
        server.wait_for(&alice, &id, "applied").await;
        server.act(&alice, &id, "destroy").await;
        server.crashed_at(point);
        points.push(point);
    }
    let server = start(data, Some("cleanup.merged")).await;
    server.act(&alice, &id, "destroy").await;
    server.crashed_at("cleanup.merged");
    points.push("cleanup.merged");
    for point in ["run.destroy.dispatched", "run.destroy.finished"] {
        start(data, Some(point)).await.crashed_at(point);
        points.push(point);
    }

    // A last start without a crash finishes: destroyed and archived.
    let server = start(data, None).await;
    let done = server.wait_for(&alice, &id, "destroyed").await;
    assert_eq!(points.len(), 15, "every crash point was hit: {points:?}");
    let request = &done["request"];
    for kind in ["plan", "apply", "destroy"] {
        assert_eq!(
            request["runs"][kind]["attempts"].as_array().unwrap().len(),
            1,
            "one {kind} attempt: {request:#}"
        );
    }
    let apply = &request["runs"]["apply"]["attempts"][0];
    assert_ne!(request["pr"]["merged_sha"], moved.as_str());
    assert_eq!(
        apply["ran_at"],
        moved.as_str(),
        "applied at the tip of main when it ran again: {apply:#}"
    );
    let apply_log = std::fs::read_to_string(
        data.join("exec/runs")
            .join(apply["run_id"].as_str().unwrap())
            .join("log.txt"),
    )
    .unwrap();
    assert_eq!(
        apply_log.matches("Apply complete!").count(),
        1,
        "applied once: {apply_log}"
    );
    crate::flow::wait_archived(store.as_ref(), &id).await;

    // Nothing twice: one run record per attempt, two PRs, and main holds
    // exactly the request commit, its merge, the commit by hand, the
    // cleanup commit and its merge.
    let runs = server::store::list_all(store.as_ref(), "runs/")
        .await
        .unwrap();
    assert_eq!(runs.len(), 3, "{runs:?}");
    let prs = server::store::list_all(store.as_ref(), "prs/sandbox/")
        .await
        .unwrap();
    assert_eq!(prs.len(), 2, "{prs:?}");
    let log = git(data, &["log", "--format=%s", &format!("{main}..main")]);
    let subjects: Vec<&str> = log.lines().collect();
    assert_eq!(subjects.len(), 5, "{subjects:#?}");
    assert_eq!(
        subjects
            .iter()
            .filter(|s| s.starts_with("tfpilot: request"))
            .count(),
        1
    );
    assert_eq!(
        subjects
            .iter()
            .filter(|s| s.starts_with("tfpilot: cleanup"))
            .count(),
        1
    );
    assert_eq!(
        git(data, &["show", "main:envs/dev/tfpilot.s3.tf"]),
        HAND_WRITTEN.trim_end(),
        "the block is gone, every other byte kept"
    );
}
