//! The disk adapter (embedded default): one directory per bucket, the same
//! semantics as S3 — also between processes sharing the directory.
//!
//! - etag = SHA-256 of the content, so equal bytes have equal tags;
//! - writes go to a temp file, are fsynced, then renamed over the target
//!   (and the directory fsynced), so a crash never leaves half a document;
//! - every check-and-swap runs under an exclusive `flock` on `<root>/.lock`.

use super::{Entry, Object, ObjectStore, Page, Precondition, StoreError, check_key};
use async_trait::async_trait;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A bucket on disk.
pub struct FsStore {
    root: PathBuf,
}

fn unavailable(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{what} {}: {e}", path.display()))
}

/// The entity tag of `bytes`.
pub fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl FsStore {
    /// Opens (creating) the bucket directory `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        std::fs::create_dir_all(root.join(".tmp"))
            .map_err(|e| unavailable("cannot create", &root, e))?;
        Ok(Self { root })
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    /// Runs `f` on a blocking thread under the bucket's exclusive lock.
    async fn locked<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Path) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let root = self.root.clone();
        blocking(move || {
            let lock_path = root.join(".lock");
            let lock = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(|e| unavailable("cannot open", &lock_path, e))?;
            lock.lock()
                .map_err(|e| unavailable("cannot lock", &lock_path, e))?;
            f(&root)
            // The lock is released when `lock` is dropped.
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Unavailable(format!("store worker failed: {e}")))?
}

fn read(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::NotADirectory => {
            Ok(None)
        }
        Err(e) => Err(unavailable("cannot read", path, e)),
    }
}

/// Writes `bytes` to `path` atomically and durably.
fn write_atomic(root: &Path, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let parent = path.parent().unwrap_or(root);
    std::fs::create_dir_all(parent).map_err(|e| unavailable("cannot create", parent, e))?;
    let tmp = root.join(".tmp").join(format!(
        "{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        File::open(parent)?.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(unavailable("cannot write", path, e));
    }
    Ok(())
}

fn check(key: &str, current: Option<&[u8]>, cond: &Precondition) -> Result<(), StoreError> {
    match (cond, current) {
        (Precondition::None, _) => Ok(()),
        (Precondition::IfAbsent, None) => Ok(()),
        (Precondition::IfAbsent, Some(_)) => Err(StoreError::Conflict(key.to_owned())),
        (Precondition::IfMatch(_), None) => Err(StoreError::NotFound(key.to_owned())),
        (Precondition::IfMatch(etag), Some(bytes)) if etag_of(bytes) == *etag => Ok(()),
        (Precondition::IfMatch(_), Some(_)) => Err(StoreError::Conflict(key.to_owned())),
    }
}

/// Every key under `dir` (relative to `root`), skipping dot entries.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

#[async_trait]
impl ObjectStore for FsStore {
    async fn get(&self, key: &str) -> Result<Object, StoreError> {
        let path = self.path(key)?;
        let key = key.to_owned();
        blocking(move || match read(&path)? {
            Some(bytes) => Ok(Object {
                etag: etag_of(&bytes),
                bytes: bytes.into(),
            }),
            None => Err(StoreError::NotFound(key)),
        })
        .await
    }

    async fn put(&self, key: &str, bytes: Bytes, cond: Precondition) -> Result<String, StoreError> {
        let path = self.path(key)?;
        let key = key.to_owned();
        self.locked(move |root| {
            if cond != Precondition::None {
                check(&key, read(&path)?.as_deref(), &cond)?;
            }
            write_atomic(root, &path, &bytes)?;
            Ok(etag_of(&bytes))
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        self.locked(move |_| match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(unavailable("cannot delete", &path, e)),
        })
        .await
    }

    async fn list(
        &self,
        prefix: &str,
        token: Option<String>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        blocking(move || {
            // Only walk the directory the prefix is in.
            let dir = match prefix.rfind('/') {
                Some(i) => root.join(&prefix[..i]),
                None => root.clone(),
            };
            let mut keys = Vec::new();
            walk(&root, &dir, &mut keys).map_err(|e| unavailable("cannot list", &dir, e))?;
            keys.retain(|k| k.starts_with(&prefix) && token.as_ref().is_none_or(|t| k > t));
            keys.sort_unstable();
            let more = keys.len() > limit;
            keys.truncate(limit.max(1));
            let mut entries = Vec::with_capacity(keys.len());
            for key in keys {
                // A key deleted since the walk is simply not listed.
                if let Some(bytes) = read(&root.join(&key))? {
                    entries.push(Entry {
                        etag: etag_of(&bytes),
                        size: bytes.len() as u64,
                        key,
                    });
                }
            }
            let next = if more {
                entries.last().map(|e| e.key.clone())
            } else {
                None
            };
            Ok(Page { entries, next })
        })
        .await
    }

    async fn copy(&self, from: &str, to: &str) -> Result<String, StoreError> {
        let (src, dst) = (self.path(from)?, self.path(to)?);
        let from = from.to_owned();
        self.locked(move |root| {
            let bytes = read(&src)?.ok_or(StoreError::NotFound(from))?;
            write_atomic(root, &dst, &bytes)?;
            Ok(etag_of(&bytes))
        })
        .await
    }

    fn describe(&self) -> String {
        format!("fs:{}", self.root.display())
    }
}
