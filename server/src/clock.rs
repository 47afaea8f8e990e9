//! The `Clock` port: the wall-clock time business code reads, so a test can set and advance it.
//!
//! Adapters: [`SystemClock`] (the operating system's clock, in production)
//! and [`ManualClock`] (a time that only moves when told, for tests).
//! Monotonic timing inside adapters (`Instant`, tokio timers) is not
//! behind this port.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The current wall-clock time.
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> SystemTime;

    /// Now as RFC 3339 UTC with milliseconds (the format of every stored
    /// timestamp).
    fn rfc3339_millis(&self) -> String {
        humantime::format_rfc3339_millis(self.now()).to_string()
    }

    /// Now in Unix milliseconds.
    fn unix_millis(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default()
    }

    /// Now in Unix seconds.
    fn unix_secs(&self) -> u64 {
        self.unix_millis() / 1000
    }
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until it is set or advanced.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<SystemTime>,
}

impl ManualClock {
    /// Standing at `at`.
    pub fn new(at: SystemTime) -> Self {
        Self {
            now: Mutex::new(at),
        }
    }

    /// Standing at the system clock's current time.
    pub fn at_system_time() -> Self {
        Self::new(SystemTime::now())
    }

    /// Moves to `at` (backwards too).
    pub fn set(&self, at: SystemTime) {
        *self.lock() = at;
    }

    /// Moves forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.lock();
        *now += by;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SystemTime> {
        self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::at_system_time()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(UNIX_EPOCH + Duration::from_millis(1_500));
        assert_eq!(clock.unix_millis(), 1_500);
        assert_eq!(clock.unix_millis(), 1_500);
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.unix_millis(), 3_500);
        assert_eq!(clock.unix_secs(), 3);
        assert_eq!(clock.rfc3339_millis(), "1970-01-01T00:00:03.500Z");
        clock.set(UNIX_EPOCH);
        assert_eq!(clock.unix_millis(), 0);
    }

    #[test]
    fn the_system_clock_is_near_the_system_time() {
        let before = SystemTime::now();
        let now = SystemClock.now();
        assert!(now >= before);
        assert!(SystemClock.rfc3339_millis().ends_with('Z'));
    }
}
