//! The local Git adapter (embedded default): one bare repo per project
//! under `<data>/git/<project>.git`, seeded from `infra-workflows/template`
//! with the offline `sandbox` overlay; PR records live in the object store
//! (`prs/<project>/<number>.json`). Branch updates use `git update-ref`
//! with the expected old value, so concurrent writers — threads or
//! processes — never clobber each other. Merges are real three-way merges
//! (`git merge-tree`) that refuse conflicts.

use super::{FileChange, GitError, GitHost, PullRequestInfo, TreeExport, check_branch, check_path};
use crate::store::{ObjectStore, Precondition, StoreError, list_all};
use app::domain::ids::ProjectKey;
use app::domain::request::PrState;
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

const ZERO: &str = "0000000000000000000000000000000000000000";
/// The default branch of every local repo.
pub const MAIN: &str = "main";

/// Bare repos on disk plus PR records in a bucket.
pub struct LocalGit {
    root: PathBuf,
    template: PathBuf,
    overlay: Option<PathBuf>,
    prs: Arc<dyn ObjectStore>,
    seeding: tokio::sync::Mutex<()>,
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> GitError {
    GitError::Unavailable(format!("{what}: {e}"))
}

fn store_err(e: StoreError) -> GitError {
    match e {
        StoreError::NotFound(k) => GitError::NotFound(k),
        StoreError::Conflict(k) => GitError::Conflict(k),
        e => GitError::Unavailable(e.to_string()),
    }
}

struct Output {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl LocalGit {
    /// Repos under `root`, seeded from `template` (+ `overlay` files on top).
    pub fn new(
        root: impl Into<PathBuf>,
        template: impl Into<PathBuf>,
        overlay: Option<PathBuf>,
        prs: Arc<dyn ObjectStore>,
    ) -> Self {
        Self {
            root: root.into(),
            template: template.into(),
            overlay,
            prs,
            seeding: tokio::sync::Mutex::new(()),
        }
    }

    /// The bare repo of a project.
    pub fn repo_path(&self, project: &ProjectKey) -> PathBuf {
        self.root.join(format!("{project}.git"))
    }

    async fn git(
        &self,
        project: &ProjectKey,
        args: &[&str],
        stdin: Option<&[u8]>,
        index: Option<&Path>,
    ) -> Result<Output, GitError> {
        let mut cmd = Command::new("git");
        cmd.arg("--git-dir").arg(self.repo_path(project)).args(args);
        git_env(&mut cmd);
        if let Some(index) = index {
            cmd.env("GIT_INDEX_FILE", index);
        }
        run(cmd, stdin).await
    }

    /// Runs git and fails unless it succeeded; returns trimmed stdout.
    async fn git_ok(
        &self,
        project: &ProjectKey,
        args: &[&str],
        stdin: Option<&[u8]>,
        index: Option<&Path>,
    ) -> Result<String, GitError> {
        let out = self.git(project, args, stdin, index).await?;
        if out.ok {
            Ok(out.stdout.trim().to_owned())
        } else {
            Err(GitError::Unavailable(format!(
                "git {} failed: {}",
                args.join(" "),
                out.stderr.trim()
            )))
        }
    }

    async fn resolve(
        &self,
        project: &ProjectKey,
        git_ref: &str,
    ) -> Result<Option<String>, GitError> {
        let out = self
            .git(
                project,
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("{git_ref}^{{commit}}"),
                ],
                None,
                None,
            )
            .await?;
        Ok(out.ok.then(|| out.stdout.trim().to_owned()))
    }

