//! Slack's v0 request signing: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` under the app's signing secret.
//!
//! Slack signs every request it sends to the app (events, interactions,
//! commands) with the headers `X-Slack-Request-Timestamp` and
//! `X-Slack-Signature`. [`verify`] checks both, in constant time, and
//! refuses a timestamp more than [`MAX_SKEW_SECS`] away from now so a
//! captured request cannot be replayed later.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header holding the Unix time Slack signed the request at.
pub const TIMESTAMP_HEADER: &str = "X-Slack-Request-Timestamp";
/// The header holding `v0=<hex signature>`.
pub const SIGNATURE_HEADER: &str = "X-Slack-Signature";
/// How far (seconds, either way) a request's timestamp may be from now.
pub const MAX_SKEW_SECS: i64 = 300;

/// Why a request's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A signing header is absent.
    #[error("the request has no {0} header: only Slack's signed requests are accepted here")]
    Missing(&'static str),
    /// The timestamp is too far from now (a replay, or a wrong clock).
    #[error(
        "the X-Slack-Request-Timestamp header is more than 5 minutes from the server's time: \
         the request is a replay or a clock is wrong"
    )]
    Stale,
    /// The timestamp or the signature is malformed or does not match.
    #[error(
        "the X-Slack-Signature header does not match the body and X-Slack-Request-Timestamp: \
         check that TFPILOT_SLACK_SIGNING_SECRET is the Slack app's signing secret"
    )]
    Bad,
}

/// The MAC over `v0:{timestamp}:{body}`. HMAC takes keys of any length, so
/// this is `None` only in theory.
fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    Some(mac)
}

/// `v0=<hex>`: the signature Slack sends for `body` at `timestamp`.
pub fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    mac(secret, timestamp, body).map_or_else(String::new, |m| {
        format!("v0={}", crate::auth::hex(&m.finalize().into_bytes()))
    })
}

/// Checks a request's signing headers against `body`, at `now_unix`.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_unix: i64,
) -> Result<(), SignatureError> {
    let timestamp = timestamp.ok_or(SignatureError::Missing(TIMESTAMP_HEADER))?;
    let signature = signature.ok_or(SignatureError::Missing(SIGNATURE_HEADER))?;
    let at: i64 = timestamp.trim().parse().map_err(|_| SignatureError::Bad)?;
    if now_unix.abs_diff(at) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let hex = signature
        .trim()
        .strip_prefix("v0=")
        .ok_or(SignatureError::Bad)?;
    let expected = unhex(hex).ok_or(SignatureError::Bad)?;
    mac(secret, timestamp, body)
        .ok_or(SignatureError::Bad)?
        .verify_slice(&expected)
        .map_err(|_| SignatureError::Bad)
}

/// Bytes of a lowercase or uppercase hex string.
fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TS: &str = "1531420618";
    const NOW: i64 = 1_531_420_618;
    const BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

    #[test]
    fn slacks_documented_example() {
        // From Slack's "Verifying requests from Slack" guide.
        assert_eq!(
            signature(SECRET, TS, BODY),
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        );
    }

    #[test]
    fn verification_table() {
        use SignatureError::{Bad, Missing, Stale};
        let good = signature(SECRET, TS, BODY);
        let upper = format!("v0={}", good[3..].to_ascii_uppercase());
        let other = signature("another secret", TS, BODY);
        let at = |now: i64, sig: &str| verify(SECRET, Some(TS), Some(sig), BODY, now);
        let signed = |sig: &str| at(NOW, sig);
        let cases = [
            ("valid", signed(&good), Ok(())),
            ("upper-case hex", signed(&upper), Ok(())),
            ("299 s late", at(NOW + 299, &good), Ok(())),
            ("300 s early", at(NOW - 300, &good), Ok(())),
            ("301 s late", at(NOW + 301, &good), Err(Stale)),
            ("301 s ahead", at(NOW - 301, &good), Err(Stale)),
            ("other secret", signed(&other), Err(Bad)),
            ("no v0= prefix", signed(&good[3..]), Err(Bad)),
            ("v1 scheme", signed("v1=00"), Err(Bad)),
            ("not hex", signed("v0=zz"), Err(Bad)),
            ("odd length", signed("v0=abc"), Err(Bad)),
            ("truncated", signed(&good[..20]), Err(Bad)),
            ("non-ascii", signed("v0=é1"), Err(Bad)),
            (
                "no timestamp",
                verify(SECRET, None, Some(&good), BODY, NOW),
                Err(Missing(TIMESTAMP_HEADER)),
            ),
            (
                "no signature",
                verify(SECRET, Some(TS), None, BODY, NOW),
                Err(Missing(SIGNATURE_HEADER)),
            ),
            (
                "timestamp not a number",
                verify(SECRET, Some("soon"), Some(&good), BODY, NOW),
                Err(Bad),
            ),
            (
                "body changed",
                verify(SECRET, Some(TS), Some(&good), b"token=x", NOW),
                Err(Bad),
            ),
        ];
        for (name, got, want) in cases {
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn errors_name_the_header() {
        let missing = SignatureError::Missing(TIMESTAMP_HEADER).to_string();
        assert!(missing.contains("X-Slack-Request-Timestamp"), "{missing}");
        assert!(
            SignatureError::Stale
                .to_string()
                .contains("X-Slack-Request-Timestamp")
        );
        assert!(
            SignatureError::Bad
                .to_string()
                .contains("X-Slack-Signature")
        );
    }
}
