//! The SSE clients: each holds `GET /api/v1/events` open and notes, with
//! as little parsing as it can, which request ids its `request` events
//! named and how many `resync` events came.

use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::watch;

/// What one client received.
#[derive(Default)]
pub struct Received {
    /// The stream answered 200.
    pub opened: bool,
    /// Still open when the run ended.
    pub open_at_end: bool,
    /// Why it could not open or ended early.
    pub error: Option<String>,
    /// `request` events.
    pub events: u64,
    /// `resync` events.
    pub resyncs: u64,
    /// Distinct request ids named by `request` events.
    pub ids: HashSet<String>,
}

/// The request ids a client's events named so far, shared with the run
/// (which waits until every client has every created request).
pub type Seen = std::sync::Arc<std::sync::Mutex<HashSet<String>>>;

/// The request id in a `request` event's data: the row's `id`, found by
/// a plain search (the row comes before the counts).
fn row_id(block: &str) -> Option<&str> {
    let row = block.find("\"row\":{")?;
    let rest = &block[row..];
    let start = rest.find("\"id\":\"")? + 6;
    let len = rest[start..].find('"')?;
    Some(&rest[start..start + len])
}

/// Notes one event block (the text between blank lines).
fn note(block: &str, into: &mut Received, seen: &Seen) {
    let kind = block
        .lines()
        .find_map(|l| l.strip_prefix("event:"))
        .map(str::trim);
    match kind {
        Some("request") => {
            into.events += 1;
            if let Some(id) = row_id(block)
                && !into.ids.contains(id)
            {
                into.ids.insert(id.to_owned());
                seen.lock().unwrap().insert(id.to_owned());
            }
        }
        Some("resync") => into.resyncs += 1,
        _ => {}
    }
}

/// Opens the stream; returns once it answered (`ready` is sent then) and
/// reads it in the background until `stop` turns true.
pub async fn client(
    http: reqwest::Client,
    url: String,
    token: String,
    ready: tokio::sync::mpsc::Sender<bool>,
    mut stop: watch::Receiver<bool>,
    seen: Seen,
) -> Received {
    let mut got = Received::default();
    let res = http
        .get(&url)
        .bearer_auth(&token)
        .timeout(Duration::from_secs(3600))
        .send()
        .await;
    let mut res = match res {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => {
            got.error = Some(format!("status {}", r.status()));
            let _ = ready.send(false).await;
            return got;
        }
        Err(e) => {
            got.error = Some(format!("transport: {e}"));
            let _ = ready.send(false).await;
            return got;
        }
    };
    got.opened = true;
    let _ = ready.send(true).await;
    drop(ready);
    let mut buffer: Vec<u8> = Vec::with_capacity(8192);
    loop {
        tokio::select! {
            chunk = res.chunk() => match chunk {
                Ok(Some(bytes)) => {
                    buffer.extend_from_slice(&bytes);
                    let mut from = 0;
                    while let Some(end) = buffer[from..].windows(2).position(|w| w == b"\n\n") {
                        let block = String::from_utf8_lossy(&buffer[from..from + end]);
                        note(&block, &mut got, &seen);
                        from += end + 2;
                    }
                    buffer.drain(..from);
                }
                Ok(None) => {
                    got.error = Some("the server ended the stream".into());
                    return got;
                }
                Err(e) => {
                    got.error = Some(format!("transport: {e}"));
                    return got;
                }
            },
            _ = stop.wait_for(|s| *s) => {
                got.open_at_end = true;
                return got;
            }
        }
    }
}
