//! Login attempt limits: per client address and per login, a sliding
//! window of failures. A blocked attempt is refused before the password is
//! checked, so guessing costs the attacker time, not the server CPU.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per window for one login.
pub const MAX_FAILURES: usize = 5;
/// Failures allowed per window from one address (an office shares one).
pub const MAX_FROM_ADDRESS: usize = 20;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(300);

/// Failed attempts by key (`ip:<addr>`, `login:<name>`).
#[derive(Default)]
pub struct LoginLimits {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimits {
    /// `Some(seconds to wait)` if any of `keys` is over its limit.
    pub fn blocked(&self, keys: &[String]) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .filter_map(|k| {
                let times = map.get_mut(k)?;
                times.retain(|t| now.duration_since(*t) < WINDOW);
                let max = if k.starts_with("ip:") {
                    MAX_FROM_ADDRESS
                } else {
                    MAX_FAILURES
                };
                (times.len() >= max).then(|| {
                    let oldest = times.first().copied().unwrap_or(now);
                    (WINDOW - now.duration_since(oldest)).as_secs().max(1)
                })
            })
            .max()
    }

    /// Records a failure under every key.
    pub fn failed(&self, keys: &[String]) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        for k in keys {
            map.entry(k.clone()).or_default().push(now);
        }
    }

    /// Forgets the login's failures after a success (the address keeps its own).
    pub fn succeeded(&self, login_key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(login_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_failure_in_a_window_is_blocked() {
        let limits = LoginLimits::default();
        let keys = ["ip:1.2.3.4".to_owned(), "login:alice".to_owned()];
        for _ in 0..MAX_FAILURES {
            assert_eq!(limits.blocked(&keys), None);
            limits.failed(&keys);
        }
        let wait = limits.blocked(&keys).unwrap();
        assert!(wait > 0 && wait <= WINDOW.as_secs());
        assert!(
            limits.blocked(&["login:alice".to_owned()]).is_some(),
            "per login, from any address"
        );
        assert!(
            limits.blocked(&["ip:1.2.3.4".to_owned()]).is_none(),
            "an address gets more tries than a login"
        );
        limits.succeeded("login:alice");
        assert!(limits.blocked(&["login:alice".to_owned()]).is_none());
        let many: Vec<String> = (0..MAX_FROM_ADDRESS)
            .map(|i| format!("login:u{i}"))
            .collect();
        for login in &many {
            limits.failed(&["ip:5.6.7.8".to_owned(), login.clone()]);
        }
        assert!(
            limits
                .blocked(&["ip:5.6.7.8".to_owned(), "login:fresh".to_owned()])
                .is_some(),
            "one address guessing many logins is stopped"
        );
    }
}
