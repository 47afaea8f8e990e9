//! The log output: `TFPILOT_LOG_FORMAT` picks human-readable lines (`text`,
//! the default) or one JSON object per line (`json`), each carrying the
//! fields of the spans it happened in (an HTTP request's `request_id`,
//! `trace_id`, `route` and `actor`). `TFPILOT_LOG` filters either
//! (`info,tower_http=warn` when unset).
//!
//! Lifecycle lines carry an `event` field with a stable name (README,
//! "Lifecycle events in the logs"): the notice kinds (`request.created`,
//! `plan.succeeded`, …) and the server's own, named here.

/// The server's own lifecycle events.
pub mod event {
    /// The server listens.
    pub const SERVER_STARTED: &str = "server.started";
    /// A stop was asked for (SIGTERM, Ctrl-C): connections are no longer
    /// accepted and the background work is told to stop.
    pub const SERVER_STOPPING: &str = "server.stopping";
    /// Everything stopped (or the shutdown limit ran out); the process ends.
    pub const SERVER_STOPPED: &str = "server.stopped";
    /// The request index is loaded at start.
    pub const INDEX_LOADED: &str = "index.loaded";
    /// A remediation job was claimed by a worker.
    pub const JOB_CLAIMED: &str = "job.claimed";
    /// A remediation job ended (or was handed back at a stop).
    pub const JOB_FINISHED: &str = "job.finished";
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// `TFPILOT_LOG_FORMAT` (`text` when unset or empty); anything else is
    /// an error naming the variable and the allowed values.
    pub fn parse(value: Option<&str>) -> Result<LogFormat, String> {
        match value.map(str::trim) {
            None | Some("") | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!(
                "TFPILOT_LOG_FORMAT: `{other}` is not a log format; use text or json"
            )),
        }
    }

    /// Reads `TFPILOT_LOG_FORMAT` from the process environment.
    pub fn from_env() -> Result<LogFormat, String> {
        Self::parse(std::env::var("TFPILOT_LOG_FORMAT").ok().as_deref())
    }
}

/// Installs the global subscriber: `format` lines on standard error
/// (text in colour only when it is a terminal), filtered by `TFPILOT_LOG`.
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TFPILOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        // Colours only for a person at a terminal, not in a log file.
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_text_json_or_refused_naming_the_variable() {
        let cases: [(Option<&str>, Result<LogFormat, &str>); 6] = [
            (None, Ok(LogFormat::Text)),
            (Some(""), Ok(LogFormat::Text)),
            (Some("text"), Ok(LogFormat::Text)),
            (Some(" json "), Ok(LogFormat::Json)),
            (Some("JSON"), Err("`JSON`")),
            (Some("logfmt"), Err("`logfmt`")),
        ];
        for (value, want) in cases {
            match (LogFormat::parse(value), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{value:?}"),
                (Err(e), Err(named)) => {
                    assert!(e.starts_with("TFPILOT_LOG_FORMAT"), "{e}");
                    assert!(e.contains(named) && e.contains("text or json"), "{e}");
                }
                (got, want) => panic!("{value:?}: {got:?}, want {want:?}"),
            }
        }
    }
}
