//! What call sites record: one small function per fact, with `'static`
//! label values so recording allocates only what the recorder needs.

use super::names;
use std::time::Duration;

/// An outside service tfpilot calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// GitHub's REST API.
    GitHub,
    /// Slack's Web API.
    Slack,
    /// HCP Terraform's API.
    Tfc,
    /// The assistant's model.
    Model,
}

impl Service {
    const ALL: [Service; 4] = [Self::GitHub, Self::Slack, Self::Tfc, Self::Model];

    fn label(self) -> &'static str {
        match self {
            Self::GitHub => "github",
            Self::Slack => "slack",
            Self::Tfc => "tfc",
            Self::Model => "model",
        }
    }
}

/// How one call to an outside service ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An answer that is not an error.
    Ok,
    /// Unreachable, a timeout, an error status or an error answer.
    Error,
    /// A rate limit (429, or GitHub's 403 with its rate-limit headers).
    RateLimited,
}

impl Outcome {
    const ALL: [Outcome; 3] = [Self::Ok, Self::Error, Self::RateLimited];

    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::RateLimited => "rate_limited",
        }
    }

    /// `Ok` for a success or redirect status, `RateLimited` for 429, else
    /// `Error`.
    pub fn of_status(status: u16) -> Self {
        match status {
            200..=399 => Self::Ok,
            429 => Self::RateLimited,
            _ => Self::Error,
        }
    }
}

/// One call to `service` ended with `outcome`.
pub fn upstream_call(service: Service, outcome: Outcome) {
    metrics::counter!(names::UPSTREAM_CALLS, "service" => service.label(), "outcome" => outcome.label())
        .increment(1);
}

/// A rate limit of `service` is waited out for `wait`.
pub fn rate_limit_wait(service: Service, wait: Duration) {
    let service = service.label();
    metrics::counter!(names::RATE_LIMIT_WAITS, "service" => service).increment(1);
    metrics::counter!(names::RATE_LIMIT_WAIT_SECONDS, "service" => service)
        .increment(wait.as_secs());
}

/// An HTTP request to `route` (a route template, or `unmatched`) was
/// answered with `status` after `elapsed`.
pub fn http_request(
    method: &'static str,
    route: metrics::SharedString,
    status: &'static str,
    elapsed: Duration,
) {
    metrics::counter!(names::HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(names::HTTP_SECONDS, "method" => method, "route" => route)
        .record(elapsed.as_secs_f64());
}

/// A step of the workflow (`create_to_pr`, `plan`, `apply`, `destroy`)
/// took `seconds`.
pub fn step(step: &'static str, seconds: f64) {
    metrics::histogram!(names::STEP_SECONDS, "step" => step).record(seconds.max(0.0));
}

/// A run of `kind` on `executor` completed with `conclusion`.
pub fn run_completed(executor: &'static str, kind: &'static str, conclusion: &'static str) {
    metrics::counter!(names::RUNS, "executor" => executor, "kind" => kind, "conclusion" => conclusion)
        .increment(1);
}

/// The object store of `bucket` (`requests`, `chat_logs`) was asked to
/// do `operation` (`get`, `put`, `delete`, `list`, `copy`).
pub fn store_operation(bucket: &'static str, operation: &'static str) {
    metrics::counter!(names::STORE_OPERATIONS, "bucket" => bucket, "operation" => operation)
        .increment(1);
}

/// The object store of `bucket` answered an error of `kind`
/// (`not_found`, `conflict`, `unavailable`, `invalid`).
pub fn store_error(bucket: &'static str, kind: &'static str) {
    metrics::counter!(names::STORE_ERRORS, "bucket" => bucket, "kind" => kind).increment(1);
}

/// A compare-and-swap write of a `record` (`request`, `record`) lost to
/// a concurrent writer; `retried` when it is read and tried again.
pub fn cas_conflict(record: &'static str, retried: bool) {
    metrics::counter!(names::CAS_CONFLICTS, "record" => record).increment(1);
    if retried {
        metrics::counter!(names::CAS_RETRIES, "record" => record).increment(1);
    }
}

/// The outbox holds `n` notices not yet delivered everywhere.
pub fn outbox_pending(n: usize) {
    metrics::gauge!(names::OUTBOX_PENDING).set(n as f64);
}

/// `n` remediation jobs are open.
pub fn jobs_open(n: usize) {
    metrics::gauge!(names::JOBS_OPEN).set(n as f64);
}

/// One open event stream: counted while it lives.
#[derive(Debug)]
pub struct SseClient(());

impl SseClient {
    /// Counts a stream that just opened; dropping it counts it closed.
    pub fn opened() -> Self {
        metrics::gauge!(names::SSE_CLIENTS).increment(1.0);
        Self(())
    }
}

impl Drop for SseClient {
    fn drop(&mut self) {
        metrics::gauge!(names::SSE_CLIENTS).decrement(1.0);
    }
}

/// The store buckets and error kinds, and the outside services, present
/// at zero from the start so rates and alerts work before the first event.
pub(super) fn preset() {
    for service in Service::ALL {
        for outcome in Outcome::ALL {
            metrics::counter!(names::UPSTREAM_CALLS, "service" => service.label(), "outcome" => outcome.label())
                .absolute(0);
        }
        metrics::counter!(names::RATE_LIMIT_WAITS, "service" => service.label()).absolute(0);
        metrics::counter!(names::RATE_LIMIT_WAIT_SECONDS, "service" => service.label()).absolute(0);
    }
    for bucket in ["requests", "chat_logs"] {
        for kind in ["not_found", "conflict", "unavailable", "invalid"] {
            metrics::counter!(names::STORE_ERRORS, "bucket" => bucket, "kind" => kind).absolute(0);
        }
    }
    for record in ["request", "record"] {
        metrics::counter!(names::CAS_CONFLICTS, "record" => record).absolute(0);
    }
    // Only request documents are retried in place; other records' callers
    // read again themselves.
    metrics::counter!(names::CAS_RETRIES, "record" => "request").absolute(0);
    for gauge in [names::SSE_CLIENTS, names::OUTBOX_PENDING, names::JOBS_OPEN] {
        metrics::gauge!(gauge).increment(0.0);
    }
}
