//! `GET /api/v1/events`: a server-sent event per request change, so
//! dashboards patch the rows that changed instead of re-reading the list.
//!
//! Each event is `request` (a new or changed row) or `removed` (archived),
//! with the per-status counts after the change. A client that falls behind
//! gets `resync` and should re-read the list.

use super::AppState;
use super::auth::Caller;
use crate::service::index::Change;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Serialize;
use std::collections::BTreeMap;
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

#[derive(Serialize)]
struct Payload<'a> {
    #[serde(flatten)]
    change: &'a Change,
    counts: BTreeMap<String, usize>,
}

fn event(change: &Change, counts: BTreeMap<String, usize>) -> Event {
    let name = match change {
        Change::Request { .. } => "request",
        Change::Removed { .. } => "removed",
    };
    let data = serde_json::to_string(&Payload { change, counts })
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    Event::default().event(name).data(data)
}

/// The stream of request changes (any signed-in user or token).
#[utoipa::path(
    get,
    path = "/api/v1/events",
    responses(
        (status = 200, description = "`text/event-stream` of `request`, `removed` and `resync` events", content_type = "text/event-stream"),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn stream(
    State(state): State<AppState>,
    _caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let index = state.requests.index().clone();
    let changes = index.subscribe();
    let stream = futures::stream::unfold((changes, index), |(mut changes, index)| async move {
        let event = match changes.recv().await {
            Ok(change) => event(&change, index.counts()),
            Err(RecvError::Lagged(missed)) => Event::default()
                .event("resync")
                .data(format!("{{\"missed\":{missed}}}")),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(event), (changes, index)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
