//! The GitHub host (production): the same port over GitHub's REST API.
//! Commits go through the git data API (tree with inline contents → commit
//! with the expected parent → fast-forward-only ref update), so a commit
//! made concurrently on the branch turns the update into a `Conflict`
//! instead of being clobbered.

use super::{FileChange, GitError, GitHost, PullRequestInfo, check_branch, check_path};
use crate::config::DEFAULT_BRANCH;
use crate::github::{GitHubClient, Reply, Retry, split_repo};
use crate::projects::Projects;
use crate::projects::per_project::PerProject;
use app::domain::ids::ProjectKey;
use app::domain::request::PrState;
use async_trait::async_trait;
use base64::Engine as _;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use wire::{GhContent, GhPull, GhRef, encode_path, failure, percent, pr_info};

mod commit;
mod tarball;
mod wire;

/// The infra repos on GitHub, one `owner/name` per project.
#[derive(Debug, Clone)]
pub struct GitHubHost {
    client: GitHubClient,
    repos: PerProject,
    default_branches: PerProject,
}

impl GitHubHost {
    /// A host for `repos` (project → `owner/name`); a malformed name is refused.
    pub fn new(
        client: GitHubClient,
        repos: impl IntoIterator<Item = (ProjectKey, String)>,
    ) -> Result<Self, String> {
        let repos: HashMap<_, _> = repos.into_iter().collect();
        for (project, repo) in &repos {
            if split_repo(repo).is_none() {
                return Err(format!(
                    "projects.{project}.repo: `{repo}` is not `owner/name`"
                ));
            }
        }
        Ok(Self {
            client,
            repos: PerProject::fixed(repos),
            default_branches: PerProject::default(),
        })
    }

    /// A host for the served projects: each one's repo and default branch
    /// read on every call, so a project created at runtime works at once
    /// (its `owner/name` was checked when it was written).
    pub fn serving(client: GitHubClient, projects: Arc<Projects>) -> Self {
        Self {
            client,
            repos: PerProject::served(projects.clone(), |p| p.repo.clone()),
            default_branches: PerProject::served(projects, |p| Some(p.default_branch.clone())),
        }
    }

    /// The default branch of each project that does not use `main`.
    pub fn with_default_branches(
        mut self,
        branches: impl IntoIterator<Item = (ProjectKey, String)>,
    ) -> Self {
        self.default_branches = PerProject::fixed(branches);
        self
    }

    fn repo(&self, project: &ProjectKey) -> Result<String, GitError> {
        self.repos.get(project).ok_or_else(|| {
            GitError::NotFound(format!("project {project} has no GitHub repo configured"))
        })
    }

    async fn call(
        &self,
        method: Method,
        path: String,
        body: Option<Value>,
    ) -> Result<Reply, GitError> {
        self.client
            .send(method, &path, body.as_ref(), Retry::Safe)
            .await
            .map_err(|e| GitError::Unavailable(e.to_string()))
    }

    async fn pr(&self, repo: &str, number: u64) -> Result<PullRequestInfo, GitError> {
        let reply = self
            .call(Method::GET, format!("/repos/{repo}/pulls/{number}"), None)
            .await?;
        match reply.status {
            StatusCode::OK => pr_info(&reply),
            _ => Err(failure(&reply, &format!("PR #{number} of {repo}"))),
        }
    }
}

#[async_trait]
impl GitHost for GitHubHost {
    fn default_branch(&self, project: &ProjectKey) -> String {
        self.default_branches
            .get(project)
            .unwrap_or_else(|| DEFAULT_BRANCH.to_owned())
    }

    async fn ensure_repo(&self, project: &ProjectKey) -> Result<String, GitError> {
        let repo = self.repo(project)?;
        let reply = self
            .call(Method::GET, format!("/repos/{repo}"), None)
            .await?;
        if reply.status != StatusCode::OK {
            return Err(failure(
                &reply,
                &format!(
                    "repo {repo} (create it from infra-workflows/template and give tfpilot access)"
                ),
            ));
        }
        let branch = self.default_branch(project);
        self.branch_head(project, &branch).await?.ok_or_else(|| {
            GitError::NotFound(format!(
                "repo {repo} has no `{branch}` branch; push infra-workflows/template to it"
            ))
        })
    }

