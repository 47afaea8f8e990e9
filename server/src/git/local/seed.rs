//! Creating a project's bare repo from `infra-workflows/template` (plus
//! the `sandbox` overlay) on first use.

use super::cmd::{git_env, run, unavailable};
use super::{LocalGit, MAIN, ZERO};
use crate::git::GitError;
use app::domain::ids::ProjectKey;
use std::path::Path;
use tokio::process::Command;

impl LocalGit {
    pub(super) async fn seed(&self, project: &ProjectKey) -> Result<(), GitError> {
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
