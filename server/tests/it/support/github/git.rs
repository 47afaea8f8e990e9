//! The fake's storage: a real bare git repository per GitHub repo, driven
//! with the git CLI (objects, trees, refs with compare-and-swap, merges).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// A bare repository.
#[derive(Debug, Clone)]
pub struct BareRepo {
    pub dir: PathBuf,
}

pub struct Out {
    pub ok: bool,
    pub stdout: String,
}

impl BareRepo {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("--git-dir")
            .arg(&self.dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "GitHub")
            .env("GIT_AUTHOR_EMAIL", "noreply@github.com")
            .env("GIT_COMMITTER_NAME", "GitHub")
            .env("GIT_COMMITTER_EMAIL", "noreply@github.com")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs git with `input` on stdin.
    pub async fn git_in(&self, args: &[&str], input: &[u8], env: &[(&str, &Path)]) -> Out {
        let mut cmd = self.cmd(args);
        for (k, v) in env {
            cmd.env(k, v);
            if *k == "GIT_WORK_TREE" {
                cmd.current_dir(v);
            }
        }
        let mut child = cmd.spawn().expect("git runs");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input).await.expect("write stdin");
        drop(stdin);
        let out = child.wait_with_output().await.expect("git finishes");
        Out {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        }
    }

    pub async fn git(&self, args: &[&str]) -> Out {
        self.git_in(args, b"", &[]).await
    }

    /// Creates the repo with one commit on `main` holding `dirs` layered in order.
    pub async fn create(dir: PathBuf, layers: &[PathBuf]) -> BareRepo {
        let repo = BareRepo { dir };
        std::fs::create_dir_all(&repo.dir).unwrap();
        assert!(repo.git(&["init", "--bare", "-q", "-b", "main"]).await.ok);
        let work = tempfile::tempdir().unwrap();
        for layer in layers {
            copy_dir(layer, work.path());
        }
        let index = work.path().join(".index");
        let env = [
            ("GIT_INDEX_FILE", index.as_path()),
            ("GIT_WORK_TREE", work.path()),
        ];
        assert!(repo.git_in(&["add", "-A"], b"", &env).await.ok);
        let tree = repo.git_in(&["write-tree"], b"", &env).await.stdout;
        let commit = repo
            .git_in(&["commit-tree", &tree, "-m", "Initial commit"], b"", &[])
            .await
            .stdout;
        assert!(
            repo.git(&["update-ref", "refs/heads/main", &commit])
                .await
                .ok
        );
        repo
    }

    pub async fn head(&self, branch: &str) -> Option<String> {
        let out = self
            .git(&[
                "rev-parse",
                "--verify",
                "-q",
                &format!("refs/heads/{branch}^{{commit}}"),
            ])
            .await;
        out.ok.then_some(out.stdout)
    }

    /// `git archive --format=tar.gz` of `commit` under `prefix/`, as GitHub's
    /// tarball endpoint serves it.
    pub async fn tarball(&self, commit: &str, prefix: &str) -> Option<Vec<u8>> {
        let out = self
            .cmd(&[
                "archive",
                "--format=tar.gz",
                &format!("--prefix={prefix}/"),
                commit,
            ])
            .output()
            .await
            .expect("git runs");
        out.status.success().then_some(out.stdout)
    }

    /// Resolves a branch name or sha to a commit.
    pub async fn resolve(&self, rev: &str) -> Option<String> {
        if let Some(head) = self.head(rev).await {
            return Some(head);
        }
        let out = self
            .git(&["rev-parse", "--verify", "-q", &format!("{rev}^{{commit}}")])
            .await;
        out.ok.then_some(out.stdout)
    }

    /// Moves (or creates, with `old` = None) a ref atomically.
    pub async fn set_ref(&self, branch: &str, new: &str, old: Option<&str>) -> bool {
        let name = format!("refs/heads/{branch}");
        let zero = "0000000000000000000000000000000000000000";
        self.git(&["update-ref", &name, new, old.unwrap_or(zero)])
            .await
            .ok
    }

    pub async fn is_ancestor(&self, a: &str, b: &str) -> bool {
        self.git(&["merge-base", "--is-ancestor", a, b]).await.ok
    }

    pub async fn object_type(&self, spec: &str) -> Option<String> {
        let out = self.git(&["cat-file", "-t", spec]).await;
        out.ok.then_some(out.stdout)
    }

    pub async fn blob_bytes(&self, spec: &str) -> Option<Vec<u8>> {
        let out = self
            .cmd(&["cat-file", "blob", spec])
            .output()
            .await
            .expect("git runs");
        out.status.success().then_some(out.stdout)
    }

    pub async fn tree_of(&self, commit: &str) -> Option<String> {
        let out = self
            .git(&["rev-parse", "--verify", "-q", &format!("{commit}^{{tree}}")])
            .await;
        out.ok.then_some(out.stdout)
    }

    /// The parents of a commit, first parent first.
    pub async fn parents_of(&self, commit: &str) -> Vec<String> {
        let out = self
            .git(&["rev-list", "--parents", "-n", "1", commit, "--"])
            .await;
        out.stdout
            .split_whitespace()
            .skip(1)
            .map(str::to_owned)
            .collect()
    }

    pub async fn blob_sha(&self, spec: &str) -> Option<String> {
        let out = self.git(&["rev-parse", "--verify", "-q", spec]).await;
        out.ok.then_some(out.stdout)
    }

    /// A new tree: `base` with files written (`Some`) or removed (`None`).
    pub async fn write_tree(&self, base: &str, entries: &[(String, Option<String>)]) -> String {
        let tmp = tempfile::tempdir().unwrap();
        let index = tmp.path().join("index");
        let env = [("GIT_INDEX_FILE", index.as_path())];
        assert!(self.git_in(&["read-tree", base], b"", &env).await.ok);
        for (path, content) in entries {
            match content {
                Some(text) => {
                    let blob = self
                        .git_in(&["hash-object", "-w", "--stdin"], text.as_bytes(), &[])
                        .await
                        .stdout;
                    let info = format!("100644,{blob},{path}");
                    assert!(
                        self.git_in(&["update-index", "--add", "--cacheinfo", &info], b"", &env)
                            .await
                            .ok
                    );
                }
                None => {
                    // Mode 0 removes the entry (no work tree needed).
                    let line = format!("0 {}\t{path}\n", "0".repeat(40));
                    assert!(
                        self.git_in(&["update-index", "--index-info"], line.as_bytes(), &env)
                            .await
                            .ok
                    );
                }
            }
        }
        self.git_in(&["write-tree"], b"", &env).await.stdout
    }

    pub async fn commit_tree(&self, tree: &str, parents: &[&str], message: &str) -> String {
        let mut args = vec!["commit-tree", tree];
        for p in parents {
            args.push("-p");
            args.push(p);
        }
        args.push("-m");
        args.push(message);
        self.git(&args).await.stdout
    }

    /// The tree of merging `theirs` into `ours`, or `None` on a conflict.
    pub async fn merge_tree(&self, ours: &str, theirs: &str) -> Option<String> {
        let out = self
            .git(&["merge-tree", "--write-tree", ours, theirs])
            .await;
        out.ok
            .then(|| out.stdout.lines().next().unwrap_or_default().to_owned())
    }

    /// Writes the tree of `rev` into `dest`.
    pub async fn export(&self, rev: &str, dest: &Path) {
        let archive = self
            .cmd(&["archive", "--format=tar", rev])
            .output()
            .await
            .expect("git archive");
        assert!(archive.status.success(), "git archive {rev}");
        let mut tar = Command::new("tar")
            .arg("-x")
            .arg("-C")
            .arg(dest)
            .stdin(Stdio::piped())
            .spawn()
            .expect("tar");
        let mut stdin = tar.stdin.take().unwrap();
        stdin.write_all(&archive.stdout).await.unwrap();
        drop(stdin);
        assert!(tar.wait().await.unwrap().success());
    }

    /// Commits on `branch` (a test's direct push, as a person would).
    pub async fn push_file(
        &self,
        branch: &str,
        path: &str,
        content: &str,
        message: &str,
    ) -> String {
        let head = self.head(branch).await.expect("branch exists");
        let base = self.tree_of(&head).await.unwrap();
        let tree = self
            .write_tree(&base, &[(path.to_owned(), Some(content.to_owned()))])
            .await;
        let commit = self.commit_tree(&tree, &[&head], message).await;
        assert!(self.set_ref(branch, &commit, Some(&head)).await);
        commit
    }

    /// Number of commits reachable from `rev` but not from `base`.
    pub async fn count(&self, base: &str, rev: &str) -> usize {
        self.git(&["rev-list", "--count", &format!("{base}..{rev}")])
            .await
            .stdout
            .parse()
            .unwrap_or(0)
    }

    /// Branch names.
    pub async fn branches(&self) -> Vec<String> {
        self.git(&["for-each-ref", "--format=%(refname:short)", "refs/heads/"])
            .await
            .stdout
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
