//! The prompt cache: the model's answer to a description, kept in the
//! store under `assistant-cache/<sha256>.json` and keyed by the SHA-256 of
//! the normalized description, the registry's hash, the model's name, the
//! project and the environment. It is bounded by count: past the bound the
//! least recently used entries are removed. A cache, never a source of
//! truth: an entry that cannot be read or written is a miss, and every
//! answer from it is checked again like a new one.

use super::Proposal;
use crate::store::{ObjectStore, Precondition, StoreError, list_all};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::Mutex;

/// Where the entries live.
pub const PREFIX: &str = "assistant-cache/";

/// What a cache key is made of.
#[derive(Debug, Clone, Copy)]
pub struct KeyParts<'a> {
    /// The description as typed.
    pub text: &'a str,
    /// The registry's hash ([`registry_hash`]).
    pub registry: &'a str,
    /// The model's name.
    pub model: &'a str,
    /// The project, if known.
    pub project: Option<&'a str>,
    /// The environment, if known.
    pub environment: Option<&'a str>,
    /// The module the requester chose, if any.
    pub module: Option<&'a str>,
}

/// `text` lowercased with its blanks collapsed: the same question typed
/// twice hits the same entry.
pub fn normalize(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The hex SHA-256 of the parts, each length-prefixed so no two sets of
/// parts run together.
pub fn key(parts: KeyParts<'_>) -> String {
    let mut h = Sha256::new();
    for part in [
        normalize(parts.text).as_str(),
        parts.registry,
        parts.model,
        parts.project.unwrap_or(""),
        parts.environment.unwrap_or(""),
        parts.module.unwrap_or(""),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex(&h.finalize())
}

/// The hex SHA-256 of the registry as loaded (a changed module changes
/// every key).
pub fn registry_hash(registry: &app::domain::registry::Registry) -> String {
    let bytes = serde_json::to_vec(&registry.modules).unwrap_or_default();
    hex(&Sha256::digest(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    model: String,
    proposal: Proposal,
}

/// Use order of the entries this process knows of: listed ones first (the
/// oldest), then each by its last use.
#[derive(Default)]
struct Recency {
    loaded: bool,
    tick: u64,
    by_tick: BTreeMap<u64, String>,
    by_key: HashMap<String, u64>,
}

impl Recency {
    fn touch(&mut self, key: &str) {
        if let Some(old) = self.by_key.remove(key) {
            self.by_tick.remove(&old);
        }
        self.tick += 1;
        self.by_tick.insert(self.tick, key.to_owned());
        self.by_key.insert(key.to_owned(), self.tick);
    }

    fn oldest(&mut self) -> Option<String> {
        let (_, key) = self.by_tick.pop_first()?;
        self.by_key.remove(&key);
        Some(key)
    }
}

/// The model's answers, bounded by count.
pub struct PromptCache {
    store: Arc<dyn ObjectStore>,
    max: usize,
    recency: Mutex<Recency>,
}

impl PromptCache {
    /// A cache in `store` holding at most `max` answers (0: none).
    pub fn new(store: Arc<dyn ObjectStore>, max: usize) -> Self {
        Self {
            store,
            max,
            recency: Mutex::new(Recency::default()),
        }
    }

    fn path(key: &str) -> String {
        format!("{PREFIX}{key}.json")
    }

    /// The answer kept under `key`, if any.
    pub async fn get(&self, key: &str) -> Option<Proposal> {
        if self.max == 0 {
            return None;
        }
        let object = match self.store.get(&Self::path(key)).await {
            Ok(o) => o,
            Err(StoreError::NotFound(_)) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "the prompt cache cannot be read; asking the model");
                return None;
            }
        };
        let entry: Entry = serde_json::from_slice(&object.bytes).ok()?;
        self.recency.lock().await.touch(key);
        Some(entry.proposal)
    }

    /// Keeps `proposal` under `key`, then removes the least recently used
    /// entries past the bound.
    pub async fn put(&self, key: &str, model: &str, proposal: &Proposal) {
        if self.max == 0 {
            return;
        }
        let entry = Entry {
            model: model.to_owned(),
            proposal: proposal.clone(),
        };
        let Ok(bytes) = serde_json::to_vec(&entry) else {
            return;
        };
        let mut recency = self.recency.lock().await;
        if !recency.loaded {
            match list_all(self.store.as_ref(), PREFIX).await {
                Ok(entries) => {
                    for e in entries {
                        if let Some(k) = e
                            .key
                            .strip_prefix(PREFIX)
                            .and_then(|k| k.strip_suffix(".json"))
                        {
                            recency.touch(k);
                        }
                    }
                    recency.loaded = true;
                }
                Err(e) => tracing::warn!(error = %e, "the prompt cache cannot be listed"),
            }
        }
        if let Err(e) = self
            .store
            .put(&Self::path(key), bytes.into(), Precondition::None)
            .await
        {
            tracing::warn!(error = %e, "the prompt cache cannot be written");
            return;
        }
        recency.touch(key);
        while recency.by_key.len() > self.max {
            let Some(old) = recency.oldest() else { break };
            match self.store.delete(&Self::path(&old)).await {
                Ok(()) | Err(StoreError::NotFound(_)) => {}
                Err(e) => tracing::warn!(error = %e, "a prompt cache entry cannot be removed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> KeyParts<'_> {
        KeyParts {
            text,
            registry: "r1",
            model: "m",
            project: Some("p"),
            environment: Some("dev"),
            module: None,
        }
    }

    #[test]
    fn the_key_ignores_case_and_blanks_and_holds_every_part() {
        assert_eq!(
            key(parts("A  bucket\tfor logs ")),
            key(parts("a bucket for logs"))
        );
        assert_ne!(
            key(parts("a bucket for logs")),
            key(parts("a bucket for dumps"))
        );
        let base = key(parts("x"));
        assert_ne!(
            base,
            key(KeyParts {
                model: "n",
                ..parts("x")
            })
        );
        assert_ne!(
            base,
            key(KeyParts {
                registry: "r2",
                ..parts("x")
            })
        );
        assert_ne!(
            base,
            key(KeyParts {
                project: None,
                ..parts("x")
            })
        );
        assert_ne!(
            base,
            key(KeyParts {
                environment: Some("prod"),
                ..parts("x")
            })
        );
        assert_ne!(
            base,
            key(KeyParts {
                module: Some("s3-bucket"),
                ..parts("x")
            })
        );
        assert_eq!(base.len(), 64);
    }
}
