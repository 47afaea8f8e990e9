//! Stand-in for `service::policies::Policies` until it lands: the stored
//! policies, read from `policies/<name>.json`. Removed at the merge.

use crate::store::{ObjectStore, StoreError, list_all};
use app::domain::remediation_stub::Remediation;
use std::sync::Arc;

/// Why the policies could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the remediation policies: {0}")]
pub struct PoliciesError(#[from] StoreError);

/// The stored remediation policies.
#[derive(Clone)]
pub struct Policies {
    store: Arc<dyn ObjectStore>,
}

impl Policies {
    /// Over the requests bucket.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    /// Every readable policy.
    pub async fn all(&self) -> Result<Vec<Remediation>, PoliciesError> {
        let mut out = Vec::new();
        for entry in list_all(self.store.as_ref(), "policies/").await? {
            let obj = self.store.get(&entry.key).await?;
            match serde_json::from_slice(&obj.bytes) {
                Ok(p) => out.push(p),
                Err(e) => tracing::warn!(key = %entry.key, "unreadable policy: {e}"),
            }
        }
        Ok(out)
    }
}
