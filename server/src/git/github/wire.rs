//! GitHub's JSON as the host reads it (refs, commits, contents, pulls),
//! status-to-error mapping, and path encoding.

use crate::git::{GitError, PullRequestInfo};
use crate::github::Reply;
use app::domain::request::PrState;
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct GhRef {
    pub(super) object: GhObject,
}

#[derive(Deserialize)]
pub(super) struct GhObject {
    pub(super) sha: String,
}

#[derive(Deserialize)]
pub(super) struct GhCommit {
    pub(super) tree: GhObject,
}

#[derive(Deserialize)]
pub(super) struct GhContent {
    #[serde(rename = "type")]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) content: String,
    #[serde(default)]
    pub(super) encoding: String,
    pub(super) sha: String,
}

#[derive(Deserialize)]
pub(super) struct GhPull {
    pub(super) number: u64,
    pub(super) html_url: String,
    pub(super) state: String,
    pub(super) title: String,
    #[serde(default)]
    pub(super) body: Option<String>,
    #[serde(default)]
    pub(super) merged: bool,
    #[serde(default)]
    pub(super) merged_at: Option<String>,
    pub(super) merge_commit_sha: Option<String>,
    pub(super) head: GhBranch,
    pub(super) base: GhBranch,
}

#[derive(Deserialize)]
pub(super) struct GhBranch {
    #[serde(rename = "ref")]
    pub(super) name: String,
    pub(super) sha: String,
}

impl From<GhPull> for PullRequestInfo {
    fn from(p: GhPull) -> Self {
        let merged = p.merged || p.merged_at.is_some();
        let state = match (p.state.as_str(), merged) {
            (_, true) => PrState::Merged,
            ("open", _) => PrState::Open,
            _ => PrState::Closed,
        };
        Self {
            number: p.number,
            url: p.html_url,
            head: p.head.name,
            base: p.base.name,
            head_sha: p.head.sha,
            merged_sha: if merged { p.merge_commit_sha } else { None },
            state,
            title: p.title,
            body: p.body.unwrap_or_default(),
        }
    }
}

pub(super) fn pr_info(reply: &Reply) -> Result<PullRequestInfo, GitError> {
    Ok(reply
        .json::<GhPull>()
        .map_err(GitError::Unavailable)?
        .into())
}

/// The error a non-success reply stands for.
pub(super) fn failure(reply: &Reply, what: &str) -> GitError {
    let message = format!("{what}: {}", reply.message());
    match reply.status.as_u16() {
        404 => GitError::NotFound(message),
        409 => GitError::Conflict(message),
        422 => GitError::Invalid(message),
        401 | 403 => GitError::Unavailable(format!(
            "{message} (GitHub refused the credentials: check the token or App permissions)"
        )),
        _ => GitError::Unavailable(message),
    }
}

pub(super) fn encode_path(path: &str) -> String {
    path.split('/').map(percent).collect::<Vec<_>>().join("/")
}

/// Percent-encodes everything but unreserved characters.
pub(super) fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_refs_are_encoded() {
        assert_eq!(
            encode_path("envs/dev/tfpilot.s3.tf"),
            "envs/dev/tfpilot.s3.tf"
        );
        assert_eq!(percent("request/AB-r2"), "request%2FAB-r2");
        assert_eq!(percent("a b&c"), "a%20b%26c");
    }
}
