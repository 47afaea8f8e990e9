//! The metric families: names (Prometheus style, `tfpilot_` prefix,
//! counters ending in `_total`, durations in `_seconds`) and their help.

use metrics::{describe_counter, describe_gauge, describe_histogram};

/// Counter: HTTP answers by `method`, `route` (the route template, never
/// the raw path) and `status`.
pub const HTTP_REQUESTS: &str = "tfpilot_http_requests_total";
/// Histogram: HTTP answer time by `method` and `route`.
pub const HTTP_SECONDS: &str = "tfpilot_http_request_duration_seconds";
/// Gauge: requests by derived `status`.
pub const REQUESTS: &str = "tfpilot_requests";
/// Histogram: the workflow's steps by `step` (`create_to_pr`, `plan`,
/// `apply`, `destroy`).
pub const STEP_SECONDS: &str = "tfpilot_step_duration_seconds";
/// Counter: completed runs by `executor`, `kind` and `conclusion`.
pub const RUNS: &str = "tfpilot_runs_total";
/// Counter: object store calls by `bucket` and `operation`.
pub const STORE_OPERATIONS: &str = "tfpilot_store_operations_total";
/// Counter: object store errors by `bucket` and `kind`.
pub const STORE_ERRORS: &str = "tfpilot_store_errors_total";
/// Counter: compare-and-swap writes that lost to a concurrent writer, by
/// `record`.
pub const CAS_CONFLICTS: &str = "tfpilot_cas_conflicts_total";
/// Counter: compare-and-swap writes tried again after a conflict, by
/// `record`.
pub const CAS_RETRIES: &str = "tfpilot_cas_retries_total";
/// Counter: calls to GitHub, Slack, HCP Terraform and the model by
/// `service` and `outcome` (`ok`, `error`, `rate_limited`).
pub const UPSTREAM_CALLS: &str = "tfpilot_upstream_calls_total";
/// Counter: rate limits waited out (or asked to be), by `service`.
pub const RATE_LIMIT_WAITS: &str = "tfpilot_rate_limit_waits_total";
/// Counter: seconds of those waits, by `service`.
pub const RATE_LIMIT_WAIT_SECONDS: &str = "tfpilot_rate_limit_wait_seconds_total";
/// Gauge: open event streams.
pub const SSE_CLIENTS: &str = "tfpilot_sse_clients";
/// Gauge: notices in the outbox not yet delivered to every notifier.
pub const OUTBOX_PENDING: &str = "tfpilot_outbox_pending";
/// Gauge: remediation jobs queued or running (open job markers).
pub const JOBS_OPEN: &str = "tfpilot_jobs_open";
/// Gauge: rows in the request index.
pub const INDEX_REQUESTS: &str = "tfpilot_index_requests";
/// Gauge: seconds since the index was last refreshed from the store.
pub const INDEX_REFRESH_LAG: &str = "tfpilot_index_refresh_lag_seconds";

/// Gives every family its help text.
pub(super) fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status."
    );
    describe_histogram!(
        HTTP_SECONDS,
        "Time to answer an HTTP request (to its headers), by method and route template."
    );
    describe_gauge!(REQUESTS, "Requests in the index by derived status.");
    describe_histogram!(
        STEP_SECONDS,
        "Workflow step latencies: a request filed to its PR opened, and plan, apply and destroy runs from dispatch to completion."
    );
    describe_counter!(
        RUNS,
        "Terraform runs completed, by executor, kind and conclusion."
    );
    describe_counter!(
        STORE_OPERATIONS,
        "Object store calls by bucket role and operation."
    );
    describe_counter!(
        STORE_ERRORS,
        "Object store errors by bucket role and kind (not_found, conflict, unavailable, invalid)."
    );
    describe_counter!(
        CAS_CONFLICTS,
        "Compare-and-swap writes refused because another writer changed the record first."
    );
    describe_counter!(
        CAS_RETRIES,
        "Compare-and-swap writes read again and retried after a conflict."
    );
    describe_counter!(
        UPSTREAM_CALLS,
        "Calls to GitHub, Slack, HCP Terraform and the model, by service and outcome."
    );
    describe_counter!(
        RATE_LIMIT_WAITS,
        "Rate-limited answers whose wait was taken (or, for Slack, handed to the outbox), by service."
    );
    describe_counter!(
        RATE_LIMIT_WAIT_SECONDS,
        "Seconds of rate-limit waits, by service."
    );
    describe_gauge!(SSE_CLIENTS, "Event streams (/api/v1/events) open now.");
    describe_gauge!(
        OUTBOX_PENDING,
        "Notices in the outbox still to be delivered to some notifier, as of the last pass."
    );
    describe_gauge!(
        JOBS_OPEN,
        "Remediation jobs queued or running (open job markers, counted up to 200), as of the last poll."
    );
    describe_gauge!(INDEX_REQUESTS, "Requests held in the in-memory index.");
    describe_gauge!(
        INDEX_REFRESH_LAG,
        "Seconds since the index was last refreshed from the store."
    );
}
