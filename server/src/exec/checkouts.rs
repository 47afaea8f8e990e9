//! Run checkouts (`<dir>/runs/<run>/checkout-<random>`), each guarded by an
//! exclusive `flock` on its sibling `checkout-<random>.lock` for as long
//! as its run lasts. The lock is the operating system's: it ends with the
//! process, so a checkout whose lock can be taken belongs to a run that a
//! crash or a kill left behind, and is swept at start-up — while a
//! checkout of a run in another live process sharing the data dir is left
//! alone.

use std::fs::File;
use std::path::{Path, PathBuf};

/// A checkout directory and the held lock that marks it in use; dropping
/// it releases the lock (the directory is removed by its run).
pub struct Checkout {
    /// The directory.
    pub dir: PathBuf,
    lock: PathBuf,
    _held: File,
}

impl Checkout {
    /// A fresh checkout path under `run_dir`, locked before the directory
    /// exists (so a sweep never sees it unlocked).
    pub fn reserve(run_dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(run_dir)?;
        loop {
            let name = format!("checkout-{:08x}", fastrand::u32(..));
            let lock = run_dir.join(format!("{name}.lock"));
            let held = open(&lock)?;
            match held.try_lock() {
                Ok(()) => {}
                // Taken by another run a moment ago: pick another name.
                Err(std::fs::TryLockError::WouldBlock) => continue,
                // A filesystem without locks: say so instead of spinning.
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
            // A sweep may have removed the file between its opening and its
            // locking: the lock counts only on the file still at the path.
            if same_file(&held, &lock) {
                return Ok(Self {
                    dir: run_dir.join(name),
                    lock,
                    _held: held,
                });
            }
        }
    }

    /// Removes the directory, then the lock file.
    pub async fn remove(self) -> std::io::Result<()> {
        let removed = match tokio::fs::remove_dir_all(&self.dir).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
        let _ = tokio::fs::remove_file(&self.lock).await;
        removed
    }
}

/// Removes the checkouts under `<dir>/runs/*/` that no live process holds;
/// returns how many. Unreadable entries are skipped (logged), never fatal.
pub fn sweep(dir: &Path) -> usize {
    let Ok(runs) = std::fs::read_dir(dir.join("runs")) else {
        return 0;
    };
    let mut swept = 0;
    for run in runs.flatten() {
        let Ok(entries) = std::fs::read_dir(run.path()) else {
            continue;
        };
        // A checkout's directory, its lock file, or both.
        let names: std::collections::BTreeSet<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|n| n.starts_with("checkout-"))
            .map(|n| n.trim_end_matches(".lock").to_owned())
            .collect();
        for name in names {
            let dir = run.path().join(&name);
            match sweep_one(&dir, &run.path().join(format!("{name}.lock"))) {
                Ok(true) => swept += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!("cannot sweep {}: {e}", dir.display()),
            }
        }
    }
    swept
}

/// Removes one checkout when its lock can be taken (its run is dead);
/// whether there was a directory to remove.
fn sweep_one(dir: &Path, lock: &Path) -> std::io::Result<bool> {
    let file = open(lock)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(false),
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
    }
    let removed = match std::fs::remove_dir_all(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    };
    match std::fs::remove_file(lock) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(removed),
    }
}

fn open(lock: &Path) -> std::io::Result<File> {
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock)
}

fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_checkouts_are_swept_and_live_ones_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let runs = tmp.path().join("runs");
        // Left by a killed process: no lock file, or one nobody holds.
        let dead = runs.join("r1-plan-1/checkout-0badc0de");
        std::fs::create_dir_all(dead.join("envs/dev")).unwrap();
        std::fs::write(dead.join("envs/dev/main.tf"), "# x").unwrap();
        std::fs::write(runs.join("r1-plan-1/log.txt"), "log").unwrap();
        let unlocked = runs.join("r2-apply-1/checkout-00000001");
        std::fs::create_dir_all(&unlocked).unwrap();
        std::fs::write(runs.join("r2-apply-1/checkout-00000001.lock"), "").unwrap();
        // In use by a live run (this process holds its lock).
        let live = Checkout::reserve(&runs.join("r3-plan-2")).unwrap();
        std::fs::create_dir_all(&live.dir).unwrap();

        // A lock file whose directory is already gone (killed in between).
        std::fs::write(runs.join("r2-apply-1/checkout-00000002.lock"), "").unwrap();

        assert_eq!(sweep(tmp.path()), 2);
        assert!(!dead.exists() && !unlocked.exists());
        assert!(!runs.join("r2-apply-1/checkout-00000001.lock").exists());
        assert!(!runs.join("r2-apply-1/checkout-00000002.lock").exists());
        assert!(live.dir.exists(), "a held checkout is left alone");
        assert_eq!(
            std::fs::read_to_string(runs.join("r1-plan-1/log.txt")).unwrap(),
            "log",
            "the run's log stays"
        );
        assert_eq!(sweep(tmp.path()), 0, "nothing left to sweep");
    }

    #[tokio::test]
    async fn a_removed_checkout_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let checkout = Checkout::reserve(tmp.path()).unwrap();
        std::fs::create_dir_all(checkout.dir.join("x")).unwrap();
        checkout.remove().await.unwrap();
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn no_runs_dir_is_nothing_to_sweep() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(sweep(tmp.path()), 0);
    }
}
