//! AES-256-GCM sealing of integration secrets: a random 96-bit nonce per
//! seal (from the `Ids` port), the master key's id stored beside the
//! ciphertext, and the record's kind and name bound as associated data so
//! a ciphertext cannot be moved to another record. Opening never returns
//! garbage: an unknown key or a failed authentication is a typed error.

use crate::ids::Ids;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A 256-bit master key and its id (`k` + 8 hex characters of a SHA-256
/// over the key), which is all that is ever shown of it.
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    key: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    /// The key made of these bytes.
    pub fn new(key: [u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"tfpilot-master-key-id:")
            .chain_update(key)
            .finalize();
        let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            id: format!("k{hex}"),
            key,
        }
    }

    /// Its short stable id, such as `k3fa9c1d2`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key as base64, for the key file the embedded mode writes.
    pub fn to_base64(&self) -> String {
        B64.encode(self.key)
    }
}

/// The current master key, and the one before it while records are rotated.
#[derive(Debug, Clone)]
pub struct Keyring {
    /// New seals use it.
    pub current: MasterKey,
    /// Still opens the records sealed before a rotation.
    pub old: Option<MasterKey>,
}

/// A secret as stored: which key, the nonce and the ciphertext (with its
/// tag), both base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// The id of the master key it was sealed with.
    pub key_id: String,
    /// 12 random bytes, base64.
    pub nonce: String,
    /// AES-256-GCM ciphertext and tag, base64.
    pub ciphertext: String,
}

/// Why a sealed secret does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Sealed with a key this server does not hold.
    #[error(
        "encrypted with key {key_id}, which is neither TFPILOT_MASTER_KEY ({current}) nor TFPILOT_MASTER_KEY_OLD{}",
        old.as_ref().map_or(" (not set)".to_owned(), |o| format!(" ({o})"))
    )]
    UnknownKey {
        /// The record's key id.
        key_id: String,
        /// The current key's id.
        current: String,
        /// The old key's id, if set.
        old: Option<String>,
    },
    /// The key is known but the ciphertext does not authenticate.
    #[error("does not decrypt with key {key_id}: wrong key, or the record was altered or moved")]
    Tampered {
        /// The record's key id.
        key_id: String,
    },
}

/// The associated data binding a ciphertext to its record and key.
fn associated(kind: &str, name: &str, key_id: &str) -> Vec<u8> {
    format!("tfpilot-integration:v1:{kind}/{name}:{key_id}").into_bytes()
}

fn cipher(key: &MasterKey) -> Aes256Gcm {
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.key))
}

impl Keyring {
    /// A keyring of one key.
    pub fn single(current: MasterKey) -> Self {
        Self { current, old: None }
    }

    /// The held key of this id.
    pub fn key(&self, id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current)
            .chain(self.old.as_ref())
            .find(|k| k.id == id)
    }

    /// Seals `plaintext` for the record `kind/name` with the current key
    /// and a fresh random nonce.
    pub fn seal(&self, ids: &dyn Ids, kind: &str, name: &str, plaintext: &[u8]) -> Sealed {
        let key = &self.current;
        let nonce: [u8; 12] = ids.bytes();
        let aad = associated(kind, name, &key.id);
        // Encryption fails only for a plaintext beyond GCM's 64 GiB limit;
        // secrets are bounded by the kinds' field lengths far below it.
        let ciphertext = cipher(key)
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        Sealed {
            key_id: key.id.clone(),
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(ciphertext),
        }
    }

    /// Opens a secret sealed for the record `kind/name`.
    pub fn open(&self, kind: &str, name: &str, sealed: &Sealed) -> Result<Vec<u8>, OpenError> {
        let key = self
            .key(&sealed.key_id)
            .ok_or_else(|| OpenError::UnknownKey {
                key_id: sealed.key_id.clone(),
                current: self.current.id.clone(),
                old: self.old.as_ref().map(|k| k.id.clone()),
            })?;
        let tampered = || OpenError::Tampered {
            key_id: sealed.key_id.clone(),
        };
        let nonce = B64.decode(&sealed.nonce).map_err(|_| tampered())?;
        let ciphertext = B64.decode(&sealed.ciphertext).map_err(|_| tampered())?;
        if nonce.len() != 12 {
            return Err(tampered());
        }
        let aad = associated(kind, name, &key.id);
        cipher(key)
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| tampered())
    }
}

#[cfg(test)]
mod tests;
