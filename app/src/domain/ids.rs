//! Identifiers that parse: once you hold one, it is valid.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} `{value}` is invalid: {rule}")]
pub struct IdError {
    /// What was being parsed ("request id", "project key", ...).
    pub kind: &'static str,
    /// The refused input, truncated for display.
    pub value: String,
    /// The rule it broke, in words.
    pub rule: String,
}

/// Checks `^[a-z][a-z0-9-]{min-1,max-1}$` with no leading, trailing or double dash.
fn check_slug(kind: &'static str, s: &str, min: usize, max: usize) -> Result<(), IdError> {
    const RULE: &str = "use lowercase letters, digits and single dashes, starting with a letter";
    let err = |rule: String| IdError {
        kind,
        value: s.chars().take(64).collect(),
        rule,
    };
    if s.len() < min || s.len() > max {
        return Err(err(format!("must be {min} to {max} characters long")));
    }
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let starts = s.as_bytes()[0].is_ascii_lowercase();
    if !ok_chars || !starts || s.ends_with('-') || s.contains("--") {
        return Err(err(RULE.to_owned()));
    }
    Ok(())
}

macro_rules! slug_newtype {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $min:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses `s`, or says which rule it breaks.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                check_slug($kind, s, $min, $max)?;
                Ok(Self(s.to_owned()))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_newtype!(
    /// A project's key, e.g. `payments` (1–40 chars).
    ProjectKey, "project key", 1, 40
);
slug_newtype!(
    /// An environment name, e.g. `dev`, `prod` (1–20 chars).
    EnvName, "environment", 1, 20
);
slug_newtype!(
    /// A registry module type, e.g. `s3-bucket` (2–40 chars).
    ModuleType, "module type", 2, 40
);

/// Crockford base32, lowercase: ordered, so fixed-width ids sort by time.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const TIME_CHARS: usize = 10;
const RANDOM_CHARS: usize = 6;

/// A request's id: 16 lowercase Crockford-base32 characters — 10 of
/// millisecond time then 6 of entropy. Short, URL-safe, and sorting ids as
/// text sorts requests by creation time. Stored inline (16 bytes, `Copy`),
/// so indexes holding many ids allocate nothing for them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RequestId([u8; RequestId::LEN]);

impl RequestId {
    /// Length of every id.
    pub const LEN: usize = TIME_CHARS + RANDOM_CHARS;

    /// Makes an id from a Unix time in milliseconds and 30 bits of entropy
    /// (the caller owns the clock and the random source).
    pub fn generate(unix_millis: u64, entropy: u32) -> Self {
        let mut out = [0u8; Self::LEN];
        for (n, i) in (0..TIME_CHARS).rev().enumerate() {
            out[n] = ALPHABET[((unix_millis >> (5 * i)) & 31) as usize];
        }
        for (n, i) in (0..RANDOM_CHARS).rev().enumerate() {
            out[TIME_CHARS + n] = ALPHABET[((entropy >> (5 * i)) & 31) as usize];
        }
        Self(out)
    }

    /// The Unix time in milliseconds the id was made at.
    pub fn unix_millis(&self) -> u64 {
        self.0[..TIME_CHARS].iter().fold(0u64, |acc, c| {
            let digit = ALPHABET.iter().position(|a| a == c).unwrap_or(0) as u64;
            (acc << 5) | digit
        })
    }

    /// Parses an id, or says why it is not one.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        match <[u8; Self::LEN]>::try_from(s.as_bytes()) {
            Ok(bytes) if bytes.iter().all(|b| ALPHABET.contains(b)) => Ok(Self(bytes)),
            _ => Err(IdError {
                kind: "request id",
                value: s.chars().take(64).collect(),
                rule: "must be 16 characters of 0-9 and lowercase a-z without i, l, o, u"
                    .to_owned(),
            }),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII from ALPHABET ever gets in.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl TryFrom<String> for RequestId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<RequestId> for String {
    fn from(v: RequestId) -> String {
        v.as_str().to_owned()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.as_str())
    }
}

/// The request a config is normalized and a block rendered for: computed
/// values, the marker and the block name depend on it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The request (marker id and block name).
    pub request_id: &'a RequestId,
    /// Its project.
    pub project: &'a ProjectKey,
    /// Its environment.
    pub environment: &'a EnvName,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_parse_or_name_the_rule() {
        let cases = [
            ("payments", true),
            ("a", true),
            ("team-a2", true),
            ("", false),
            ("Payments", false),
            ("-a", false),
            ("a-", false),
            ("a--b", false),
            ("1abc", false),
            ("a_b", false),
            ("a/b", false),
        ];
        for (input, ok) in cases {
            assert_eq!(ProjectKey::parse(input).is_ok(), ok, "{input:?}");
        }
        let err = EnvName::parse("Prod").unwrap_err();
        assert!(
            err.to_string().contains("environment `Prod` is invalid"),
            "{err}"
        );
        assert!(ModuleType::parse("s").is_err());
        assert!(ModuleType::parse("s3-bucket").is_ok());
    }

    #[test]
    fn request_ids_are_fixed_width_and_sort_by_time() {
        let a = RequestId::generate(1_700_000_000_000, 0x3fff_ffff);
        let b = RequestId::generate(1_700_000_000_001, 0);
        assert_eq!(a.as_str().len(), RequestId::LEN);
        assert!(a < b, "{a} < {b}");
        assert_eq!(RequestId::parse(a.as_str()).unwrap(), a);
        for bad in [
            "",
            "0123456789abcdeF",
            "0123456789abcdei",
            "0123456789abcde",
        ] {
            assert!(RequestId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_round_trip_through_serde_and_refuse_bad_input() {
        let id = RequestId::generate(42, 7);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<RequestId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<ProjectKey>("\"Bad Key\"").is_err());
    }
}
