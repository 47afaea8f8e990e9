//! `LogNotifier` (a log line per notice) and `NoopNotifier` (nothing).

use super::{Notice, Notifier};
use async_trait::async_trait;

/// Writes one `info` line per notice: the event, the request's
/// coordinates and its link (no secrets, no inputs).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn notify(&self, notice: &Notice) {
        tracing::info!(
            event = notice.kind.as_str(),
            request = %notice.request,
            project = %notice.project,
            environment = %notice.environment,
            module = %notice.module,
            link = %notice.link,
            "request notice"
        );
    }
}

/// Drops every notice.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopNotifier;

#[async_trait]
impl Notifier for NoopNotifier {
    async fn notify(&self, _notice: &Notice) {}
}
