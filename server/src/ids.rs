//! The `Ids` port: the randomness behind secrets, tokens and ids, so a test can make it predictable.
//!
//! Adapters: [`OsIds`] (the operating system's CSPRNG). Every random hex
//! string in the server comes from [`random_hex`](dyn Ids::random_hex).

/// A source of random bytes.
pub trait Ids: Send + Sync + 'static {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

impl dyn Ids {
    /// `N` random bytes.
    pub fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut buf = [0u8; N];
        self.fill(&mut buf);
        buf
    }

    /// `n` random bytes as lowercase hex (`2 * n` characters).
    pub fn random_hex(&self, n: usize) -> String {
        let mut buf = vec![0u8; n];
        self.fill(&mut buf);
        buf.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsIds;

impl Ids for OsIds {
    fn fill(&self, buf: &mut [u8]) {
        getrandom::fill(buf).expect("the operating system has a random source");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_hex_has_two_characters_per_byte_and_differs() {
        let ids: &dyn Ids = &OsIds;
        let a = ids.random_hex(16);
        assert_eq!(a.len(), 32);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, ids.random_hex(16));
        assert_ne!(ids.bytes::<8>(), [0u8; 8]);
    }
}
