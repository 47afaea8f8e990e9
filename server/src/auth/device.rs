//! Device cookies (OWASP's answer to lockouts that anyone can cause): a
//! browser that signed in as a login gets a cookie naming a random device
//! id and an HMAC over the login and that id, under a key kept in the
//! store (`keys/device-cookies.json`). A sign-in that brings a valid one
//! for its login is judged by that device's own counter, never by the
//! per-login and per-address counters that someone guessing from
//! elsewhere fills.

use super::keys::StoredKey;
use crate::ids::Ids;
use crate::store::{ObjectStore, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// The cookie's name.
pub const COOKIE: &str = "tfpilot_device";
/// How long a browser keeps it (renewed at every sign-in).
pub const MAX_AGE: Duration = Duration::from_secs(180 * 24 * 3600);
const KEY: &str = "keys/device-cookies.json";

/// Issues and checks device cookies.
#[derive(Clone)]
pub struct DeviceCookies {
    key: StoredKey,
    ids: Arc<dyn Ids>,
}

impl DeviceCookies {
    /// Over the store holding the key; device ids and the key come from
    /// `ids`.
    pub fn new(store: Arc<dyn ObjectStore>, ids: Arc<dyn Ids>) -> Self {
        Self {
            key: StoredKey::new(store, KEY, ids.clone()),
            ids,
        }
    }

    /// A new cookie value for a browser that just signed in as `login`:
    /// `<device id>.<mac>`.
    pub async fn issue(&self, login: &str) -> Result<String, StoreError> {
        let device = self.ids.random_hex(16);
        let mac = self.key.mac(&["device", login, &device]).await?;
        Ok(format!("{device}.{mac}"))
    }

    /// The device id of `value` when it is a cookie issued for `login`.
    pub async fn check(&self, login: &str, value: &str) -> Result<Option<String>, StoreError> {
        let Some((device, mac)) = value.split_once('.') else {
            return Ok(None);
        };
        if device.len() != 32 || !device.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let want = self.key.mac(&["device", login, device]).await?;
        Ok(super::constant_time_eq(want.as_bytes(), mac.as_bytes()).then(|| device.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cookie_vouches_for_its_login_only() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn ObjectStore> =
            Arc::new(crate::store::fs::FsStore::open(dir.path()).unwrap());
        let cookies = DeviceCookies::new(store.clone(), Arc::new(crate::ids::OsIds));
        let value = cookies.issue("alice").await.unwrap();
        let device = cookies.check("alice", &value).await.unwrap().unwrap();
        assert!(value.starts_with(&device));
        assert_eq!(cookies.check("bob", &value).await.unwrap(), None);
        let other = DeviceCookies::new(store, Arc::new(crate::ids::OsIds));
        assert_eq!(
            other.check("alice", &value).await.unwrap(),
            Some(device.clone()),
            "another replica agrees"
        );
        let forged = format!("{device}.{}", "0".repeat(32));
        for bad in [forged.as_str(), "", ".", "x.y", &value[1..]] {
            assert_eq!(cookies.check("alice", bad).await.unwrap(), None, "{bad}");
        }
        assert_ne!(
            cookies.issue("alice").await.unwrap(),
            value,
            "one id per browser"
        );
    }
}
