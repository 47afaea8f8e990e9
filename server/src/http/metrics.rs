//! `GET /metrics` (Prometheus text) and the layer that counts and times
//! every HTTP answer by its route template.
//!
//! The page needs an admin or a token of scope `metrics`
//! (`Operation::ReadMetrics`), or nothing when `TFPILOT_METRICS_PUBLIC`
//! is true.

use super::AppState;
use super::auth::AnyCaller;
use super::error::ApiError;
use crate::meters;
use app::domain::policy::{Operation, decide_operation};
use app::domain::status::Status;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::SharedString;
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};
use std::time::Instant;

/// The exposition format's content type.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The process's metrics as Prometheus text.
#[utoipa::path(
    get,
    path = "/metrics",
    responses(
        (status = 200, description = "Prometheus text exposition format (version 0.0.4): HTTP requests by route template and status with latency histograms, requests by status, step latencies, runs, store operations and errors, compare-and-swap conflicts, calls to GitHub, Slack, HCP Terraform and the model, rate-limit waits, event streams, the outbox and job queue depth, the index size and its refresh lag", content_type = "text/plain", body = String),
        (status = 401, description = "No credentials, or a bad or revoked token (unless `TFPILOT_METRICS_PUBLIC=true`)", body = super::error::ErrorBody),
        (status = 403, description = "Neither an admin nor a token of scope metrics (`metrics.scope`), or a token of scope automation (`scope.automation`)", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn serve(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    if !state.config.metrics_public {
        let (mut parts, _) = request.into_parts();
        let AnyCaller(caller) = AnyCaller::from_request_parts(&mut parts, &state).await?;
        ApiError::from_decision(decide_operation(Operation::ReadMetrics, &caller.0))?;
    }
    let index = state.requests.index();
    let counts = index.counts();
    let by_status: Vec<(&'static str, usize)> = Status::NAMES
        .iter()
        .map(|name| (*name, counts.get(*name).copied().unwrap_or(0)))
        .collect();
    let text = meters::scrape(meters::Scrape {
        by_status: &by_status,
        indexed: index.len(),
    });
    Ok(([(header::CONTENT_TYPE, TEXT_FORMAT)], text).into_response())
}

/// Counts and times every answer by method, route template and status.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = route_label(request.extensions().get::<MatchedPath>());
    let response = next.run(request).await;
    meters::http_request(
        method,
        route,
        status_label(response.status().as_u16()),
        started.elapsed(),
    );
    response
}

/// Every status code's digits, made once.
fn status_label(code: u16) -> &'static str {
    static LABELS: OnceLock<Vec<String>> = OnceLock::new();
    let labels = LABELS.get_or_init(|| (0..1000).map(|c| format!("{c:03}")).collect());
    labels
        .get(usize::from(code))
        .map_or("other", String::as_str)
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The route template as a shared label value, made once per template
/// (templates are few and fixed); `unmatched` for the fallbacks.
fn route_label(matched: Option<&MatchedPath>) -> SharedString {
    const MAX_ROUTES: usize = 512;
    static ROUTES: OnceLock<RwLock<HashMap<String, SharedString>>> = OnceLock::new();
    let Some(path) = matched.map(MatchedPath::as_str) else {
        return SharedString::const_str("unmatched");
    };
    let routes = ROUTES.get_or_init(Default::default);
    if let Some(label) = routes.read().unwrap_or_else(|p| p.into_inner()).get(path) {
        return label.clone();
    }
    let mut routes = routes.write().unwrap_or_else(|p| p.into_inner());
    if routes.len() >= MAX_ROUTES {
        return SharedString::const_str("other");
    }
    let label = SharedString::from(std::sync::Arc::<str>::from(path));
    routes.insert(path.to_owned(), label.clone());
    label
}
