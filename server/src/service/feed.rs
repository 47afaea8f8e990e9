//! The numbered feed of index changes behind `/api/v1/events`.
//!
//! Every change has a number, and numbers only grow. The newest [`KEPT`]
//! are kept, so a page can follow the changes from the number it was
//! rendered at (and a reconnecting `EventSource` from its
//! `Last-Event-ID`): nothing that happened between the render and the
//! stream opening is missed. The numbers are the shared change log's
//! (`service::index::log`), the same on every replica, so a page rendered
//! by one replica follows on another; a number a little ahead of this
//! replica (its log is a moment behind) skips what it already covers, and
//! one too old to replay, or far ahead of anything written, means
//! "re-read". An index with no log numbers its own changes ([`Feed::publish`]).
//! The index publishes here; a change is already its wire shape
//! ([`Change`]), so the feed knows nothing of the index.

pub use app::api::Change;
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::broadcast;

/// Changes kept for late and slow followers before they must re-read.
pub const KEPT: usize = 1024;

/// How far ahead of this feed a follower's number may be and still be
/// taken as the log's (a replica a moment behind), rather than re-read.
pub const AHEAD: u64 = 1 << 24;

/// A change and its number.
pub type Numbered = (u64, Change);

/// What a follower gets: the kept changes after its number (or `None`
/// when some are gone: re-read), then every new one.
pub struct Follow {
    /// Changes to replay first; `None` when the follower must re-read.
    pub missed: Option<Vec<Numbered>>,
    /// New changes; those numbered up to [`Follow::seen`] are the
    /// follower's already.
    pub live: broadcast::Receiver<Numbered>,
    /// The follower's number when it is ahead of this feed: live changes
    /// up to it are not news to it.
    pub seen: u64,
}

/// The feed.
pub struct Feed {
    kept: Mutex<Kept>,
    live: broadcast::Sender<Numbered>,
}

#[derive(Default)]
struct Kept {
    last: u64,
    changes: VecDeque<Numbered>,
}

impl Default for Feed {
    fn default() -> Self {
        Self {
            kept: Mutex::default(),
            live: broadcast::channel(KEPT).0,
        }
    }
}

impl Feed {
    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Numbers a change with the next number and sends it (an index with
    /// no change log).
    pub fn publish(&self, change: Change) {
        let number = self.kept().last + 1;
        self.publish_at(number, change);
    }

    /// Sends a change under `number`, the change log's; a number not above
    /// the newest is dropped (numbers only grow).
    pub fn publish_at(&self, number: u64, change: Change) {
        let mut kept = self.kept();
        if number <= kept.last {
            return;
        }
        kept.last = number;
        let numbered = (number, change);
        if kept.changes.len() == KEPT {
            kept.changes.pop_front();
        }
        kept.changes.push_back(numbered.clone());
        // No follower is not an error.
        let _ = self.live.send(numbered);
    }

    /// Moves the feed's position to `number` without a change: the log
    /// was read up to it (its changes were not news here).
    pub fn reached(&self, number: u64) {
        let mut kept = self.kept();
        kept.last = kept.last.max(number);
    }

    /// The feed's position: the number of the newest change, or of the
    /// log's newest record read (0 before any).
    pub fn last(&self) -> u64 {
        self.kept().last
    }

    /// Follows the feed after change `after` (from now on when `None`).
    pub fn follow(&self, after: Option<u64>) -> Follow {
        let kept = self.kept();
        // Subscribing under the lock: no change falls between the replay
        // and the live receiver, and none comes twice.
        let live = self.live.subscribe();
        let missed = match after {
            None => Some(Vec::new()),
            Some(n) if n > kept.last.saturating_add(AHEAD) => None,
            // Ahead: this replica has not read the log that far yet.
            Some(n) if n > kept.last => Some(Vec::new()),
            Some(n) => {
                let oldest = kept.changes.front().map_or(kept.last + 1, |(k, _)| *k);
                (n + 1 >= oldest).then(|| {
                    kept.changes
                        .iter()
                        .filter(|(k, _)| *k > n)
                        .cloned()
                        .collect()
                })
            }
        };
        Follow {
            missed,
            live,
            seen: after.unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::ids::RequestId;

    fn removed(n: u64) -> Change {
        Change::Removed {
            id: RequestId::generate(1_700_000_000_000 + n, 1).to_string(),
            project: "sandbox".into(),
        }
    }

    #[test]
    fn a_follower_gets_what_it_missed_then_what_is_new() {
        let feed = Feed::default();
        feed.publish(removed(1));
        let rendered_at = feed.last();
        feed.publish(removed(2));
        let mut follow = feed.follow(Some(rendered_at));
        assert_eq!(follow.missed, Some(vec![(2, removed(2))]));
        feed.publish(removed(3));
        assert_eq!(follow.live.try_recv().unwrap(), (3, removed(3)));
        assert_eq!(feed.follow(None).missed, Some(vec![]));
    }

    #[test]
    fn numbers_too_old_or_never_given_mean_reread() {
        let feed = Feed::default();
        for n in 0..(KEPT as u64 + 5) {
            feed.publish(removed(n));
        }
        assert_eq!(feed.follow(Some(1)).missed, None, "too old to replay");
        assert_eq!(feed.follow(Some(5)).missed.map(|m| m.len()), Some(KEPT));
        assert_eq!(
            feed.follow(Some(feed.last() + AHEAD + 1)).missed,
            None,
            "a number far beyond anything written"
        );
    }

    #[test]
    fn a_follower_ahead_of_the_feed_gets_only_what_is_past_its_number() {
        let feed = Feed::default();
        feed.publish_at(256, removed(1));
        let mut follow = feed.follow(Some(600));
        assert_eq!(follow.missed, Some(vec![]));
        assert_eq!(follow.seen, 600);
        feed.publish_at(512, removed(2));
        feed.publish_at(768, removed(3));
        // The stream drops what is not past `seen`; the feed sends both.
        assert_eq!(follow.live.try_recv().unwrap().0, 512);
        assert_eq!(follow.live.try_recv().unwrap().0, 768);
        // Numbers only grow; a position moves without a change.
        feed.publish_at(700, removed(4));
        assert_eq!(feed.last(), 768);
        feed.reached(1023);
        assert_eq!(feed.last(), 1023);
        feed.publish(removed(5));
        assert_eq!(feed.last(), 1024);
    }
}
