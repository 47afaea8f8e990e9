//! `GET /api/v1/events`: a server-sent event per request change, so
//! dashboards patch the rows that changed instead of re-reading the list.
//!
//! Each event is `request` (a new or changed row) or `removed` (archived),
//! with the per-status counts, and carries its change number as its `id`.
//! `?after=<n>` (a page passes the number it was rendered at) or a
//! reconnect's `Last-Event-ID` replays the changes after `n` first, so none
//! is missed. The numbers are the shared change log's, so a page
//! rendered by one replica follows on any other. A client that falls
//! behind, or whose number cannot be replayed, gets `resync` and should
//! re-read the list. When the server stops, every stream ends with an
//! event that only sets `retry: 1000`, so EventSources reconnect (to
//! another replica) within a second.

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::projects::Seen;
use crate::service::feed::{Change, Follow};
use crate::service::index::Index;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

fn data(change: &Change, counts: BTreeMap<String, usize>) -> String {
    let payload = app::api::Event {
        change: change.clone(),
        counts,
    };
    serde_json::to_string(&payload).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

fn event(number: u64, change: &Change, data: &str) -> Event {
    Event::default()
        .event(change.kind())
        .id(number.to_string())
        .data(data)
}

/// The data of the newest changes as a caller who sees every project gets
/// it (the change and the counts of the whole index when it was first
/// sent), shared by every stream instead of rendered once per client.
pub struct Rendered {
    kept: std::sync::Mutex<lru::LruCache<u64, Arc<str>>>,
}

impl Default for Rendered {
    fn default() -> Self {
        let kept = std::num::NonZeroUsize::new(crate::service::feed::KEPT)
            .unwrap_or(std::num::NonZeroUsize::MIN);
        Self {
            kept: std::sync::Mutex::new(lru::LruCache::new(kept)),
        }
    }
}

impl Rendered {
    /// Change `number`'s event for a caller who sees `seen`.
    fn event(&self, number: u64, change: &Change, seen: &Seen, index: &Index) -> Event {
        if !matches!(seen, Seen::All) {
            return event(number, change, &data(change, index.counts_in(seen)));
        }
        let kept = self
            .kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&number)
            .cloned();
        let text = kept.unwrap_or_else(|| {
            let text: Arc<str> = data(change, index.counts()).into();
            self.kept
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .put(number, text.clone());
            text
        });
        event(number, change, &text)
    }
}

/// The stream of request changes (any signed-in user or token).
#[utoipa::path(
    get,
    path = "/api/v1/events",
    responses(
        (status = 200, description = "`text/event-stream` of `request`, `removed` and `resync` events", content_type = "text/event-stream"),
        (status = 400, description = "`after` is not a change number", body = super::error::ErrorBody),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
    ),
    params(After),
    security(("bearer" = []))
)]
pub async fn stream(
    State(state): State<AppState>,
    Caller(actor): Caller,
    session: tower_sessions::Session,
    super::error::ApiQuery(query): super::error::ApiQuery<After>,
    headers: axum::http::HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let index = state.requests.index().clone();
    let number = |text: &str| {
        text.parse::<u64>().map_err(|_| ApiError::BadRequest {
            message: format!("`{text}` is not a change number (a whole number from an event's id)"),
            field: Some("after".into()),
        })
    };
    // A reconnecting EventSource says where it stopped; it wins over the
    // number the page was rendered at.
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let after = match resumed.or(query.after.as_deref()) {
        Some(text) => Some(number(text)?),
        None => None,
    };
    let Follow {
        missed,
        live,
        seen: already,
    } = index.changes().follow(after);
    // Changes of projects hidden from the caller are never sent, and the
    // counts are of the projects they see — both as they stand at each
    // change, so a membership given or taken counts at once.
    let projects = state.requests.projects().clone();
    let seen = move |change: &Change| {
        let snapshot = projects.snapshot();
        snapshot
            .policy
            .sees(change.project(), &actor)
            .then(|| projects.seen_by(&actor))
    };
    let rendered = state.rendered.clone();
    let first: Vec<Event> = match missed {
        Some(missed) => missed
            .iter()
            .filter_map(|(n, change)| {
                let seen = seen(change)?;
                Some(rendered.event(*n, change, &seen, &index))
            })
            .collect(),
        None => vec![resync(
            "the changes since this page was loaded are no longer kept",
        )],
    };
    // The caller is checked again every few seconds: a revoked token, a
    // disabled user or a changed password ends the stream.
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stop = state.shutdown.clone();
    let who = (state, headers, session, seen, rendered);
    let live = futures::stream::unfold(
        (live, index, recheck, who),
        move |(mut live, index, mut recheck, who)| async move {
            loop {
                tokio::select! {
                    got = live.recv() => {
                        let event = match got {
                            // Rendered on a replica further along the log.
                            Ok((n, _)) if n <= already => continue,
                            Ok((n, change)) => match (who.3)(&change) {
                                Some(seen) => who.4.event(n, &change, &seen, &index),
                                None => continue,
                            },
                            Err(RecvError::Lagged(missed)) => {
                                resync(&format!("{missed} changes were missed"))
                            }
                            Err(RecvError::Closed) => return None,
                        };
                        return Some((event, (live, index, recheck, who)));
                    }
                    _ = recheck.tick() => {
                        if !super::auth::still_allowed(&who.0, &who.1, &who.2).await {
                            return None;
                        }
                    }
                }
            }
        },
    );
    // At a server stop the stream ends with a reconnection hint, so the
    // EventSource reconnects (to another replica) within a second. It is
    // counted as an open stream until the client goes and it is dropped.
    let client = crate::meters::SseClient::opened();
    let stream = futures::stream::iter(first)
        .chain(live)
        .take_until(stop.clone().cancelled_owned())
        .chain(
            futures::stream::once(async move { stop.is_cancelled() }).filter_map(
                |stopped| async move { stopped.then(|| Event::default().retry(RECONNECT)) },
            ),
        )
        .map(move |e| {
            let _open = &client;
            Ok(e)
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// The reconnection delay a stream's last event asks for at a server stop.
const RECONNECT: std::time::Duration = std::time::Duration::from_secs(1);

/// How often a stream's caller is checked again.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Where to start: after change `after`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct After {
    /// A change number: the page's, when it was rendered (see
    /// `Listing.since`), or an event's `id`.
    #[serde(default)]
    after: Option<String>,
}

fn resync(why: &str) -> Event {
    Event::default()
        .event("resync")
        .data(serde_json::json!({ "reason": why }).to_string())
}
