//! The shortcuts: the defaults for the rest, quick replies, empty Enter.

use super::tests::module;
use super::*;
use crate::domain::config::normalize;
use crate::domain::ids::Target;
use crate::domain::ids::{EnvName, ProjectKey, RequestId};
use serde_json::json;

fn names(inputs: &[&Input]) -> Vec<String> {
    inputs.iter().map(|i| i.name.clone()).collect()
}

fn said(c: &Conversation, back: usize) -> String {
    c.transcript[c.transcript.len() - 1 - back].text.clone()
}

#[test]
fn once_the_required_inputs_are_known_the_rest_keep_their_defaults_in_one_step() {
    let m = module("s3-bucket");
    let mut c = Conversation::start(&m);
    assert!(!c.offers_defaults(&m), "the name is still unknown");
    c.reply(&m, "a versioned bucket called logs-x with 30 day retention");
    assert!(c.required_known(&m));
    assert!(!c.is_complete(&m), "submit waits for the rest");
    assert!(c.offers_defaults(&m));
    // High-risk first, then medium, then the rest, in registry order.
    assert_eq!(
        names(&c.rest(&m)),
        ["force_destroy", "encryption", "kms_key_arn", "tags"]
    );

    c.reply(&m, USE_DEFAULTS);
    assert!(c.is_complete(&m));
    assert!(!c.offers_defaults(&m));
    assert_eq!(c.asking, None);
    assert_eq!(
        said(&c, 1),
        "Keeping the defaults: force_destroy = no (high risk), encryption = AES256, \
         kms_key_arn = none, tags = none. Use “change” next to any of them to answer it."
    );
    assert!(said(&c, 0).starts_with("That's everything"));
    assert_eq!(said(&c, 2), USE_DEFAULTS, "the user's line");

    // The defaults are filled in by normalization, as on the server.
    let (id, project, env) = (
        RequestId::generate(5, 5),
        ProjectKey::parse("sandbox").expect("a key"),
        EnvName::parse("dev").expect("an env"),
    );
    let ctx = Target {
        request_id: &id,
        project: &project,
        environment: &env,
    };
    let config = normalize(&m, &c.config(), ctx).expect("a valid config");
    assert_eq!(config["name"], json!("logs-x"));
    assert_eq!(config["versioning"], json!(true));
    assert_eq!(config["expiration_days"], json!(30));
    assert_eq!(config["force_destroy"], json!(false));
    assert_eq!(config["encryption"], json!("AES256"));
    assert_eq!(config["kms_key_arn"], json!(null));

    // Every default is listed and can still be changed.
    let shown: Vec<(String, String, bool)> = c
        .shown(&m)
        .into_iter()
        .map(|s| (s.input.name.clone(), s.value, s.default))
        .collect();
    assert_eq!(
        shown,
        [
            ("name".into(), "logs-x".into(), false),
            ("versioning".into(), "yes".into(), false),
            ("force_destroy".into(), "no".into(), true),
            ("encryption".into(), "AES256".into(), true),
            ("kms_key_arn".into(), "none".into(), true),
            ("expiration_days".into(), "30".into(), false),
            ("tags".into(), "none".into(), true),
        ]
    );
    c.revisit(&m, "force_destroy");
    assert!(!c.is_complete(&m));
    c.reply(&m, "yes");
    assert_eq!(c.answers.get("force_destroy"), Some(&json!(true)));
    assert!(c.is_complete(&m));
}

#[test]
fn without_a_sentence_the_rest_lists_every_high_risk_default_first() {
    let m = module("s3-bucket");
    let mut c = Conversation::start(&m);
    c.reply(&m, "logs-archive");
    assert_eq!(c.answers.get("name"), Some(&json!("logs-archive")));
    assert_eq!(
        names(&c.rest(&m)),
        [
            "versioning",
            "force_destroy",
            "expiration_days",
            "encryption",
            "kms_key_arn",
            "tags"
        ]
    );
    // The current question can still be answered before the rest are kept.
    assert_eq!(c.asking.as_deref(), Some("versioning"));
    c.reply(&m, "no");
    assert_eq!(c.answers.get("versioning"), Some(&json!(false)));
    c.reply(&m, "that’s all.");
    assert!(c.is_complete(&m));
    assert!(said(&c, 1).starts_with(
        "Keeping the defaults: force_destroy = no (high risk), expiration_days = none (high risk), encryption"
    ));
}

#[test]
fn the_defaults_wait_for_every_required_input() {
    let m = module("ecs-service");
    let mut c = Conversation::start(&m);
    c.reply(&m, "defaults");
    assert!(!c.is_complete(&m));
    assert!(c.defaulted.is_empty());
    assert!(
        said(&c, 1).starts_with(
            "name, cluster_arn, image, subnet_ids, security_group_ids have no default"
        ),
        "{}",
        said(&c, 1)
    );
    assert_eq!(c.asking.as_deref(), Some("name"), "and asks again");
}

#[test]
fn phrases_that_keep_every_remaining_default() {
    let cases = [
        ("defaults", true),
        ("Defaults.", true),
        ("that's all", true),
        ("That’s all!", true),
        ("that is all", true),
        ("use the defaults", true),
        ("Use the defaults for the rest", true),
        ("the defaults are fine", true),
        ("default", false),
        ("skip", false),
        ("no", false),
        ("done", false),
        ("all", false),
        ("", false),
    ];
    for (text, want) in cases {
        assert_eq!(wants_defaults(text), want, "{text:?}");
    }
}