    async fn seed(&self, project: &ProjectKey) -> Result<(), GitError> {
        let repo = self.repo_path(project);
        tokio::fs::create_dir_all(&self.root)
            .await
            .map_err(|e| unavailable("cannot create the git dir", e))?;
        if !repo.join("HEAD").exists() {
            let mut init = Command::new("git");
            init.args(["init", "--quiet", "--bare", "--initial-branch", MAIN])
                .arg(&repo);
            git_env(&mut init);
            let out = run(init, None).await?;
            if !out.ok {
                return Err(unavailable("git init failed", out.stderr));
            }
        }
        if self.resolve(project, MAIN).await?.is_some() {
            return Ok(());
        }
        let tree_dir = tempfile::tempdir().map_err(|e| unavailable("temp dir", e))?;
        copy_tree(&self.template, tree_dir.path())
            .map_err(|e| unavailable("cannot copy the repo template", e))?;
        if let Some(overlay) = &self.overlay {
            copy_tree(overlay, tree_dir.path())
                .map_err(|e| unavailable("cannot copy the sandbox overlay", e))?;
        }
        let index = tree_dir.path().join(".git-index");
        let work = tree_dir.path().to_string_lossy().into_owned();
        self.git_ok(
            project,
            &["--work-tree", &work, "add", "--all", "--", "."],
            None,
            Some(&index),
        )
        .await?;
        self.git_ok(
            project,
            &[
                "--work-tree",
                &work,
                "rm",
                "--cached",
                "--quiet",
                "--",
                ".git-index",
            ],
            None,
            Some(&index),
        )
        .await
        .ok();
        let tree = self
            .git_ok(project, &["write-tree"], None, Some(&index))
            .await?;
        let commit = self
            .git_ok(
                project,
                &[
                    "commit-tree",
                    &tree,
                    "-m",
                    "Initial infra repo from the tfpilot template",
                ],
                None,
                None,
            )
            .await?;
        // Only if main does not exist yet: another seeder may have won.
        let _ = self
            .git(
                project,
                &["update-ref", &format!("refs/heads/{MAIN}"), &commit, ZERO],
                None,
                None,
            )
            .await?;
        Ok(())
    }

    /// The merge commit on `base` whose second parent is `head`, if any.
    async fn find_merge(
        &self,
        project: &ProjectKey,
        base: &str,
        head: &str,
    ) -> Result<Option<String>, GitError> {
        let ancestor = self
            .git(
                project,
                &[
                    "merge-base",
                    "--is-ancestor",
                    head,
                    &format!("refs/heads/{base}"),
                ],
                None,
                None,
            )
            .await?;
        if !ancestor.ok {
            return Ok(None);
        }
        let log = self
            .git_ok(
                project,
                &[
                    "log",
                    "--merges",
                    "--format=%H %P",
                    &format!("refs/heads/{base}"),
                ],
                None,
                None,
            )
            .await?;
        Ok(log.lines().find_map(|line| {
            let mut parts = line.split(' ');
            let commit = parts.next()?;
            (parts.nth(1)? == head).then(|| commit.to_owned())
        }))
    }

    fn pr_key(project: &ProjectKey, number: u64) -> String {
        format!("prs/{project}/{number:06}.json")
    }

    async fn load_pr(
        &self,
        project: &ProjectKey,
        number: u64,
    ) -> Result<(PullRequestInfo, String), GitError> {
        let obj = self
            .prs
            .get(&Self::pr_key(project, number))
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => GitError::NotFound(format!("PR #{number} of {project}")),
                e => store_err(e),
            })?;
        let pr: PullRequestInfo = serde_json::from_slice(&obj.bytes).map_err(|e| {
            GitError::Unavailable(format!("PR record #{number} is unreadable: {e}"))
        })?;
        Ok((pr, obj.etag))
    }

    /// Refreshes the head of an open PR from its branch.
    async fn live(
        &self,
        project: &ProjectKey,
        mut pr: PullRequestInfo,
    ) -> Result<PullRequestInfo, GitError> {
        if pr.state == PrState::Open
            && let Some(head) = self
                .resolve(project, &format!("refs/heads/{}", pr.head))
                .await?
        {
            pr.head_sha = head;
        }
        Ok(pr)
    }

    async fn save_pr(
        &self,
        project: &ProjectKey,
        pr: &PullRequestInfo,
        etag: String,
    ) -> Result<(), GitError> {
        let bytes = serde_json::to_vec(pr).expect("serializes");
        self.prs
            .put(
                &Self::pr_key(project, pr.number),
                bytes.into(),
                Precondition::IfMatch(etag),
            )
            .await
            .map(drop)
            .map_err(store_err)
    }

    async fn all_prs(&self, project: &ProjectKey) -> Result<Vec<PullRequestInfo>, GitError> {
        let mut out = Vec::new();
        for entry in list_all(self.prs.as_ref(), &format!("prs/{project}/"))
            .await
            .map_err(store_err)?
        {
            let obj = self.prs.get(&entry.key).await.map_err(store_err)?;
            if let Ok(pr) = serde_json::from_slice::<PullRequestInfo>(&obj.bytes) {
                out.push(pr);
            }
        }
        out.sort_by_key(|p| std::cmp::Reverse(p.number));
        Ok(out)
    }
}

