//! Running `git` on a project's bare repo, and writing commits with
//! compare-and-swap branch moves.

use super::{LocalGit, ZERO};
use crate::git::{FileChange, GitError, check_branch, check_path};
use app::domain::ids::ProjectKey;
use std::path::Path;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

pub(super) fn unavailable(what: &str, e: impl std::fmt::Display) -> GitError {
    GitError::Unavailable(format!("{what}: {e}"))
}

pub(super) struct Output {
    pub(super) ok: bool,
    pub(super) stdout: String,
    pub(super) stderr: String,
}

impl LocalGit {
    pub(super) async fn git(
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
    pub(super) async fn git_ok(
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

    pub(super) async fn resolve(
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
}

pub(super) fn git_env(cmd: &mut Command) {
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "tfpilot")
        .env("GIT_AUTHOR_EMAIL", "tfpilot@localhost")
        .env("GIT_COMMITTER_NAME", "tfpilot")
        .env("GIT_COMMITTER_EMAIL", "tfpilot@localhost")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C");
}

pub(super) async fn run(mut cmd: Command, stdin: Option<&[u8]>) -> Result<Output, GitError> {
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

impl LocalGit {
    /// A commit on `branch` (head must be `parent`): `parent`'s tree with
    /// `changes`, or with `base` a merge of `base` whose tree is `base`'s
    /// with `changes`.
    pub(super) async fn commit_on(
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
