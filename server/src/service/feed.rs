//! The numbered feed of index changes behind `/api/v1/events`.
//!
//! Every change gets the next number. The newest [`KEPT`] are kept, so a
//! page can follow the changes from the number it was rendered at (and a
//! reconnecting `EventSource` from its `Last-Event-ID`): nothing that
//! happened between the render and the stream opening is missed. Numbers
//! belong to one server process; a number this process never gave out (a
//! restart, another replica) or one too old to replay means "re-read".
//! The index publishes here; a change is already its wire shape
//! ([`Change`]), so the feed knows nothing of the index.

pub use app::api::Change;
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::broadcast;

/// Changes kept for late and slow followers before they must re-read.
pub const KEPT: usize = 1024;

/// A change and its number.
pub type Numbered = (u64, Change);

/// What a follower gets: the kept changes after its number (or `None`
/// when some are gone: re-read), then every new one.
pub struct Follow {
    /// Changes to replay first; `None` when the follower must re-read.
    pub missed: Option<Vec<Numbered>>,
    /// New changes.
    pub live: broadcast::Receiver<Numbered>,
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

    /// Numbers and sends a change.
    pub fn publish(&self, change: Change) {
        let mut kept = self.kept();
        kept.last += 1;
        let numbered = (kept.last, change);
        if kept.changes.len() == KEPT {
            kept.changes.pop_front();
        }
        kept.changes.push_back(numbered.clone());
        // No follower is not an error.
        let _ = self.live.send(numbered);
    }

    /// The number of the newest change (0 before any).
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
            Some(n) if n > kept.last => None,
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
        Follow { missed, live }
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
            feed.follow(Some(feed.last() + 7)).missed,
            None,
            "another process's number"
        );
    }
}
