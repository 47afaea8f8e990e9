use super::*;
use crate::domain::ids::ModuleType;
use crate::domain::registry::Registry;
use serde_json::json;

pub(super) fn module(ty: &str) -> Module {
    let text = include_str!("../../../../modules-registry.toml");
    let registry = Registry::from_toml("modules-registry.toml", text).expect("the registry loads");
    registry
        .module(&ModuleType::parse(ty).expect("a type"))
        .expect("the module")
        .clone()
}

fn answer(ty: &str, input: &str, text: &str) -> Answer {
    let m = module(ty);
    parse_answer(m.input(input).expect("the input"), text)
}

#[test]
fn answers_are_read_by_type() {
    let v = |x: Value| Answer::Value(x);
    let cases = [
        ("s3-bucket", "versioning", "yes", v(json!(true))),
        ("s3-bucket", "versioning", "Off", v(json!(false))),
        ("s3-bucket", "force_destroy", "nope", v(json!(false))),
        ("s3-bucket", "expiration_days", "90", v(json!(90))),
        ("s3-bucket", "expiration_days", "30 days", v(json!(30))),
        ("s3-bucket", "expiration_days", "2 weeks", v(json!(14))),
        ("s3-bucket", "expiration_days", "1,000", v(json!(1000))),
        ("s3-bucket", "expiration_days", "skip", Answer::Default),
        (
            "sqs-queue",
            "message_retention_seconds",
            "4 days",
            v(json!(345_600)),
        ),
        (
            "sqs-queue",
            "visibility_timeout_seconds",
            "90s",
            v(json!(90)),
        ),
        ("ecs-service", "memory", "2 GB", v(json!(2048))),
        ("ecs-service", "memory", "1024", v(json!(1024))),
        ("s3-bucket", "encryption", "aws kms", v(json!("aws:kms"))),
        ("s3-bucket", "encryption", "aes256", v(json!("AES256"))),
        (
            "s3-bucket",
            "encryption",
            "AES265",
            Answer::Suggest(json!("AES256")),
        ),
        (
            "cloudwatch-log-group",
            "retention_in_days",
            "3 months",
            v(json!("90")),
        ),
        (
            "cloudwatch-log-group",
            "retention_in_days",
            "100 days",
            Answer::Suggest(json!("90")),
        ),
        (
            "cloudwatch-log-group",
            "retention_in_days",
            "1 week",
            v(json!("7")),
        ),
        ("ecs-service", "cpu", "512", v(json!("512"))),
        (
            "ecs-service",
            "subnet_ids",
            "subnet-0abc1234, subnet-0def5678 and subnet-0aaa1111",
            v(json!([
                "subnet-0abc1234",
                "subnet-0def5678",
                "subnet-0aaa1111"
            ])),
        ),
        (
            "s3-bucket",
            "tags",
            "team=data, owner: ana",
            v(json!({"team": "data", "owner": "ana"})),
        ),
        (
            "s3-bucket",
            "name",
            "\"logs-archive\"",
            v(json!("logs-archive")),
        ),
    ];
    for (ty, input, text, want) in cases {
        assert_eq!(answer(ty, input, text), want, "{ty}.{input} ← {text:?}");
    }
}

