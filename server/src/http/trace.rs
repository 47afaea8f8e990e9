//! Every HTTP request runs in an `http` span carrying its `request_id`
//! (the caller's `X-Request-Id` when it is a sane token, else a fresh one;
//! echoed back in the answer's `X-Request-Id`), its `trace_id` (from a
//! valid W3C `traceparent`, else fresh), the method, the route template
//! (never the raw path: ids stay out of it) and, once the caller is known,
//! the `actor` ([`super::auth`] records it). One `http request` line per
//! answer gives its status and latency (at `debug` for the probes,
//! `/healthz` and `/readyz`).

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

/// The header a request id comes in and goes back in.
const REQUEST_ID: &str = "x-request-id";
/// The longest caller-chosen request id kept.
const MAX_REQUEST_ID: usize = 128;

/// The caller's request id if it is 1 to 128 visible ASCII characters.
pub fn sane_request_id(value: &str) -> Option<&str> {
    (!value.is_empty()
        && value.len() <= MAX_REQUEST_ID
        && value.bytes().all(|b| b.is_ascii_graphic()))
    .then_some(value)
}

/// The trace id of a valid W3C `traceparent`
/// (`<version>-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, lower
/// case, neither id all zeros, version not `ff`; version `00` has exactly
/// these four parts, later versions may add more).
pub fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let zeros = |s: &str| s.bytes().all(|b| b == b'0');
    let ok = hex(version, 2)
        && version != "ff"
        && (version != "00" || parts.next().is_none())
        && hex(trace, 32)
        && !zeros(trace)
        && hex(parent, 16)
        && !zeros(parent)
        && hex(flags, 2);
    ok.then_some(trace)
}

/// The `http` span of a request, in its extensions (other layers' spans
/// may be the current one where the caller becomes known).
#[derive(Clone)]
struct RequestSpan(tracing::Span);

/// Records `login` as the `actor` of the request's `http` span.
pub(super) fn record_actor(parts: &axum::http::request::Parts, login: &str) {
    if let Some(RequestSpan(span)) = parts.extensions.get::<RequestSpan>() {
        span.record("actor", login);
    }
}

/// The middleware: runs the rest of the request in its span and echoes
/// the request id.
pub async fn request_span(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    // Read in a block: a borrow of the request (not `Sync`) must not live
    // across the await below.
    let (request_id, trace, route) = {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = header(REQUEST_ID)
            .as_deref()
            .and_then(sane_request_id)
            .map_or_else(|| state.ids.random_hex(16), str::to_owned);
        let trace = header("traceparent")
            .as_deref()
            .and_then(trace_id)
            .map_or_else(|| state.ids.random_hex(16), str::to_owned);
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or("(unmatched)", |p| p.as_str())
            .to_owned();
        (request_id, trace, route)
    };
    let method = request.method().clone();
    let span = tracing::info_span!(
        "http",
        request_id = %request_id,
        trace_id = %trace,
        method = %method,
        route = %route.as_str(),
        actor = tracing::field::Empty,
    );
    let started = std::time::Instant::now();
    request.extensions_mut().insert(RequestSpan(span.clone()));
    let mut response = next.run(request).instrument(span.clone()).await;
    let (status, latency_ms) = (
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0,
    );
    span.in_scope(|| {
        // Probes come every few seconds from every load balancer.
        if matches!(route.as_str(), "/healthz" | "/readyz") {
            tracing::debug!(status, latency_ms, "http request")
        } else {
            tracing::info!(status, latency_ms, "http request")
        }
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_is_kept_when_short_and_visible() {
        let long = "a".repeat(129);
        let cases = [
            ("abc123", true),
            ("0f8e-7a:x/y_z", true),
            (&long[..128], true),
            (long.as_str(), false),
            ("", false),
            ("with space", false),
            ("tab\there", false),
            ("é", false),
        ];
        for (value, kept) in cases {
            assert_eq!(sane_request_id(value).is_some(), kept, "{value:?}");
        }
    }

    #[test]
    fn a_traceparent_gives_its_trace_id_only_when_valid() {
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        let cases = [
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                Some(trace),
            ),
            (
                " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00 ",
                Some(trace),
            ),
            (
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
                Some(trace),
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
                None,
            ),
            (
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                None,
            ),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                None,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                None,
            ),
            (
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                None,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
                None,
            ),
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", None),
            ("garbage", None),
        ];
        for (value, want) in cases {
            assert_eq!(trace_id(value), want, "{value:?}");
        }
    }
}