    async fn branch_head(
        &self,
        project: &ProjectKey,
        branch: &str,
    ) -> Result<Option<String>, GitError> {
        check_branch(branch)?;
        let repo = self.repo(project)?;
        let reply = self
            .call(
                Method::GET,
                format!("/repos/{repo}/git/ref/heads/{}", encode_path(branch)),
                None,
            )
            .await?;
        match reply.status {
            StatusCode::OK => Ok(Some(
                reply
                    .json::<GhRef>()
                    .map_err(GitError::Unavailable)?
                    .object
                    .sha,
            )),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(failure(&reply, &format!("branch {branch} of {repo}"))),
        }
    }

    async fn is_ancestor(
        &self,
        project: &ProjectKey,
        ancestor: &str,
        descendant: &str,
    ) -> Result<bool, GitError> {
        let repo = self.repo(project)?;
        let (a, d) = (encode_path(ancestor), encode_path(descendant));
        let reply = self
            .call(
                Method::GET,
                format!("/repos/{repo}/compare/{a}...{d}"),
                None,
            )
            .await?;
        #[derive(serde::Deserialize)]
        struct Compare {
            status: String,
        }
        match reply.status {
            StatusCode::OK => Ok(matches!(
                reply
                    .json::<Compare>()
                    .map_err(GitError::Unavailable)?
                    .status
                    .as_str(),
                "ahead" | "identical"
            )),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(failure(&reply, &format!("compare {a}...{d} of {repo}"))),
        }
    }

    async fn parents(&self, project: &ProjectKey, sha: &str) -> Result<Vec<String>, GitError> {
        let repo = self.repo(project)?;
        let reply = self
            .call(
                Method::GET,
                format!("/repos/{repo}/git/commits/{}", encode_path(sha)),
                None,
            )
            .await?;
        #[derive(serde::Deserialize)]
        struct Parent {
            sha: String,
        }
        #[derive(serde::Deserialize)]
        struct Commit {
            parents: Vec<Parent>,
        }
        match reply.status {
            StatusCode::OK => Ok(reply
                .json::<Commit>()
                .map_err(GitError::Unavailable)?
                .parents
                .into_iter()
                .map(|p| p.sha)
                .collect()),
            StatusCode::NOT_FOUND => Err(GitError::NotFound(format!("commit {sha} of {repo}"))),
            _ => Err(failure(&reply, &format!("commit {sha} of {repo}"))),
        }
    }

    async fn ensure_branch(
        &self,
        project: &ProjectKey,
        branch: &str,
        base: &str,
    ) -> Result<String, GitError> {
        if let Some(head) = self.branch_head(project, branch).await? {
            return Ok(head);
        }
        let repo = self.repo(project)?;
        let base_sha = self
            .branch_head(project, base)
            .await?
            .ok_or_else(|| GitError::NotFound(format!("branch {base} of {repo}")))?;
        let reply = self
            .call(
                Method::POST,
                format!("/repos/{repo}/git/refs"),
                Some(json!({ "ref": format!("refs/heads/{branch}"), "sha": base_sha })),
            )
            .await?;
        match reply.status {
            StatusCode::CREATED => Ok(base_sha),
            // Created meanwhile (by us before a retry, or a replica).
            StatusCode::UNPROCESSABLE_ENTITY => self
                .branch_head(project, branch)
                .await?
                .ok_or_else(|| failure(&reply, &format!("branch {branch} of {repo}"))),
            _ => Err(failure(&reply, &format!("branch {branch} of {repo}"))),
        }
    }

    async fn read_file(
        &self,
        project: &ProjectKey,
        git_ref: &str,
        path: &str,
    ) -> Result<Option<String>, GitError> {
        check_path(path)?;
        let repo = self.repo(project)?;
        let reply = self
            .call(
                Method::GET,
                format!(
                    "/repos/{repo}/contents/{}?ref={}",
                    encode_path(path),
                    percent(git_ref)
                ),
                None,
            )
            .await?;
        match reply.status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND if reply.message().contains("No commit found") => {
                return Err(GitError::NotFound(format!("ref {git_ref} of {repo}")));
            }
            StatusCode::NOT_FOUND => return Ok(None),
            _ => return Err(failure(&reply, &format!("{path} at {git_ref} of {repo}"))),
        }
        let Ok(content) = reply.json::<GhContent>() else {
            return Ok(None); // a directory listing: no such file
        };
        if content.kind != "file" {
            return Ok(None);
        }
        let b64 = if content.encoding == "base64" {
            content.content
        } else {
            // Over 1 MB the contents API leaves the content out; the blob has it.
            let blob = self
                .call(
                    Method::GET,
                    format!("/repos/{repo}/git/blobs/{}", content.sha),
                    None,
                )
                .await?;
            if blob.status != StatusCode::OK {
                return Err(failure(&blob, &format!("blob of {path}")));
            }
            blob.json::<Value>().map_err(GitError::Unavailable)?["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        let clean: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(clean)
            .map_err(|e| GitError::Unavailable(format!("{path}: bad base64 from GitHub: {e}")))?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| GitError::Invalid(format!("{path} is not UTF-8 text")))
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
        if let Some(open) = self
            .list_prs(project, head)
            .await?
            .into_iter()
            .find(|p| p.state == PrState::Open)
        {
            return Ok(open);
        }
        let repo = self.repo(project)?;
        let reply = self
            .call(
                Method::POST,
                format!("/repos/{repo}/pulls"),
                Some(json!({ "title": title, "head": head, "base": base, "body": body })),
            )
            .await?;
        match reply.status {
            StatusCode::CREATED => pr_info(&reply),
            // "A pull request already exists": one opened meanwhile.
            StatusCode::UNPROCESSABLE_ENTITY => self
                .list_prs(project, head)
                .await?
                .into_iter()
                .find(|p| p.state == PrState::Open)
                .ok_or_else(|| failure(&reply, &format!("PR of {head}"))),
            _ => Err(failure(&reply, &format!("PR of {head}"))),
        }
    }

