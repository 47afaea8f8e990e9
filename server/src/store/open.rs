//! Opens the configured stores: directories under the data dir, or S3.

use super::fs::FsStore;
use super::metered::Metered;
use super::s3::{S3Store, client};
use super::{ObjectStore, StoreError};
use crate::config::{Config, StoreConfig};
use std::sync::Arc;

/// The two buckets tfpilot uses.
#[derive(Clone)]
pub struct Stores {
    /// Requests, history, index snapshot, users, tokens, audit.
    pub requests: Arc<dyn ObjectStore>,
    /// Chat transcripts (always encrypted at rest on S3).
    pub chat_logs: Arc<dyn ObjectStore>,
}

/// Opens the stores `config` names, each counted by its bucket role
/// ([`Metered`]).
pub async fn open(config: &Config) -> Result<Stores, StoreError> {
    let stores = open_raw(config).await?;
    Ok(Stores {
        requests: Arc::new(Metered::new(stores.requests, "requests")),
        chat_logs: Arc::new(Metered::new(stores.chat_logs, "chat_logs")),
    })
}

async fn open_raw(config: &Config) -> Result<Stores, StoreError> {
    Ok(match &config.store {
        StoreConfig::Fs => {
            let root = config.data_dir.join("store");
            Stores {
                requests: Arc::new(FsStore::open(root.join("requests"))?),
                chat_logs: Arc::new(FsStore::open(root.join("chat-logs"))?),
            }
        }
        StoreConfig::S3 {
            requests_bucket,
            chat_logs_bucket,
            requests_sse,
            settings,
        } => {
            let client = client(settings).await;
            Stores {
                requests: Arc::new(S3Store::new(client.clone(), requests_bucket, *requests_sse)),
                chat_logs: Arc::new(S3Store::new(client, chat_logs_bucket, true)),
            }
        }
    })
}
