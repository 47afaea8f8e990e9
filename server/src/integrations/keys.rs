//! The keyring the server starts with: the configured master key (and the
//! old one while rotating); in the embedded mode with none configured, the
//! key file `<data dir>/master.key`, generated at the first start (mode
//! 0600, create-only) and read back at later ones. In production (S3) with
//! no key there is no keyring: integrations are unavailable.

use super::crypto::{Keyring, MasterKey};
use crate::config::master_key::parse_key;
use crate::config::{Config, ConfigError, KeyBytes, StoreConfig};
use crate::ids::Ids;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The key file's name under the data dir.
pub const KEY_FILE: &str = "master.key";

/// Why the keyring cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// The embedded key file cannot be read, written or parsed.
    #[error("the master key file {path}: {message}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong (never the key).
        message: String,
    },
}

fn key(bytes: &KeyBytes) -> MasterKey {
    MasterKey::new(*bytes.expose())
}

/// The keyring of `config`: `None` when integrations are unavailable (no
/// key and the store is not on disk).
pub fn keyring(config: &Config, ids: &dyn Ids) -> Result<Option<Keyring>, KeyringError> {
    let old = config.master_key.old.as_ref().map(key);
    let current = match (&config.master_key.current, &config.store) {
        (Some(bytes), _) => key(bytes),
        (None, StoreConfig::Fs) => embedded_key(&config.data_dir, ids)?,
        (None, StoreConfig::S3 { .. }) => return Ok(None),
    };
    Ok(Some(Keyring { current, old }))
}

/// The key in `<data_dir>/master.key`, made now if there is none.
pub fn embedded_key(data_dir: &Path, ids: &dyn Ids) -> Result<MasterKey, KeyringError> {
    let path = data_dir.join(KEY_FILE);
    let failed = |message: String| KeyringError::KeyFile {
        path: path.clone(),
        message,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => return read_key(&path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(failed(format!("cannot read it: {e}"))),
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| failed(format!("cannot create the data dir: {e}")))?;
    let made = MasterKey::new(ids.bytes());
    match create_only(&path, &made) {
        Ok(()) => {
            tracing::warn!(
                path = %path.display(),
                key = made.id(),
                "generated the master key of integration credentials at {} (mode 0600): back it up with the data dir — without it the stored credentials cannot be read",
                path.display()
            );
            Ok(made)
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| failed(format!("cannot read it: {e}")))?;
            read_key(&path, &text)
        }
        Err(e) => Err(failed(format!("cannot write it: {e}"))),
    }
}

fn read_key(path: &Path, text: &str) -> Result<MasterKey, KeyringError> {
    let bytes = parse_key("TFPILOT_MASTER_KEY_FILE", text).map_err(|e| KeyringError::KeyFile {
        path: path.to_owned(),
        message: match e {
            ConfigError::Env { message, .. } | ConfigError::File { message, .. } => message,
        },
    })?;
    let made = key(&bytes);
    tracing::debug!(path = %path.display(), key = made.id(), "master key read from its file");
    Ok(made)
}

fn create_only(path: &Path, key: &MasterKey) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(format!("{}\n", key.to_base64()).as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OsIds;

    #[test]
    fn the_embedded_key_is_made_once_with_mode_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let made = embedded_key(&data, &OsIds).unwrap();
        let path = data.join(KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = embedded_key(&data, &OsIds).unwrap();
        assert_eq!(again.id(), made.id());
        assert_eq!(again.to_base64(), made.to_base64());
    }

    #[test]
    fn a_damaged_key_file_is_named_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), "dGVuIGJ5dGVz\n").unwrap();
        let err = embedded_key(dir.path(), &OsIds).unwrap_err().to_string();
        assert!(err.contains("master.key"), "{err}");
        assert!(err.contains("not 32"), "{err}");
        assert!(!err.contains("dGVuIGJ5dGVz"), "{err}");
    }
}
