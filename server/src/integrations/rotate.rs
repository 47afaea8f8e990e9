//! `tfpilot keys rotate`: every record not sealed with the current key is
//! opened (with `TFPILOT_MASTER_KEY_OLD`) and sealed again with the
//! current one, one record at a time, each by compare-and-swap. A record
//! is always readable by the old or the new key, so a stopped run leaves
//! nothing behind and the next run finishes the rest. Records that do not
//! open are counted and named.

use super::crypto::Keyring;
use super::store::IntegrationStore;
use super::{open_secrets, seal_secrets};
use crate::ids::Ids;
use crate::store::StoreError;

/// How far a rotation is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Records in the store when the run started.
    pub total: usize,
    /// Records looked at.
    pub seen: usize,
    /// Sealed again with the current key by this run.
    pub rotated: usize,
    /// Sealed with the current key already.
    pub current: usize,
    /// Records that do not open: their key and why.
    pub failed: Vec<(String, String)>,
}

impl Progress {
    /// `rotated 250/1000 (0 already current, 0 failed)`.
    pub fn line(&self) -> String {
        format!(
            "rotated {}/{} ({} already current, {} failed)",
            self.rotated,
            self.total,
            self.current,
            self.failed.len()
        )
    }
}

/// Attempts at one record when it keeps changing under the rotation.
const ATTEMPTS: usize = 10;

/// Rotates every record to `keyring.current`, calling `report` every
/// `every` records and at the end. A store error stops the run (what was
/// rotated stays rotated).
pub async fn rotate(
    store: &IntegrationStore,
    keyring: &Keyring,
    ids: &dyn Ids,
    every: usize,
    report: &mut (dyn FnMut(&Progress) + Send),
) -> Result<Progress, StoreError> {
    let keys = store.keys().await?;
    let mut progress = Progress {
        total: keys.len(),
        ..Progress::default()
    };
    let current = keyring.current.id().to_owned();
    for key in keys {
        for attempt in 1..=ATTEMPTS {
            let Some(stored) = store.get_key(&key).await? else {
                // Deleted meanwhile: nothing to rotate.
                progress.current += 1;
                break;
            };
            let mut record = stored.value;
            if record.secret.key_id == current {
                progress.current += 1;
                break;
            }
            let secrets = match open_secrets(keyring, &record.kind, &record.name, &record.secret) {
                Ok(s) => s,
                Err(e) => {
                    progress.failed.push((key.clone(), e.to_string()));
                    break;
                }
            };
            record.secret = seal_secrets(keyring, ids, &record.kind, &record.name, &secrets);
            record.version += 1;
            match store.put(&record, Some(&stored.etag)).await {
                Ok(_) => {
                    progress.rotated += 1;
                    crate::crash::point(&format!("keys.rotated.{}", progress.rotated));
                    break;
                }
                Err(StoreError::Conflict(_)) if attempt < ATTEMPTS => continue,
                Err(StoreError::Conflict(_)) => {
                    progress.failed.push((
                        key.clone(),
                        format!("changed {ATTEMPTS} times while it was rotated; run again"),
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        progress.seen += 1;
        if every > 0 && progress.seen.is_multiple_of(every) && progress.seen < progress.total {
            report(&progress);
        }
    }
    report(&progress);
    Ok(progress)
}
