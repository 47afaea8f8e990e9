//! At start, before the reconciler writes anything: the notices a crash cut off between a request's write and the outbox are stored.

use super::Flow;
use crate::service::index::Query;
use app::domain::ids::RequestId;

impl Flow {
    /// Goes through every live request once; the number of notices stored.
    pub async fn recover_notices(&self) -> usize {
        let mut n = 0;
        let mut cursor = None;
        loop {
            let page = self.index.query(&Query {
                limit: 500,
                cursor,
                ..Default::default()
            });
            for row in &page.items {
                match self.repo.get(&row.id).await {
                    Ok(stored) => n += self.notices.recover(&stored.doc).await,
                    Err(e) => tracing::warn!(request = %row.id, "cannot check its notices: {e}"),
                }
            }
            match page.next_cursor.and_then(|c| RequestId::parse(&c).ok()) {
                Some(c) => cursor = Some(c),
                None => return n,
            }
        }
    }
}
