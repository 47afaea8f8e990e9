//! The `GitHost` contract: every adapter passes these.

use app::domain::ids::ProjectKey;
use app::domain::request::PrState;
use server::git::local::MAIN;
use server::git::{FileChange, GitError, GitHost};
use std::sync::Arc;

fn project() -> ProjectKey {
    ProjectKey::parse("sandbox").unwrap()
}

fn write(path: &str, content: &str) -> FileChange {
    FileChange {
        path: path.into(),
        content: Some(content.into()),
    }
}

pub async fn the_repo_is_seeded_from_the_template_with_the_sandbox_overlay(git: Arc<dyn GitHost>) {
    let main = git.ensure_repo(&project()).await.unwrap();
    assert_eq!(
        git.ensure_repo(&project()).await.unwrap(),
        main,
        "seeding happens once"
    );
    let backend = git
        .read_file(&project(), MAIN, "envs/dev/backend.tf")
        .await
        .unwrap()
        .unwrap();
    assert!(
        backend.contains("backend \"local\""),
        "the sandbox overlay wins: {backend}"
    );
    let module = git
        .read_file(&project(), MAIN, "modules/s3-bucket/main.tf")
        .await
        .unwrap()
        .unwrap();
    assert!(module.contains("terraform_data"));
    let readme = git.read_file(&project(), MAIN, "README.md").await.unwrap();
    assert!(
        readme.is_some(),
        "template files without an overlay are kept"
    );
    assert_eq!(
        git.read_file(&project(), MAIN, "nope.tf").await.unwrap(),
        None
    );
    assert!(matches!(
        git.read_file(&project(), "no-such-branch", "README.md")
            .await,
        Err(GitError::NotFound(_))
    ));
    assert!(matches!(
        git.read_file(&project(), MAIN, "../etc/passwd").await,
        Err(GitError::Invalid(_))
    ));
}

