//! The archive of a configuration version: `envs/<env>/` and `modules/`
//! of one commit, paths relative to the repo root (the workspace's working
//! directory is `envs/<env>`, so `../../modules/<type>` resolves), as a
//! tar.gz.

use crate::git::TreeExport;
use app::domain::ids::{EnvName, ProjectKey};
use std::path::Path;

/// The tar.gz of `environment`'s root and the modules at commit `sha`.
pub async fn build(
    tree: &dyn TreeExport,
    project: &ProjectKey,
    environment: &EnvName,
    sha: &str,
) -> Result<Vec<u8>, String> {
    let checkout =
        tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    tree.export(project, sha, checkout.path())
        .await
        .map_err(|e| format!("cannot read commit {sha}: {e}"))?;
    let env = format!("envs/{}", environment.as_str());
    if !checkout.path().join(&env).is_dir() {
        return Err(format!("commit {sha} has no {env}/ directory"));
    }
    let root = checkout.path().to_owned();
    tokio::task::spawn_blocking(move || pack(&root, &[env.as_str(), "modules"]))
        .await
        .map_err(|e| format!("archive task: {e}"))?
        .map_err(|e| format!("cannot build the configuration archive: {e}"))
}

/// A tar.gz of the directories `dirs` under `root` (missing ones skipped;
/// `.terraform/` and `.git/` never included).
fn pack(root: &Path, dirs: &[&str]) -> std::io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.follow_symlinks(false);
    for dir in dirs {
        if root.join(dir).is_dir() {
            add_dir(&mut tar, root, Path::new(dir))?;
        }
    }
    tar.into_inner()?.finish()
}

fn add_dir<W: std::io::Write>(
    tar: &mut tar::Builder<W>,
    root: &Path,
    rel: &Path,
) -> std::io::Result<()> {
    tar.append_dir(rel, root.join(rel))?;
    let mut entries: Vec<_> = std::fs::read_dir(root.join(rel))?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name == ".terraform" || name == ".git" {
            continue;
        }
        let path = rel.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            add_dir(tar, root, &path)?;
        } else if kind.is_file() {
            tar.append_path_with_name(root.join(&path), &path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn packs_the_environment_and_the_modules_relative_to_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let write = |p: &str, text: &str| {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("envs/dev/main.tf", "# dev");
        write("envs/dev/.terraform/junk", "x");
        write("envs/prod/main.tf", "# prod");
        write("modules/s3-bucket/main.tf", "# module");
        write("README.md", "# repo");
        let bytes = pack(dir.path(), &["envs/dev", "modules"]).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let mut files = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.header().entry_type().is_file() {
                let mut text = String::new();
                entry.read_to_string(&mut text).unwrap();
                files.push((entry.path().unwrap().display().to_string(), text));
            }
        }
        assert_eq!(
            files,
            [
                ("envs/dev/main.tf".to_owned(), "# dev".to_owned()),
                (
                    "modules/s3-bucket/main.tf".to_owned(),
                    "# module".to_owned()
                ),
            ]
        );
    }
}
