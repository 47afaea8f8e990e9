//! The `GitHost` port: the project's infra repo, its branches and pull
//! requests. Adapters: `local` (the embedded default: bare repos under the
//! data dir, PR records in the object store) and, with production, GitHub.
//!
//! Every creating call first looks for what it would create, so a retried
//! or resumed step never makes a second branch, commit or PR.

pub mod github;
pub mod local;

use app::domain::ids::ProjectKey;
use app::domain::request::PrState;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What can go wrong, decided by the adapter.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// No such repo, branch, file or PR.
    #[error("not found: {0}")]
    NotFound(String),
    /// The branch moved (commit) or the PR changed (merge): reload and retry.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The change cannot merge cleanly.
    #[error("merge conflict: {0}")]
    MergeConflict(String),
    /// The host could not be reached or kept failing.
    #[error("git host unavailable: {0}")]
    Unavailable(String),
    /// The request is wrong (bad path, bad branch name).
    #[error("invalid git request: {0}")]
    Invalid(String),
}

/// A pull request as the host reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestInfo {
    /// Number.
    pub number: u64,
    /// Web link.
    pub url: String,
    /// Head branch.
    pub head: String,
    /// Base branch.
    pub base: String,
    /// Head commit.
    pub head_sha: String,
    /// Merge commit, once merged.
    pub merged_sha: Option<String>,
    /// Open, closed or merged.
    pub state: PrState,
    /// Title.
    pub title: String,
    /// Description, as it was opened.
    #[serde(default)]
    pub body: String,
}

/// A file change: new content, or `None` to delete the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Path in the repo (`envs/dev/tfpilot.s3.tf`).
    pub path: String,
    /// New content; `None` deletes.
    pub content: Option<String>,
}

/// The infra repos of all projects.
#[async_trait]
pub trait GitHost: Send + Sync + 'static {
    /// The branch the project's requests merge into and its runs start
    /// from (`main` unless the project's config names another).
    fn default_branch(&self, project: &ProjectKey) -> String;

    /// Makes sure the project's repo exists (seeding it on first use);
    /// returns the default branch's head.
    async fn ensure_repo(&self, project: &ProjectKey) -> Result<String, GitError>;

    /// The head commit of a branch, if it exists.
    async fn branch_head(
        &self,
        project: &ProjectKey,
        branch: &str,
    ) -> Result<Option<String>, GitError>;

    /// Whether commit `ancestor` is `descendant` or one of its ancestors.
    async fn is_ancestor(
        &self,
        project: &ProjectKey,
        ancestor: &str,
        descendant: &str,
    ) -> Result<bool, GitError>;

    /// The parents of commit `sha`, first parent first (for a merge commit
    /// made onto a branch, the branch's head before the merge).
    async fn parents(&self, project: &ProjectKey, sha: &str) -> Result<Vec<String>, GitError>;

    /// Creates `branch` at `base`'s head unless it exists; returns its head.
    async fn ensure_branch(
        &self,
        project: &ProjectKey,
        branch: &str,
        base: &str,
    ) -> Result<String, GitError>;

    /// A file's content at a ref (branch or commit), `None` if absent.
    async fn read_file(
        &self,
        project: &ProjectKey,
        git_ref: &str,
        path: &str,
    ) -> Result<Option<String>, GitError>;

    /// Commits `changes` on `branch` whose head must still be `parent`
    /// (never clobbers a concurrent commit: `Conflict` instead).
    async fn commit(
        &self,
        project: &ProjectKey,
        branch: &str,
        parent: &str,
        changes: &[FileChange],
        message: &str,
    ) -> Result<String, GitError>;

    /// Brings `branch` (head must still be `parent`) up to date with
    /// `base` (a commit of the base branch): a merge commit whose parents
    /// are `parent` and `base` and whose tree is `base`'s with `changes`.
    /// tfpilot uses it when its block no longer merges cleanly: it writes
    /// the block again onto the current base instead of asking a person to
    /// resolve a conflict.
    async fn commit_merge(
        &self,
        project: &ProjectKey,
        branch: &str,
        parent: &str,
        base: &str,
        changes: &[FileChange],
        message: &str,
    ) -> Result<String, GitError>;

    /// Opens a PR from `head` into `base`, or returns the open PR of `head`.
    async fn open_pr(
        &self,
        project: &ProjectKey,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<PullRequestInfo, GitError>;

    /// A PR by number.
    async fn get_pr(&self, project: &ProjectKey, number: u64) -> Result<PullRequestInfo, GitError>;

    /// PRs (any state) whose head is `head`, newest first.
    async fn list_prs(
        &self,
        project: &ProjectKey,
        head: &str,
    ) -> Result<Vec<PullRequestInfo>, GitError>;

    /// Merges an open PR whose head is still `expected_head`; merging an
    /// already merged PR returns it unchanged.
    async fn merge_pr(
        &self,
        project: &ProjectKey,
        number: u64,
        expected_head: &str,
    ) -> Result<PullRequestInfo, GitError>;

    /// Closes a PR without merging (closing a closed PR is a no-op).
    async fn close_pr(
        &self,
        project: &ProjectKey,
        number: u64,
    ) -> Result<PullRequestInfo, GitError>;
}

/// A host whose commits can be written out as plain files: the checkouts
/// a runner on this machine works in (the local adapter has them).
#[async_trait]
pub trait TreeExport: GitHost {
    /// Writes the tree of commit `sha` into `dir`.
    async fn export(&self, project: &ProjectKey, sha: &str, dir: &Path) -> Result<(), GitError>;
}

/// Checks a branch name: `request/<id>`, `cleanup/<id>`, `main`…
pub fn check_branch(branch: &str) -> Result<(), GitError> {
    let ok = !branch.is_empty()
        && branch.len() <= 100
        && branch.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('.')
                && !seg.ends_with(".lock")
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
        && !branch.contains("..");
    if ok {
        Ok(())
    } else {
        Err(GitError::Invalid(format!(
            "`{branch}` is not an acceptable branch name"
        )))
    }
}

/// Checks a repo path: relative, no `..`, no leading `/`.
pub fn check_path(path: &str) -> Result<(), GitError> {
    let ok = !path.is_empty()
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && seg != ".git")
        && !path.contains(['\0', '\n', '\\']);
    if ok {
        Ok(())
    } else {
        Err(GitError::Invalid(format!(
            "`{path}` is not an acceptable repo path"
        )))
    }
}