    async fn get_pr(&self, project: &ProjectKey, number: u64) -> Result<PullRequestInfo, GitError> {
        let repo = self.repo(project)?;
        self.pr(&repo, number).await
    }

    async fn list_prs(
        &self,
        project: &ProjectKey,
        head: &str,
    ) -> Result<Vec<PullRequestInfo>, GitError> {
        check_branch(head)?;
        let repo = self.repo(project)?;
        let owner = repo.split('/').next().unwrap_or_default();
        let reply = self
            .call(
                Method::GET,
                format!(
                    "/repos/{repo}/pulls?state=all&per_page=100&head={}",
                    percent(&format!("{owner}:{head}"))
                ),
                None,
            )
            .await?;
        if reply.status != StatusCode::OK {
            return Err(failure(&reply, &format!("PRs of {head}")));
        }
        let mut prs: Vec<PullRequestInfo> = reply
            .json::<Vec<GhPull>>()
            .map_err(GitError::Unavailable)?
            .into_iter()
            .map(PullRequestInfo::from)
            .filter(|p| p.head == head)
            .collect();
        prs.sort_by_key(|p| std::cmp::Reverse(p.number));
        Ok(prs)
    }

    async fn merge_pr(
        &self,
        project: &ProjectKey,
        number: u64,
        expected_head: &str,
    ) -> Result<PullRequestInfo, GitError> {
        let repo = self.repo(project)?;
        let pr = self.pr(&repo, number).await?;
        match pr.state {
            PrState::Merged => return Ok(pr),
            PrState::Closed => {
                return Err(GitError::Conflict(format!("PR #{number} is closed")));
            }
            PrState::Open if pr.head_sha != expected_head => {
                return Err(GitError::Conflict(format!(
                    "PR #{number} moved to {} since it was approved",
                    pr.head_sha
                )));
            }
            PrState::Open => {}
        }
        let reply = self
            .call(
                Method::PUT,
                format!("/repos/{repo}/pulls/{number}/merge"),
                Some(json!({ "sha": expected_head, "merge_method": "merge" })),
            )
            .await?;
        match reply.status.as_u16() {
            200 => self.pr(&repo, number).await,
            405 => {
                // Merged by the previous try whose reply was lost, or really unmergeable.
                let now = self.pr(&repo, number).await?;
                if now.state == PrState::Merged {
                    Ok(now)
                } else {
                    Err(GitError::MergeConflict(format!(
                        "PR #{number} cannot be merged: {}",
                        reply.message()
                    )))
                }
            }
            409 => Err(GitError::Conflict(format!(
                "PR #{number}: {}",
                reply.message()
            ))),
            _ => Err(failure(&reply, &format!("merge of PR #{number}"))),
        }
    }

    async fn close_pr(
        &self,
        project: &ProjectKey,
        number: u64,
    ) -> Result<PullRequestInfo, GitError> {
        let repo = self.repo(project)?;
        let pr = self.pr(&repo, number).await?;
        if pr.state != PrState::Open {
            return Ok(pr);
        }
        let reply = self
            .call(
                Method::PATCH,
                format!("/repos/{repo}/pulls/{number}"),
                Some(json!({ "state": "closed" })),
            )
            .await?;
        match reply.status {
            StatusCode::OK => pr_info(&reply),
            _ => Err(failure(&reply, &format!("PR #{number}"))),
        }
    }
}
