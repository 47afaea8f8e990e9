//! Integration credentials stored encrypted: the kinds and their fields
//! (`kinds.rs`), AES-256-GCM sealing bound to the record (`crypto.rs`),
//! the master keys the server starts with (`keys.rs`), the records in the
//! store (`store.rs`), the re-encryption of every record under a new
//! key (`rotate.rs`, `tfpilot keys rotate`), and what the adapters read:
//! each kind's value (`values.rs`) held in a [`live::Live`] handle, filled
//! from the environment or the stored `default` record
//! (`credentials.rs`).

pub mod check;
pub mod credentials;
pub mod crypto;
pub mod keys;
pub mod kinds;
pub mod live;
pub mod rotate;
pub mod store;
pub mod values;

use crate::ids::Ids;
use crypto::{Keyring, OpenError, Sealed};
use std::collections::BTreeMap;

/// The secret fields of a record, by name.
pub type Secrets = BTreeMap<String, String>;

/// Seals the secret fields of `kind/name` as one JSON object.
pub fn seal_secrets(
    keyring: &Keyring,
    ids: &dyn Ids,
    kind: &str,
    name: &str,
    secrets: &Secrets,
) -> Sealed {
    // A map of strings always serializes.
    let plaintext = serde_json::to_vec(secrets).unwrap_or_default();
    keyring.seal(ids, kind, name, &plaintext)
}

/// Opens the secret fields of `kind/name`.
pub fn open_secrets(
    keyring: &Keyring,
    kind: &str,
    name: &str,
    sealed: &Sealed,
) -> Result<Secrets, OpenError> {
    let plaintext = keyring.open(kind, name, sealed)?;
    // Authenticated bytes are ours: only a seal of another format would
    // not read back.
    serde_json::from_slice(&plaintext).map_err(|_| OpenError::Tampered {
        key_id: sealed.key_id.clone(),
    })
}