pub async fn commits_never_clobber_a_concurrent_commit(git: Arc<dyn GitHost>) {
    let main = git.ensure_repo(&project()).await.unwrap();
    let head = git
        .ensure_branch(&project(), "request/abc", MAIN)
        .await
        .unwrap();
    assert_eq!(head, main);
    assert_eq!(
        git.ensure_branch(&project(), "request/abc", MAIN)
            .await
            .unwrap(),
        head,
        "found, not recreated"
    );
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (git, head) = (git.clone(), head.clone());
            tokio::spawn(async move {
                git.commit(
                    &project(),
                    "request/abc",
                    &head,
                    &[write("envs/dev/x.tf", &format!("# {i}\n"))],
                    "race",
                )
                .await
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(GitError::Conflict(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won, 1, "exactly one commit on the expected parent");
    let new_head = git
        .branch_head(&project(), "request/abc")
        .await
        .unwrap()
        .unwrap();
    let removed = git
        .commit(
            &project(),
            "request/abc",
            &new_head,
            &[FileChange {
                path: "envs/dev/x.tf".into(),
                content: None,
            }],
            "rm",
        )
        .await
        .unwrap();
    assert_eq!(
        git.read_file(&project(), &removed, "envs/dev/x.tf")
            .await
            .unwrap(),
        None
    );
}

pub async fn pull_requests_are_found_before_they_are_opened_and_merge_for_real(
    git: Arc<dyn GitHost>,
) {
    let p = project();
    let main = git.ensure_repo(&p).await.unwrap();
    let base = git.ensure_branch(&p, "request/one", MAIN).await.unwrap();
    let head = git
        .commit(
            &p,
            "request/one",
            &base,
            &[write("envs/dev/a.tf", "# a\n")],
            "a",
        )
        .await
        .unwrap();
    let pr = git
        .open_pr(&p, "request/one", MAIN, "one", "Asks for `one`.")
        .await
        .unwrap();
    let again = git
        .open_pr(&p, "request/one", MAIN, "one", "Asks for `one`.")
        .await
        .unwrap();
    assert_eq!(pr.body, "Asks for `one`.", "the description is kept");
    assert_eq!(
        git.get_pr(&p, pr.number).await.unwrap().body,
        "Asks for `one`."
    );
    assert_eq!(
        pr.number, again.number,
        "the open PR of the branch is reused"
    );
    assert_eq!(pr.head_sha, head);
    assert_eq!(git.list_prs(&p, "request/one").await.unwrap().len(), 1);

    assert!(
        matches!(
            git.merge_pr(&p, pr.number, &main).await,
            Err(GitError::Conflict(_))
        ),
        "stale head"
    );
    let before = git.branch_head(&p, MAIN).await.unwrap().unwrap();
    let merged = git.merge_pr(&p, pr.number, &head).await.unwrap();
    assert_eq!(merged.state, PrState::Merged);
    let merge_sha = merged.merged_sha.clone().unwrap();
    let parents = git.parents(&p, &merge_sha).await.unwrap();
    assert_eq!(
        parents.first(),
        Some(&before),
        "a merge's first parent is main before it"
    );
    assert!(parents.contains(&head) || merge_sha == head, "{parents:?}");
    assert_eq!(
        git.branch_head(&p, MAIN).await.unwrap().as_deref(),
        Some(merge_sha.as_str())
    );
    assert_eq!(
        git.read_file(&p, MAIN, "envs/dev/a.tf")
            .await
            .unwrap()
            .as_deref(),
        Some("# a\n")
    );
    assert_eq!(
        git.merge_pr(&p, pr.number, &head).await.unwrap().merged_sha,
        Some(merge_sha),
        "merging twice is a no-op"
    );
    assert_eq!(
        git.get_pr(&p, pr.number).await.unwrap().state,
        PrState::Merged
    );

    // Two branches changing the same line cannot both merge.
    let main = git.branch_head(&p, MAIN).await.unwrap().unwrap();
    for (branch, text) in [("request/two", "# two\n"), ("request/three", "# three\n")] {
        let b = git.ensure_branch(&p, branch, MAIN).await.unwrap();
        assert_eq!(b, main);
        git.commit(&p, branch, &b, &[write("envs/dev/a.tf", text)], branch)
            .await
            .unwrap();
    }
    let two = git
        .open_pr(&p, "request/two", MAIN, "two", "")
        .await
        .unwrap();
    let three = git
        .open_pr(&p, "request/three", MAIN, "three", "")
        .await
        .unwrap();
    assert_ne!(two.number, three.number);
    git.merge_pr(&p, two.number, &two.head_sha).await.unwrap();
    let conflict = git.merge_pr(&p, three.number, &three.head_sha).await;
    assert!(
        matches!(conflict, Err(GitError::MergeConflict(_))),
        "{conflict:?}"
    );
    let closed = git.close_pr(&p, three.number).await.unwrap();
    assert_eq!(closed.state, PrState::Closed);
    assert!(matches!(
        git.merge_pr(&p, three.number, &three.head_sha).await,
        Err(GitError::Conflict(_))
    ));
    let reopened = git
        .open_pr(&p, "request/three", MAIN, "three again", "")
        .await
        .unwrap();
    assert!(reopened.number > three.number, "a closed PR is not reused");
}

pub async fn a_conflicting_branch_is_brought_up_to_date_with_a_merge_commit(git: Arc<dyn GitHost>) {
    let p = project();
    git.ensure_repo(&p).await.unwrap();
    let mut heads = Vec::new();
    for (branch, line) in [("request/a", "# a\n"), ("request/b", "# b\n")] {
        let base = git.ensure_branch(&p, branch, MAIN).await.unwrap();
        git.commit(
            &p,
            branch,
            &base,
            &[write("envs/dev/shared.tf", line)],
            branch,
        )
        .await
        .unwrap();
        heads.push(git.open_pr(&p, branch, MAIN, branch, "").await.unwrap());
    }
    git.merge_pr(&p, heads[0].number, &heads[0].head_sha)
        .await
        .unwrap();
    assert!(matches!(
        git.merge_pr(&p, heads[1].number, &heads[1].head_sha).await,
        Err(GitError::MergeConflict(_))
    ));
    let main = git.branch_head(&p, MAIN).await.unwrap().unwrap();
    let on_main = git
        .read_file(&p, &main, "envs/dev/shared.tf")
        .await
        .unwrap()
        .unwrap();
    let stale = git
        .commit_merge(
            &p,
            "request/b",
            &main,
            &main,
            &[write("envs/dev/shared.tf", "x")],
            "stale parent",
        )
        .await;
    assert!(matches!(stale, Err(GitError::Conflict(_))), "{stale:?}");
    let refreshed = git
        .commit_merge(
            &p,
            "request/b",
            &heads[1].head_sha,
            &main,
            &[write("envs/dev/shared.tf", &format!("{on_main}# b\n"))],
            "tfpilot: bring request/b up to date",
        )
        .await
        .unwrap();
    let pr = git.get_pr(&p, heads[1].number).await.unwrap();
    assert_eq!(pr.head_sha, refreshed, "the PR follows its branch");
    let merged = git.merge_pr(&p, pr.number, &refreshed).await.unwrap();
    assert_eq!(merged.state, PrState::Merged);
    assert_eq!(
        git.read_file(&p, MAIN, "envs/dev/shared.tf")
            .await
            .unwrap()
            .as_deref(),
        Some("# a\n# b\n")
    );
}

pub async fn ancestry_says_which_commit_contains_which(git: Arc<dyn GitHost>) {
    let main = git.ensure_repo(&project()).await.unwrap();
    git.ensure_branch(&project(), "request/anc", MAIN)
        .await
        .unwrap();
    let change = FileChange {
        path: "envs/dev/anc.tf".into(),
        content: Some("# ancestry\n".into()),
    };
    let child = git
        .commit(&project(), "request/anc", &main, &[change], "child")
        .await
        .unwrap();
    assert!(git.is_ancestor(&project(), &main, &child).await.unwrap());
    assert!(git.is_ancestor(&project(), &main, &main).await.unwrap());
    assert!(!git.is_ancestor(&project(), &child, &main).await.unwrap());
}