#[test]
fn bad_answers_say_what_would_work() {
    let invalid = |a: Answer| match a {
        Answer::Invalid(why) => why,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let why = invalid(answer("s3-bucket", "versioning", "maybe"));
    assert_eq!(why, "Please answer yes or no.");
    let why = invalid(answer("s3-bucket", "expiration_days", "soon"));
    assert!(why.contains("needs a number"), "{why}");
    let why = invalid(answer("s3-bucket", "expiration_days", "5000"));
    assert!(why.contains("at most 3650"), "{why}");
    let why = invalid(answer("s3-bucket", "expiration_days", "2 GB"));
    assert!(why.contains("measured in days"), "{why}");
    let why = invalid(answer("s3-bucket", "name", "UPPER"));
    assert!(why.starts_with("name must match"), "{why}");
    let why = invalid(answer("s3-bucket", "name", "skip"));
    assert!(why.contains("is required"), "{why}");
    let why = invalid(answer("s3-bucket", "encryption", "blowfish"));
    assert!(why.contains("AES256, aws:kms"), "{why}");
    let why = invalid(answer("s3-bucket", "tags", "team"));
    assert!(why.contains("key=value"), "{why}");
    let why = invalid(answer("ecs-service", "subnet_ids", "subnet-1"));
    assert!(why.starts_with("subnet_ids[0] must match"), "{why}");
}

#[test]
fn one_sentence_sets_several_inputs() {
    let m = module("s3-bucket");
    let found = extract(
        &m,
        "a versioned bucket called logs-archive with 90 day retention",
    );
    assert_eq!(
        found,
        [
            ("name".to_owned(), json!("logs-archive")),
            ("versioning".to_owned(), json!(true)),
            ("expiration_days".to_owned(), json!(90)),
        ]
    );
    let found = extract(
        &m,
        "an unversioned bucket named tmp-scratch, aws:kms please",
    );
    assert_eq!(
        found,
        [
            ("name".to_owned(), json!("tmp-scratch")),
            ("versioning".to_owned(), json!(false)),
            ("encryption".to_owned(), json!("aws:kms")),
        ]
    );
    let q = module("sqs-queue");
    let found = extract(
        &q,
        "a fifo queue called jobs with a 60 second visibility timeout",
    );
    assert_eq!(
        found,
        [
            ("name".to_owned(), json!("jobs")),
            ("fifo".to_owned(), json!(true)),
            ("visibility_timeout_seconds".to_owned(), json!(60)),
        ]
    );
    assert!(extract(&m, "hello there").is_empty());
}

#[test]
fn the_conversation_asks_in_order_skips_what_is_known_and_goes_back() {
    let m = module("s3-bucket");
    let mut c = Conversation::start(&m);
    assert_eq!(c.asking.as_deref(), Some(ASKING_KIND));
    // A sentence that is not about new or existing reads as new and as
    // the description it is.
    c.reply(
        &m,
        "a versioned bucket called logs-archive with 90 day retention",
    );
    assert_eq!(c.kind(), crate::domain::request::Kind::Create);
    assert_eq!(c.answers.get("name"), Some(&json!("logs-archive")));
    // versioning and expiration_days are known: the next open input is asked.
    assert_eq!(c.asking.as_deref(), Some("force_destroy"));
    let last = &c.transcript.last().expect("a question").text;
    assert!(last.contains("(default: no)"), "{last}");
    assert!(last.contains("High risk"), "{last}");
    c.reply(&m, "no");
    assert_eq!(c.asking.as_deref(), Some("encryption"));
    c.reply(&m, "AES265");
    assert_eq!(c.offered, Some(json!("AES256")));
    c.reply(&m, "yes");
    assert_eq!(c.answers.get("encryption"), Some(&json!("AES256")));
    assert_eq!(c.asking.as_deref(), Some("kms_key_arn"));
    c.reply(&m, "skip");
    c.reply(&m, "team=data");
    assert!(c.is_complete(&m));
    assert!(
        c.transcript
            .last()
            .expect("done")
            .text
            .starts_with("That's everything")
    );

    c.revisit(&m, "expiration_days");
    assert_eq!(c.asking.as_deref(), Some("expiration_days"));
    c.reply(&m, "30 days");
    assert_eq!(c.answers.get("expiration_days"), Some(&json!(30)));
    assert!(c.is_complete(&m));
    assert_eq!(
        c.config().keys().cloned().collect::<Vec<_>>(),
        [
            "encryption",
            "expiration_days",
            "force_destroy",
            "name",
            "tags",
            "versioning"
        ]
    );
}

#[test]
fn sensitive_answers_stay_out_of_the_transcript() {
    let m = module("ecs-service");
    let mut c = Conversation::start(&m);
    c.revisit(&m, "secret_environment");
    c.reply(
        &m,
        "DB=arn:aws:secretsmanager:eu-west-1:123456789012:secret:db",
    );
    assert!(c.answers.contains_key("secret_environment"));
    assert!(
        c.transcript
            .iter()
            .all(|l| !l.text.contains("secretsmanager")),
        "{:?}",
        c.transcript
    );
}

#[test]
fn modules_that_can_adopt_ask_new_or_existing_first() {
    use crate::domain::request::Kind;
    let m = module("sqs-queue");
    let mut c = Conversation::start(&m);
    assert!(c.asking_kind());
    assert!(c.transcript.last().unwrap().text.starts_with(KIND_QUESTION));
    let replies = c.quick_replies(&m);
    assert_eq!(replies[0].label, "New (default)");
    assert!(replies[0].primary);
    assert!(!c.is_complete(&m));
    c.reply(&m, "it already exists");
    assert_eq!(c.kind(), Kind::Adopt);
    assert_eq!(c.asking.as_deref(), Some("name"));
    let said = &c.transcript[c.transcript.len() - 2].text;
    assert!(said.contains("nothing is created"), "{said}");

    // Words about the kind and more: both are taken.
    let mut c = Conversation::start(&m);
    c.reply(&m, "adopt the existing queue called orders-in");
    assert_eq!(c.kind(), Kind::Adopt);
    assert_eq!(c.answers.get("name"), Some(&json!("orders-in")));

    // Going back to the question asks it again.
    c.revisit(&m, ASKING_KIND);
    assert!(c.asking_kind());
    c.reply(&m, "new");
    assert_eq!(c.kind(), Kind::Create);

    // A module that cannot adopt never asks.
    let mut plain = m.clone();
    plain.import = None;
    let c = Conversation::start(&plain);
    assert_eq!(c.asking.as_deref(), Some("name"));
    assert_eq!(c.kind(), Kind::Create);
    assert!(c.transcript.iter().all(|l| !l.text.contains(KIND_QUESTION)));
}
