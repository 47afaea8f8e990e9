//! `LogNotifier` (a log line per notice) and `NoopNotifier` (nothing).

use super::{Notice, Notifier, NotifyError};
use async_trait::async_trait;

/// Writes one `info` line per notice: the event, the request's
/// coordinates and its link (no secrets, no inputs).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn notify(&self, notice: &Notice) -> Result<(), NotifyError> {
        tracing::info!(
            event = notice.kind.as_str(),
            request = %notice.request,
            project = %notice.project,
            environment = %notice.environment,
            module = %notice.module,
            link = %notice.link,
            "request notice"
        );
        Ok(())
    }
}

/// Drops every notice.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopNotifier;

#[async_trait]
impl Notifier for NoopNotifier {
    fn name(&self) -> &'static str {
        "noop"
    }

    async fn notify(&self, _notice: &Notice) -> Result<(), NotifyError> {
        Ok(())
    }
}
