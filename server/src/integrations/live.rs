//! `Live<T>`: a credential an adapter reads on every use, replaced in
//! place when the stored integration changes, so no restart is needed.

use std::sync::{Arc, RwLock};

/// A value shared by its adapter and whoever refreshes it; `None` while
/// the credential is not set. Cheap to clone: clones share the value.
pub struct Live<T> {
    value: Arc<RwLock<Option<Arc<T>>>>,
}

impl<T> Clone for Live<T> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
        }
    }
}

impl<T> Default for Live<T> {
    fn default() -> Self {
        Self::new(None)
    }
}

impl<T> std::fmt::Debug for Live<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the value: it is a secret.
        let set = if self.get().is_some() { "set" } else { "unset" };
        f.debug_tuple("Live").field(&set).finish()
    }
}

impl<T> Live<T> {
    /// Holding `value`.
    pub fn new(value: Option<T>) -> Self {
        Self {
            value: Arc::new(RwLock::new(value.map(Arc::new))),
        }
    }

    /// Holding `value` for good (nobody else has a handle to change it).
    pub fn fixed(value: T) -> Self {
        Self::new(Some(value))
    }

    /// The value now.
    pub fn get(&self) -> Option<Arc<T>> {
        self.value.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether a value is set now.
    pub fn is_set(&self) -> bool {
        self.get().is_some()
    }
}

impl<T: PartialEq> Live<T> {
    /// Replaces the value; `true` when it changed.
    pub fn set(&self, value: Option<T>) -> bool {
        let mut slot = self.value.write().unwrap_or_else(|p| p.into_inner());
        if slot.as_deref() == value.as_ref() {
            return false;
        }
        *slot = value.map(Arc::new);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_value_and_set_tells_a_change() {
        let live = Live::new(None);
        let reader = live.clone();
        assert!(!reader.is_set());
        assert!(live.set(Some("a".to_owned())));
        assert_eq!(reader.get().as_deref().map(String::as_str), Some("a"));
        assert!(
            !live.set(Some("a".to_owned())),
            "the same value is no change"
        );
        assert!(live.set(None));
        assert!(reader.get().is_none());
        assert_eq!(format!("{reader:?}"), "Live(\"unset\")");
        assert_eq!(format!("{:?}", Live::fixed("secret")), "Live(\"set\")");
    }
}
