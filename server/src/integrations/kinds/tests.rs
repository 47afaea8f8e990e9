//! Each kind's fields read from JSON: what is accepted, and every error
//! naming its field.

use super::*;
use serde_json::json;

fn none(_: &str) -> bool {
    false
}

fn fields(r: Result<Change, Vec<FieldError>>) -> Vec<String> {
    match r {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(errors) => errors
            .into_iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect(),
    }
}

#[test]
fn kinds_have_names_titles_and_a_secret_each() {
    for kind in KINDS {
        assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        assert!(!kind.title().is_empty());
        assert!(
            kind.fields().iter().any(|f| f.secret && f.required),
            "{kind:?}"
        );
    }
    assert_eq!(Kind::parse("Slack"), None);
    assert!(kind_names().contains("webhook_secret"));
}

#[test]
fn names_follow_their_rule() {
    for (name, ok) in [
        ("default", true),
        ("a", true),
        ("0-prod", true),
        (&"a".repeat(63), true),
        (&"a".repeat(64), false),
        ("", false),
        ("-a", false),
        ("Default", false),
        ("a_b", false),
        ("a/b", false),
        ("..", false),
    ] {
        assert_eq!(valid_name(name), ok, "{name}");
    }
}

#[test]
fn a_valid_change_splits_clear_and_secret_fields() {
    let change = read_change(
        Kind::Slack,
        &json!({"api_url": "https://slack.example.com/api", "channel": "#infra",
                "bot_token": "xoxb-1", "signing_secret": " s3cr3t ", "bogus": null}),
        &none,
    );
    // An unknown field is refused even when null.
    assert_eq!(
        fields(change),
        [
            "bogus: is not a field of slack; its fields are api_url, channel, bot_token, signing_secret"
        ]
    );
    let change = read_change(
        Kind::Slack,
        &json!({"api_url": "https://slack.example.com/api", "channel": "",
                "bot_token": "xoxb-1", "signing_secret": " s3cr3t "}),
        &none,
    )
    .unwrap();
    assert_eq!(change.metadata.len(), 1);
    assert_eq!(change.metadata["api_url"], "https://slack.example.com/api");
    assert_eq!(change.secrets["signing_secret"], "s3cr3t");
    assert_eq!(change.secrets["bot_token"], "xoxb-1");
}

#[test]
fn a_stored_secret_may_be_left_out_and_a_new_one_may_not() {
    let raw = json!({"url": "https://tfc.example.com", "organization": "acme"});
    assert_eq!(
        fields(read_change(Kind::Tfc, &raw, &none)),
        ["token: is required"]
    );
    let change = read_change(Kind::Tfc, &raw, &|f| f == "token").unwrap();
    assert!(change.secrets.is_empty());
    // An empty secret (a password input left blank) keeps the stored one too.
    let blank = json!({"token": ""});
    assert!(read_change(Kind::Tfc, &blank, &|f| f == "token").is_ok());
}

#[test]
fn every_bad_field_is_named_with_its_rule() {
    #[rustfmt::skip]
    let table: &[(Kind, Value, &[&str])] = &[
        (Kind::GithubApp, json!({"app_id": "12a", "installation_id": 5, "private_key": "key"}),
            &["app_id: must be a number (digits only)", "installation_id: must be a string",
              "private_key: must be a PEM private key (-----BEGIN …)"]),
        (Kind::GithubToken, json!({"api_url": "ftp://x", "token": "a b"}),
            &["api_url: must be a URL starting with http:// or https://", "token: must not hold spaces"]),
        (Kind::Model, json!({"api_key": "k"}), &["url: is required", "model: is required"]),
        (Kind::Model, json!({"url": "https://", "model": "m\u{7}", "api_key": "k"}),
            &["url: must be a URL starting with http:// or https://", "model: must not hold control characters"]),
        (Kind::Smtp, json!({"from": "nobody", "url": "http://mail"}),
            &["from: must be a mailbox such as `tfpilot <tfpilot@example.com>`",
              "url: must be a URL starting with smtp:// or smtps://"]),
        (Kind::WebhookSecret, json!({"secret": "x".repeat(4097)}), &["secret: must be at most 4096 characters"]),
        (Kind::WebhookSecret, json!([]), &["body: must be a JSON object of the kind's fields"]),
    ];
    for (kind, raw, expected) in table {
        assert_eq!(
            fields(read_change(*kind, raw, &none)),
            *expected,
            "{kind:?} {raw}"
        );
    }
}

#[test]
fn the_accepted_forms_of_each_rule() {
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n";
    let ok: &[(Kind, Value)] = &[
        (
            Kind::GithubApp,
            json!({"app_id": "1", "installation_id": "22", "private_key": pem}),
        ),
        (
            Kind::Smtp,
            json!({"from": "tfpilot <tfpilot@example.com>", "url": "smtps://u:p@mail.example.com"}),
        ),
        (
            Kind::Smtp,
            json!({"from": "ops@example.com", "url": "smtp://127.0.0.1:2525"}),
        ),
        (
            Kind::Model,
            json!({"url": "http://127.0.0.1:8080/v1", "model": "gpt 4o", "api_key": "sk-1"}),
        ),
    ];
    for (kind, raw) in ok {
        assert!(read_change(*kind, raw, &none).is_ok(), "{kind:?} {raw}");
    }
}
