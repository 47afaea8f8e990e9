//! The local Git adapter (embedded default): one bare repo per project
//! under `<data>/git/<project>.git`, seeded from `infra-workflows/template`
//! with the offline `sandbox` overlay; PR records live in the object store
//! (`prs/<project>/<number>.json`). Branch updates use `git update-ref`
//! with the expected old value, so concurrent writers — threads or
//! processes — never clobber each other. Merges are real three-way merges
//! (`git merge-tree`) that refuse conflicts.

mod cmd;
mod prs;
mod seed;

pub use seed::copy_tree;

use cmd::unavailable;
use prs::store_err;

use super::{FileChange, GitError, GitHost, PullRequestInfo, TreeExport, check_branch, check_path};
use crate::store::{ObjectStore, Precondition, StoreError};
use app::domain::ids::ProjectKey;
use app::domain::request::PrState;
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    numbering: tokio::sync::Mutex<()>,
    /// PR records as last read, by key: (etag, record).
    read: std::sync::Mutex<std::collections::HashMap<String, (String, PullRequestInfo)>>,
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
            numbering: tokio::sync::Mutex::new(()),
            read: Default::default(),
        }
    }

    /// The bare repo of a project.
    pub fn repo_path(&self, project: &ProjectKey) -> PathBuf {
        self.root.join(format!("{project}.git"))
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
        body: &str,
    ) -> Result<PullRequestInfo, GitError> {
        check_branch(head)?;
        check_branch(base)?;
        let head_sha = self
            .branch_head(project, head)
            .await?
            .ok_or_else(|| GitError::NotFound(format!("branch {head} of {project}")))?;
        // This process's opens take numbers one at a time; the create-only
        // write still arbitrates between replicas.
        let _numbering = self.numbering.lock().await;
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
                body: body.to_owned(),
            };
            let bytes = serde_json::to_vec(&pr).expect("serializes");
            let key = Self::pr_key(project, number);
            match self
                .prs
                .put(&key, bytes.into(), Precondition::IfAbsent)
                .await
            {
                Ok(etag) => {
                    self.remember(&key, &etag, &pr);
                    return Ok(pr);
                }
                // Another replica's PR took the number: count again.
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
        let merged = self.merge_into_base(project, number, &pr, &head).await?;
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
