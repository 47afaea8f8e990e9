//! `MemoryNotifier`: keeps every notice in memory, in order, for tests to read.

use super::{Notice, NoticeKind, Notifier, NotifyError};
use async_trait::async_trait;
use std::sync::Mutex;

/// Records notices.
#[derive(Debug, Default)]
pub struct MemoryNotifier {
    notices: Mutex<Vec<Notice>>,
}

impl MemoryNotifier {
    /// None recorded.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every notice so far, in order.
    pub fn notices(&self) -> Vec<Notice> {
        self.notices
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The event names so far, in order.
    pub fn events(&self) -> Vec<&'static str> {
        self.notices()
            .iter()
            .map(|n| NoticeKind::as_str(n.kind))
            .collect()
    }
}

#[async_trait]
impl Notifier for MemoryNotifier {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn notify(&self, notice: &Notice) -> Result<(), NotifyError> {
        self.notices
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(notice.clone());
        Ok(())
    }
}
