//! One body limit for every route (the API, the forms, `/auth/*`, server
//! functions, webhooks), whatever extractor reads the body: a declared
//! length over [`BODY_LIMIT`] is refused before anything is read, and a
//! body without one (chunked) is cut at the limit while it is read. Either
//! way the answer is a 413 that says so — JSON, or a page for a browser —
//! never an extractor's plain-text rejection or a 500, and nothing is
//! stored because no handler got its input.

use super::error::{BODY_LIMIT, too_large};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Bounds the request's body (see the module docs).
pub async fn bounded_body(req: Request, next: axum::middleware::Next) -> Response {
    let page = wants_page(req.headers());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return refusal(page);
    }
    let cut = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let seen = cut.clone();
    let body = http_body_util::Limited::new(body, BODY_LIMIT).map_err(move |e| {
        if e.is::<http_body_util::LengthLimitError>() {
            seen.store(true, Ordering::Relaxed);
        }
        e
    });
    let response = next.run(Request::from_parts(parts, Body::new(body))).await;
    // Whatever the handler answered to a body cut short (axum's
    // plain-text 413, a server function's 500), the answer is ours.
    if cut.load(Ordering::Relaxed) {
        return refusal(page);
    }
    response
}

/// Whether the caller is a browser asking for a page (a form post).
fn wants_page(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

fn refusal(page: bool) -> Response {
    let error = too_large();
    if !page {
        return error.into_response();
    }
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Too large · tfpilot</title>\
         <link rel=\"stylesheet\" href=\"/pkg/tfpilot.css\"></head>\
         <body><main><h1>Too large</h1>\
         <p class=\"error\" role=\"alert\">Not sent: {error}. Go back, shorten what you entered and send it again.</p>\
         <p><a href=\"/\">tfpilot</a></p></main></body></html>\n"
    );
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}
