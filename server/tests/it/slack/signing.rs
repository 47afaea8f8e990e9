//! Our v0 signatures against Slack's own Python SDK (`slack_sdk.signature.SignatureVerifier`), run with `TFPILOT_TEST_PYTHON`.

use server::slack::signing::{signature, verify};
use std::process::Command;

/// Runs `script` with the test venv's python (slack-sdk installed); its
/// stdout lines. `argv[1..]` are `args`.
fn python(script: &str, args: &[&str]) -> Vec<String> {
    let python = std::env::var("TFPILOT_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "TFPILOT_TEST_PYTHON is not set: it must name a python with slack-sdk==3.36.0 \
             (cargo xtask test installs ~/.cache/tfpilot/testpy-venv and sets it)"
        )
    });
    let out = Command::new(&python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run TFPILOT_TEST_PYTHON={python}: {e}"));
    assert!(
        out.status.success(),
        "{python} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

fn bodies() -> Vec<String> {
    vec![
        String::new(),
        r#"{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#.into(),
        r#"{"event":{"type":"app_mention","text":"<@U0TFPILOT> a bucket named «données» 🚀","ts":"1.2"}}"#.into(),
        "payload=%7B%22type%22%3A%22block_actions%22%7D&x=a+b".into(),
        "line one\nline two\r\n\ttabbed".into(),
    ]
}

#[test]
fn our_signatures_are_the_sdks() {
    let script = r#"
import sys
from slack_sdk.signature import SignatureVerifier
secret, ts = sys.argv[1], sys.argv[2]
for body in sys.argv[3:]:
    print(SignatureVerifier(secret).generate_signature(timestamp=ts, body=body))
"#;
    let bodies = bodies();
    let ts = "1531420618";
    let mut args = vec![SECRET, ts];
    args.extend(bodies.iter().map(String::as_str));
    let theirs = python(script, &args);
    assert_eq!(theirs.len(), bodies.len(), "{theirs:?}");
    for (body, sdk) in bodies.iter().zip(&theirs) {
        assert_eq!(
            &signature(SECRET, ts, body.as_bytes()),
            sdk,
            "body {body:?}"
        );
    }
}

#[test]
fn the_sdk_accepts_what_we_sign_and_we_accept_what_it_signs() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let script = r#"
import sys
from slack_sdk.signature import SignatureVerifier
secret, ts, body, ours = sys.argv[1:5]
v = SignatureVerifier(secret)
print(v.is_valid(body=body, timestamp=ts, signature=ours))
print(v.is_valid(body=body + "x", timestamp=ts, signature=ours))
print(v.generate_signature(timestamp=ts, body=body))
"#;
    for body in bodies() {
        let ours = signature(SECRET, &now, body.as_bytes());
        let out = python(script, &[SECRET, &now, &body, &ours]);
        assert_eq!(out[..2], ["True", "False"], "body {body:?}");
        let now_unix: i64 = now.parse().unwrap();
        verify(SECRET, Some(&now), Some(&out[2]), body.as_bytes(), now_unix)
            .unwrap_or_else(|e| panic!("the SDK's signature of {body:?} is refused: {e}"));
    }
}
