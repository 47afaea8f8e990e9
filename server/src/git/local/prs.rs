//! The local pull-request records (`prs/<project>/<number>.json` in the
//! object store) and the merge commits they point at.

use super::LocalGit;
use crate::git::{GitError, GitHost, PullRequestInfo};
use crate::store::{Precondition, StoreError, list_all};
use app::domain::ids::ProjectKey;
use app::domain::request::PrState;

pub(super) fn store_err(e: StoreError) -> GitError {
    match e {
        StoreError::NotFound(k) => GitError::NotFound(k),
        StoreError::Conflict(k) => GitError::Conflict(k),
        e => GitError::Unavailable(e.to_string()),
    }
}

impl LocalGit {
    /// The merge commit on `base` whose second parent is `head`, if any.
    pub(super) async fn find_merge(
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

    pub(super) fn pr_key(project: &ProjectKey, number: u64) -> String {
        format!("prs/{project}/{number:06}.json")
    }

    pub(super) async fn load_pr(
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
    pub(super) async fn live(
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

    pub(super) async fn save_pr(
        &self,
        project: &ProjectKey,
        pr: &PullRequestInfo,
        etag: String,
    ) -> Result<(), GitError> {
        let bytes = serde_json::to_vec(pr).expect("serializes");
        let key = Self::pr_key(project, pr.number);
        let etag = self
            .prs
            .put(&key, bytes.into(), Precondition::IfMatch(etag))
            .await
            .map_err(store_err)?;
        self.remember(&key, &etag, pr);
        Ok(())
    }

    /// Every PR of `project`, newest first: one LIST, and a GET only of
    /// the records new or changed (by etag) since this process last read
    /// them, so opening the thousandth PR does not read the other 999.
    pub(super) async fn all_prs(
        &self,
        project: &ProjectKey,
    ) -> Result<Vec<PullRequestInfo>, GitError> {
        let listed = list_all(self.prs.as_ref(), &format!("prs/{project}/"))
            .await
            .map_err(store_err)?;
        let mut out = Vec::with_capacity(listed.len());
        for entry in listed {
            if let Some(pr) = self.known(&entry.key, &entry.etag) {
                out.push(pr);
                continue;
            }
            let obj = match self.prs.get(&entry.key).await {
                Ok(obj) => obj,
                // Gone between the LIST and the GET.
                Err(StoreError::NotFound(_)) => continue,
                Err(e) => return Err(store_err(e)),
            };
            if let Ok(pr) = serde_json::from_slice::<PullRequestInfo>(&obj.bytes) {
                self.remember(&entry.key, &obj.etag, &pr);
                out.push(pr);
            }
        }
        out.sort_by_key(|p| std::cmp::Reverse(p.number));
        Ok(out)
    }

    /// The record at `key` as last read, if it is still at `etag`.
    fn known(&self, key: &str, etag: &str) -> Option<PullRequestInfo> {
        let read = self.read.lock().unwrap_or_else(|p| p.into_inner());
        read.get(key)
            .filter(|(at, _)| at == etag)
            .map(|(_, pr)| pr.clone())
    }

    /// Notes the record at `key` as read (or written) at `etag`.
    pub(super) fn remember(&self, key: &str, etag: &str, pr: &PullRequestInfo) {
        let mut read = self.read.lock().unwrap_or_else(|p| p.into_inner());
        read.insert(key.to_owned(), (etag.to_owned(), pr.clone()));
    }

    /// Merges `head` into the PR's base with a real three-way merge (or
    /// finds the merge an earlier attempt made); returns the merge commit.
    pub(super) async fn merge_into_base(
        &self,
        project: &ProjectKey,
        number: u64,
        pr: &PullRequestInfo,
        head: &str,
    ) -> Result<String, GitError> {
        loop {
            if let Some(done) = self.find_merge(project, &pr.base, head).await? {
                // A previous attempt merged but did not get to record it.
                return Ok(done);
            }
            let base = self
                .branch_head(project, &pr.base)
                .await?
                .ok_or_else(|| GitError::NotFound(format!("branch {} of {project}", pr.base)))?;
            let out = self
                .git(
                    project,
                    &["merge-tree", "--write-tree", &base, head],
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
                        head,
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
                return Ok(commit);
            }
        }
    }
}
