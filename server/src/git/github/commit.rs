//! Commits through the git data API: tree with inline contents → commit
//! with the expected parent → fast-forward-only ref update.

use super::GitHubHost;
use super::wire::{GhCommit, GhObject, encode_path, failure};
use crate::git::{FileChange, GitError, GitHost, check_path};
use app::domain::ids::ProjectKey;
use http::{Method, StatusCode};
use serde_json::{Value, json};

impl GitHubHost {
    /// A commit on `branch` (head must be `parent`) of `parent`'s tree with
    /// `changes`, or with `base` a merge of `base` on `base`'s tree.
    pub(super) async fn commit_on(
        &self,
        project: &ProjectKey,
        branch: &str,
        parent: &str,
        base: Option<&str>,
        changes: &[FileChange],
        message: &str,
    ) -> Result<String, GitError> {
        for change in changes {
            check_path(&change.path)?;
        }
        let repo = self.repo(project)?;
        match self.branch_head(project, branch).await? {
            Some(head) if head == parent => {}
            Some(head) => {
                return Err(GitError::Conflict(format!(
                    "{branch} is at {head}, not {parent}"
                )));
            }
            None => return Err(GitError::NotFound(format!("branch {branch} of {repo}"))),
        }
        let reply = self
            .call(
                Method::GET,
                format!("/repos/{repo}/git/commits/{}", base.unwrap_or(parent)),
                None,
            )
            .await?;
        if reply.status != StatusCode::OK {
            return Err(failure(
                &reply,
                &format!("commit {}", base.unwrap_or(parent)),
            ));
        }
        let base_tree = reply
            .json::<GhCommit>()
            .map_err(GitError::Unavailable)?
            .tree
            .sha;
        let entries: Vec<Value> = changes
            .iter()
            .map(|c| match &c.content {
                Some(text) => {
                    json!({ "path": c.path, "mode": "100644", "type": "blob", "content": text })
                }
                None => json!({ "path": c.path, "mode": "100644", "type": "blob", "sha": null }),
            })
            .collect();
        let reply = self
            .call(
                Method::POST,
                format!("/repos/{repo}/git/trees"),
                Some(json!({ "base_tree": base_tree, "tree": entries })),
            )
            .await?;
        if reply.status != StatusCode::CREATED {
            return Err(failure(&reply, "tree"));
        }
        let tree = reply.json::<GhObject>().map_err(GitError::Unavailable)?.sha;
        let reply = self
            .call(
                Method::POST,
                format!("/repos/{repo}/git/commits"),
                Some(json!({
                    "message": message,
                    "tree": tree,
                    "parents": match base {
                        Some(base) => vec![parent, base],
                        None => vec![parent],
                    },
                })),
            )
            .await?;
        if reply.status != StatusCode::CREATED {
            return Err(failure(&reply, "commit"));
        }
        let sha = reply.json::<GhObject>().map_err(GitError::Unavailable)?.sha;
        let reply = self
            .call(
                Method::PATCH,
                format!("/repos/{repo}/git/refs/heads/{}", encode_path(branch)),
                Some(json!({ "sha": sha, "force": false })),
            )
            .await?;
        match reply.status {
            StatusCode::OK => Ok(sha),
            // Not a fast-forward: somebody else committed on the branch.
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT => {
                match self.branch_head(project, branch).await? {
                    // Our own update landed and its reply was lost.
                    Some(head) if head == sha => Ok(sha),
                    _ => Err(GitError::Conflict(format!(
                        "{branch} moved: {}",
                        reply.message()
                    ))),
                }
            }
            _ => Err(failure(&reply, &format!("branch {branch}"))),
        }
    }
}