#[test]
fn an_empty_enter_keeps_the_default_and_says_so() {
    // (module, input asked, what the assistant says, left to its default)
    let cases = [
        (
            "s3-bucket",
            "force_destroy",
            "Keeping the default for force_destroy: no.",
            true,
        ),
        (
            "s3-bucket",
            "encryption",
            "Keeping the default for encryption: AES256.",
            true,
        ),
        (
            "s3-bucket",
            "expiration_days",
            "Leaving expiration_days empty.",
            true,
        ),
        (
            "s3-bucket",
            "tags",
            "Keeping the default for tags: none.",
            true,
        ),
        (
            "sqs-queue",
            "visibility_timeout_seconds",
            "Keeping the default for visibility_timeout_seconds: 30.",
            true,
        ),
        (
            "s3-bucket",
            "name",
            "name has no default, so it needs an answer: What should the bucket be called?",
            false,
        ),
    ];
    for (ty, input, says, defaulted) in cases {
        let m = module(ty);
        let mut c = Conversation::start(&m);
        c.revisit(&m, input);
        let before = c.transcript.len();
        c.reply(&m, "   ");
        let line = c
            .transcript
            .iter()
            .skip(before)
            .find(|l| l.from == Speaker::Assistant)
            .expect("an answer");
        assert!(line.text.starts_with(says), "{ty}.{input}: {}", line.text);
        assert_eq!(c.defaulted.contains(input), defaulted, "{ty}.{input}");
        assert!(!c.answers.contains_key(input), "{ty}.{input}");
    }
}

#[test]
fn the_default_is_the_primary_quick_reply_and_a_risky_choice_never_is() {
    // (module, input, buttons as "label:reply", the primary one marked *, risky !)
    let cases: [(&str, &str, &[&str]); 8] = [
        (
            "s3-bucket",
            "force_destroy",
            &["*No (default):", "!Yes:yes"],
        ),
        ("s3-bucket", "versioning", &["*Yes (default):", "!No:no"]),
        (
            "s3-bucket",
            "encryption",
            &["*AES256 (default):", "aws:kms:aws:kms"],
        ),
        ("s3-bucket", "name", &[]),
        ("s3-bucket", "expiration_days", &["*Leave it empty:"]),
        ("s3-bucket", "tags", &["*Keep the default (none):"]),
        (
            "ecs-service",
            "cpu",
            &[
                "*256 (default):",
                "512:512",
                "1024:1024",
                "2048:2048",
                "4096:4096",
            ],
        ),
        (
            "cloudwatch-log-group",
            "retention_in_days",
            &["*Keep the default (30):"],
        ),
    ];
    for (ty, input, want) in cases {
        let m = module(ty);
        let mut c = Conversation::start(&m);
        c.revisit(&m, input);
        let got: Vec<String> = c
            .quick_replies(&m)
            .into_iter()
            .map(|q| {
                let mark = match (q.primary, q.risky) {
                    (true, _) => "*",
                    (false, true) => "!",
                    (false, false) => "",
                };
                format!("{mark}{}:{}", q.label, q.reply)
            })
            .collect();
        assert_eq!(got, want, "{ty}.{input}");
        assert!(
            c.quick_replies(&m).iter().filter(|q| q.primary).count() <= 1,
            "{ty}.{input}"
        );
    }
}

#[test]
fn enter_does_what_the_primary_button_does() {
    let m = module("s3-bucket");
    let mut c = Conversation::start(&m);
    c.revisit(&m, "force_destroy");
    assert_eq!(
        c.placeholder(&m),
        "Type an answer, or press Enter for “No (default)”"
    );
    c.reply(&m, "");
    assert!(c.defaulted.contains("force_destroy"));
    assert_eq!(
        c.transcript.iter().rev().nth(2).map(|l| l.text.as_str()),
        Some("(keep the default)")
    );

    // A "did you mean" of a medium-risk input: Yes is primary, Enter takes it.
    c.revisit(&m, "encryption");
    c.reply(&m, "AES265");
    assert_eq!(c.quick_replies(&m)[0].label, "Yes");
    assert!(c.quick_replies(&m)[0].primary);
    c.reply(&m, "");
    assert_eq!(c.answers.get("encryption"), Some(&json!("AES256")));

    // A "did you mean" that leaves the default of a high-risk input: no
    // primary button, and Enter asks for a yes or a no.
    let g = module("cloudwatch-log-group");
    let mut c = Conversation::start(&g);
    c.revisit(&g, "retention_in_days");
    c.reply(&g, "100 days");
    assert_eq!(c.offered, Some(json!("90")));
    let replies = c.quick_replies(&g);
    assert!(replies.iter().all(|q| !q.primary), "{replies:?}");
    assert!(replies[0].risky);
    c.reply(&g, "");
    assert_eq!(said(&c, 0), "Please answer yes or no.");
    assert_eq!(c.offered, Some(json!("90")), "still offered");

    // The required name: no button, Enter explains.
    let mut c = Conversation::start(&m);
    // (The first question, new or existing, defaults to new.)
    assert_eq!(
        c.placeholder(&m),
        "Type an answer, or press Enter for “New (default)”"
    );
    c.reply(&m, "");
    assert_eq!(c.kind(), crate::domain::request::Kind::Create);
    assert_eq!(
        c.placeholder(&m),
        "Type an answer, or describe what you need"
    );
    c.reply(&m, "");
    assert_eq!(c.asking.as_deref(), Some("name"));
}
