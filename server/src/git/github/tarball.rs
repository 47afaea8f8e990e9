//! A commit's tree from GitHub's tarball (`GET /repos/:repo/tarball/:sha`,
//! a redirect to short-lived storage fetched without credentials), for
//! executors that upload the configuration themselves (HCP Terraform).

use super::GitHubHost;
use super::wire::failure;
use crate::git::{GitError, TreeExport};
use app::domain::ids::ProjectKey;
use async_trait::async_trait;
use http::{Method, StatusCode};
use std::path::{Path, PathBuf};

#[async_trait]
impl TreeExport for GitHubHost {
    async fn export(&self, project: &ProjectKey, sha: &str, dir: &Path) -> Result<(), GitError> {
        if sha.is_empty() || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(GitError::Invalid(format!("`{sha}` is not a commit sha")));
        }
        let repo = self.repo(project)?;
        let reply = self
            .call(Method::GET, format!("/repos/{repo}/tarball/{sha}"), None)
            .await?;
        let bytes = match reply.status.as_u16() {
            200 => reply.body,
            301 | 302 | 303 | 307 => {
                let location = reply
                    .headers
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        GitError::Unavailable("tarball redirect without a location".into())
                    })?;
                let blob = self
                    .client
                    .download(location)
                    .await
                    .map_err(|e| GitError::Unavailable(e.to_string()))?;
                if blob.status != StatusCode::OK {
                    return Err(failure(&blob, &format!("tarball of {sha} in {repo}")));
                }
                blob.body
            }
            _ => return Err(failure(&reply, &format!("tarball of {sha} in {repo}"))),
        };
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || unpack(&bytes, &dir))
            .await
            .map_err(|e| GitError::Unavailable(format!("unpacking the tarball: {e}")))?
    }
}

/// Unpacks a GitHub tarball into `dir` without its top directory
/// (`<owner>-<repo>-<sha>/`); only files and directories, never outside `dir`.
fn unpack(bytes: &[u8], dir: &Path) -> Result<(), GitError> {
    let bad = |e: std::io::Error| GitError::Unavailable(format!("unreadable tarball: {e}"));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.into_owned();
        let inner: PathBuf = path.components().skip(1).collect();
        if inner.as_os_str().is_empty() {
            continue;
        }
        if !inner
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            return Err(GitError::Invalid(format!(
                "the tarball holds a path outside its directory: {}",
                path.display()
            )));
        }
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            continue; // links and GitHub's pax headers
        }
        let target = dir.join(&inner);
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(bad)?;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(bad)?;
        }
        let mut out = std::fs::File::create(&target).map_err(bad)?;
        std::io::copy(&mut entry, &mut out).map_err(bad)?;
    }
    Ok(())
}