fn git_env(cmd: &mut Command) {
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "tfpilot")
        .env("GIT_AUTHOR_EMAIL", "tfpilot@localhost")
        .env("GIT_COMMITTER_NAME", "tfpilot")
        .env("GIT_COMMITTER_EMAIL", "tfpilot@localhost")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C");
}

async fn run(mut cmd: Command, stdin: Option<&[u8]>) -> Result<Output, GitError> {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| unavailable("cannot run `git` (is it on the PATH?)", e))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input)
            .await
            .map_err(|e| unavailable("writing to git", e))?;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| unavailable("waiting for git", e))?;
    Ok(Output {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Copies a directory tree, files overwriting files.
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

impl LocalGit {
    /// A commit on `branch` (head must be `parent`): `parent`'s tree with
    /// `changes`, or with `base` a merge of `base` whose tree is `base`'s
    /// with `changes`.
    async fn commit_on(
        &self,
        project: &ProjectKey,
        branch: &str,
        parent: &str,
        base: Option<&str>,
        changes: &[FileChange],
        message: &str,
    ) -> Result<String, GitError> {
        check_branch(branch)?;
        let index_dir = tempfile::tempdir().map_err(|e| unavailable("temp dir", e))?;
        let index = index_dir.path().join("index");
        self.git_ok(
            project,
            &["read-tree", base.unwrap_or(parent)],
            None,
            Some(&index),
        )
        .await?;
        for change in changes {
            check_path(&change.path)?;
            match &change.content {
                Some(content) => {
                    let blob = self
                        .git_ok(
                            project,
                            &["hash-object", "-w", "--stdin"],
                            Some(content.as_bytes()),
                            None,
                        )
                        .await?;
                    let info = format!("100644,{blob},{}", change.path);
                    self.git_ok(
                        project,
                        &["update-index", "--add", "--cacheinfo", &info],
                        None,
                        Some(&index),
                    )
                    .await?;
                }
                None => {
                    // Mode 0 removes the entry; works without a work tree.
                    let line = format!("0 {ZERO}\t{}\n", change.path);
                    let input = Some(line.as_bytes());
                    self.git_ok(
                        project,
                        &["update-index", "--index-info"],
                        input,
                        Some(&index),
                    )
                    .await?;
                }
            }
        }
        let tree = self
            .git_ok(project, &["write-tree"], None, Some(&index))
            .await?;
        let commit = self
            .git_ok(
                project,
                &match base {
                    Some(base) => vec![
                        "commit-tree",
                        &tree,
                        "-p",
                        parent,
                        "-p",
                        base,
                        "-m",
                        message,
                    ],
                    None => vec!["commit-tree", &tree, "-p", parent, "-m", message],
                },
                None,
                None,
            )
            .await?;
        let moved = self
            .git(
                project,
                &[
                    "update-ref",
                    &format!("refs/heads/{branch}"),
                    &commit,
                    parent,
                ],
                None,
                None,
            )
            .await?;
        if moved.ok {
            Ok(commit)
        } else {
            Err(GitError::Conflict(format!(
                "branch {branch} moved past {parent}"
            )))
        }
    }
}

#[async_trait]
impl TreeExport for LocalGit {
    /// Writes the tree of `sha` into `dir` (a fresh checkout for a run).
    async fn export(&self, project: &ProjectKey, sha: &str, dir: &Path) -> Result<(), GitError> {
        let index_dir = tempfile::tempdir().map_err(|e| unavailable("temp dir", e))?;
        let index = index_dir.path().join("index");
        let work = dir.to_string_lossy().into_owned();
        self.git_ok(project, &["read-tree", sha], None, Some(&index))
            .await?;
        self.git_ok(
            project,
            &["--work-tree", &work, "checkout-index", "--all", "--force"],
            None,
            Some(&index),
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl GitHost for LocalGit {
    /// The repos this adapter seeds from the template always start on `main`.
    fn default_branch(&self, _project: &ProjectKey) -> String {
        MAIN.to_owned()
    }

    async fn ensure_repo(&self, project: &ProjectKey) -> Result<String, GitError> {
        if let Some(head) = self.resolve(project, MAIN).await.unwrap_or(None) {
            return Ok(head);
        }
        let _one_at_a_time = self.seeding.lock().await;
        self.seed(project).await?;
        self.resolve(project, MAIN).await?.ok_or_else(|| {
            GitError::Unavailable(format!("the repo of {project} has no {MAIN} branch"))
        })
    }

    async fn branch_head(
        &self,
        project: &ProjectKey,
        branch: &str,
    ) -> Result<Option<String>, GitError> {
        check_branch(branch)?;
        self.resolve(project, &format!("refs/heads/{branch}")).await
    }

    async fn is_ancestor(
        &self,
        project: &ProjectKey,
        ancestor: &str,
        descendant: &str,
    ) -> Result<bool, GitError> {
        let out = self
            .git(
                project,
                &["merge-base", "--is-ancestor", ancestor, descendant],
                None,
                None,
            )
            .await?;
        Ok(out.ok)
    }

    async fn parents(&self, project: &ProjectKey, sha: &str) -> Result<Vec<String>, GitError> {
        let out = self
            .git(
                project,
                &["rev-list", "--parents", "-n", "1", sha, "--"],
                None,
                None,
            )
            .await?;
        if !out.ok {
            return Err(GitError::NotFound(format!("commit {sha}")));
        }
        Ok(out
            .stdout
            .split_whitespace()
            .skip(1)
            .map(str::to_owned)
            .collect())
    }

    async fn ensure_branch(
        &self,
        project: &ProjectKey,
        branch: &str,
        base: &str,
    ) -> Result<String, GitError> {
        check_branch(branch)?;
        if let Some(head) = self.branch_head(project, branch).await? {
            return Ok(head);
        }
        let base_sha = self
            .branch_head(project, base)
            .await?
            .ok_or_else(|| GitError::NotFound(format!("branch {base} of {project}")))?;
        let _ = self
            .git(
                project,
                &[
                    "update-ref",
                    &format!("refs/heads/{branch}"),
                    &base_sha,
                    ZERO,
                ],
                None,
                None,
            )
            .await?;
        self.branch_head(project, branch)
            .await?
            .ok_or_else(|| GitError::Unavailable(format!("could not create branch {branch}")))
    }

    async fn read_file(
        &self,
        project: &ProjectKey,
        git_ref: &str,
        path: &str,
    ) -> Result<Option<String>, GitError> {
        check_path(path)?;
        let sha = self
            .resolve(project, git_ref)
            .await?
            .ok_or_else(|| GitError::NotFound(format!("ref {git_ref} of {project}")))?;
        let out = self
            .git(
                project,
                &["cat-file", "blob", &format!("{sha}:{path}")],
                None,
                None,
            )
            .await?;
        Ok(out.ok.then_some(out.stdout))
    }

    async fn commit(
        &self,
        project: &ProjectKey,
        branch: &str,
        parent: &str,
        changes: &[FileChange],
        message: &str,
    ) -> Result<String, GitError> {
        self.commit_on(project, branch, parent, None, changes, message)
            .await
    }

    async fn commit_merge(
        &self,
        project: &ProjectKey,
        branch: &str,
        parent: &str,
        base: &str,
        changes: &[FileChange],
        message: &str,
    ) -> Result<String, GitError> {
        self.commit_on(project, branch, parent, Some(base), changes, message)
            .await
    }

    async fn open_pr(
        &self,
        project: &ProjectKey,
        head: &str,
        base: &str,
        title: &str,
        _body: &str,
    ) -> Result<PullRequestInfo, GitError> {
        check_branch(head)?;
        check_branch(base)?;
        let head_sha = self
            .branch_head(project, head)
            .await?
            .ok_or_else(|| GitError::NotFound(format!("branch {head} of {project}")))?;
        loop {
            let existing = self.all_prs(project).await?;
            if let Some(open) = existing
                .iter()
                .find(|p| p.head == head && p.state == PrState::Open)
            {
                return self.live(project, open.clone()).await;
            }
            let number = existing.first().map_or(1, |p| p.number + 1);
            let pr = PullRequestInfo {
                number,
                url: format!("tfpilot-local://{project}/pulls/{number}"),
                head: head.to_owned(),
                base: base.to_owned(),
                head_sha: head_sha.clone(),
                merged_sha: None,
                state: PrState::Open,
                title: title.to_owned(),
            };
            let bytes = serde_json::to_vec(&pr).expect("serializes");
            match self
                .prs
                .put(
                    &Self::pr_key(project, number),
                    bytes.into(),
                    Precondition::IfAbsent,
                )
                .await
            {
                Ok(_) => return Ok(pr),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(store_err(e)),
            }
        }
    }

    async fn get_pr(&self, project: &ProjectKey, number: u64) -> Result<PullRequestInfo, GitError> {
        let (pr, _) = self.load_pr(project, number).await?;
        self.live(project, pr).await
    }

    async fn list_prs(
        &self,
        project: &ProjectKey,
        head: &str,
    ) -> Result<Vec<PullRequestInfo>, GitError> {
        let mut out = Vec::new();
        for pr in self
            .all_prs(project)
            .await?
            .into_iter()
            .filter(|p| p.head == head)
        {
            out.push(self.live(project, pr).await?);
        }
        Ok(out)
    }

    async fn merge_pr(
        &self,
        project: &ProjectKey,
        number: u64,
        expected_head: &str,
    ) -> Result<PullRequestInfo, GitError> {
        let (pr, etag) = self.load_pr(project, number).await?;
        match pr.state {
            PrState::Merged => return Ok(pr),
            PrState::Closed => return Err(GitError::Conflict(format!("PR #{number} is closed"))),
            PrState::Open => {}
        }
        let head = self
            .branch_head(project, &pr.head)
            .await?
            .ok_or_else(|| GitError::NotFound(format!("branch {} of {project}", pr.head)))?;
        if head != expected_head {
            return Err(GitError::Conflict(format!(
                "PR #{number} has a new commit {head}"
            )));
        }
        let merged = loop {
            if let Some(done) = self.find_merge(project, &pr.base, &head).await? {
                // A previous attempt merged but did not get to record it.
                break done;
            }
            let base = self
                .branch_head(project, &pr.base)
                .await?
                .ok_or_else(|| GitError::NotFound(format!("branch {} of {project}", pr.base)))?;
            let out = self
                .git(
                    project,
                    &["merge-tree", "--write-tree", &base, &head],
                    None,
                    None,
                )
                .await?;
            if !out.ok {
                return Err(GitError::MergeConflict(format!(
                    "PR #{number} does not merge cleanly into {}: {}",
                    pr.base,
                    out.stdout.lines().skip(1).collect::<Vec<_>>().join("; ")
                )));
            }
            let tree = out.stdout.lines().next().unwrap_or_default().to_owned();
            let message = format!("Merge PR #{number}: {}", pr.title);
            let commit = self
                .git_ok(
                    project,
                    &[
                        "commit-tree",
                        &tree,
                        "-p",
                        &base,
                        "-p",
                        &head,
                        "-m",
                        &message,
                    ],
                    None,
                    None,
                )
                .await?;
            let moved = self
                .git(
                    project,
                    &[
                        "update-ref",
                        &format!("refs/heads/{}", pr.base),
                        &commit,
                        &base,
                    ],
                    None,
                    None,
                )
                .await?;
            if moved.ok {
                break commit;
            }
        };
        let done = PullRequestInfo {
            head_sha: head,
            merged_sha: Some(merged),
            state: PrState::Merged,
            ..pr
        };
        self.save_pr(project, &done, etag).await?;
        Ok(done)
    }

    async fn close_pr(
        &self,
        project: &ProjectKey,
        number: u64,
    ) -> Result<PullRequestInfo, GitError> {
        let (pr, etag) = self.load_pr(project, number).await?;
        if pr.state != PrState::Open {
            return Ok(pr);
        }
        let closed = PullRequestInfo {
            state: PrState::Closed,
            ..self.live(project, pr).await?
        };
        self.save_pr(project, &closed, etag).await?;
        Ok(closed)
    }
}
