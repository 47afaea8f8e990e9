//! One key's counter and the rule it follows, as pure functions of the
//! time: free failures up to the key's maximum, then a block that doubles
//! with each further failure, one attempt at a time after a block, and a
//! key forgotten after a quiet while.

use super::{FIRST_WAIT, FORGET, MAX_WAIT, STALE};
use serde::{Deserialize, Serialize};
use std::time::Duration;

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// The block after `level` failures past the free ones (level 1 is the
/// failure that reaches the maximum).
pub fn backoff(level: u32) -> Duration {
    if level == 0 {
        return Duration::ZERO;
    }
    let doubled = FIRST_WAIT
        .checked_mul(1u32.checked_shl(level - 1).unwrap_or(u32::MAX))
        .unwrap_or(MAX_WAIT);
    doubled.min(MAX_WAIT)
}

/// One key's counter.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Slot {
    /// Failures counted.
    pub(super) failures: u32,
    /// Attempts reserved and not settled yet.
    pub(super) running: u32,
    /// Last reservation or failure (unix ms).
    pub(super) touched: u64,
    /// No attempt before this (unix ms).
    pub(super) blocked_until: u64,
}

impl Slot {
    /// The counter as of `now`: unsettled attempts older than [`STALE`]
    /// dropped, and a key quiet for [`FORGET`] forgotten.
    pub(super) fn fresh(mut self, now: u64) -> Slot {
        if self.running > 0 && now.saturating_sub(self.touched) > ms(STALE) {
            self.running = 0;
        }
        if self.running == 0 && now >= self.touched.max(self.blocked_until) + ms(FORGET) {
            return Slot::default();
        }
        self
    }

    /// Takes a slot, or says how many milliseconds to wait.
    pub(super) fn reserve(&mut self, max: u32, now: u64) -> Result<(), u64> {
        if now < self.blocked_until {
            return Err(self.blocked_until - now);
        }
        // Below the maximum, as many at once as failures are left; past it
        // (after a block), one at a time.
        let room = max.saturating_sub(self.failures).max(1);
        if self.running >= room {
            // If the running ones all fail, this is the block they bring.
            let level = (self.failures + self.running + 1).saturating_sub(max);
            return Err(ms(backoff(level.max(1))));
        }
        self.running += 1;
        self.touched = now;
        Ok(())
    }

    /// A reserved attempt failed.
    pub(super) fn fail(&mut self, max: u32, now: u64) {
        self.running = self.running.saturating_sub(1);
        self.failures += 1;
        self.touched = now;
        if self.failures >= max {
            let block = now + ms(backoff(self.failures - max + 1));
            self.blocked_until = self.blocked_until.max(block);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60_000;

    #[test]
    fn the_block_doubles_from_a_minute_up_to_fifteen() {
        let table = [
            (0, 0),
            (1, 1),
            (2, 2),
            (3, 4),
            (4, 8),
            (5, 15),
            (6, 15),
            (40, 15),
            (u32::MAX, 15),
        ];
        for (level, minutes) in table {
            assert_eq!(backoff(level), Duration::from_secs(minutes * 60), "{level}");
        }
    }

    /// Failures one after another, each after the previous block ended:
    /// the wait each one brings.
    #[test]
    fn failures_past_the_maximum_block_longer_and_longer() {
        let mut slot = Slot::default();
        let mut now = 1_000_000;
        let mut waits = Vec::new();
        for _ in 0..9 {
            slot.reserve(5, now).expect("not blocked");
            slot.fail(5, now);
            waits.push(slot.blocked_until.saturating_sub(now) / MIN);
            now = now.max(slot.blocked_until);
        }
        assert_eq!(waits, [0, 0, 0, 0, 1, 2, 4, 8, 15]);
    }

    #[test]
    fn a_blocked_key_says_how_long_to_wait() {
        let mut slot = Slot::default();
        let now = 1_000_000;
        for _ in 0..5 {
            slot.reserve(5, now).unwrap();
            slot.fail(5, now);
        }
        assert_eq!(slot.reserve(5, now + 1_000), Err(MIN - 1_000));
        assert_eq!(slot.reserve(5, now + MIN), Ok(()), "the block ended");
        assert_eq!(
            slot.reserve(5, now + MIN),
            Err(2 * MIN),
            "one at a time after a block; if it fails the block is two minutes"
        );
    }

    #[test]
    fn attempts_in_flight_hold_their_slots() {
        let mut slot = Slot::default();
        let now = 1_000_000;
        for _ in 0..5 {
            slot.reserve(5, now).unwrap();
        }
        assert_eq!(slot.reserve(5, now), Err(MIN));
        assert_eq!(slot.running, 5);
        // A server that stopped mid-check stops holding them after a while.
        let later = now + ms(STALE) + 1;
        assert_eq!(slot.clone().fresh(later).running, 0);
        assert_eq!(slot.clone().fresh(now + 1).running, 5);
    }

    #[test]
    fn a_quiet_key_is_forgotten_after_its_block() {
        let mut slot = Slot::default();
        let now = 1_000_000;
        for _ in 0..6 {
            slot.reserve(5, now).ok();
            slot.fail(5, now);
        }
        let end = slot.blocked_until;
        assert_eq!(end, now + 2 * MIN);
        assert_ne!(slot.clone().fresh(end + ms(FORGET) - 1), Slot::default());
        assert_eq!(slot.clone().fresh(end + ms(FORGET)), Slot::default());
    }
}
