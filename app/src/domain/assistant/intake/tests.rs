//! Picking project, environment and module from words, as a table; and the chat commands.

use super::*;

fn registry() -> Registry {
    let text = include_str!("../../../../../modules-registry.toml");
    Registry::from_toml("modules-registry.toml", text).expect("the registry loads")
}

fn place(project: &str, envs: &[&str]) -> Place {
    Place {
        project: ProjectKey::parse(project).expect("a key"),
        environments: envs
            .iter()
            .map(|e| EnvName::parse(e).expect("an env"))
            .collect(),
    }
}

#[test]
fn a_message_names_what_it_can() {
    let sandbox = [place("sandbox", &["dev", "prod"])];
    let two = [
        place("payments", &["dev", "prod"]),
        place("core", &["stage"]),
    ];
    let registry = registry();
    type Row<'a> = (
        &'a [Place],
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );
    let table: [Row; 9] = [
        (
            &sandbox,
            "I need an s3 bucket called team-logs in dev with 30 day expiration",
            Some("sandbox"),
            Some("dev"),
            Some("s3-bucket"),
        ),
        (
            &sandbox,
            "a queue for orders in production please",
            Some("sandbox"),
            Some("prod"),
            Some("sqs-queue"),
        ),
        (
            &sandbox,
            "an sqs-queue",
            Some("sandbox"),
            None,
            Some("sqs-queue"),
        ),
        (
            &sandbox,
            "run my container as an ECS service in dev",
            Some("sandbox"),
            Some("dev"),
            Some("ecs-service"),
        ),
        (
            &sandbox,
            "somewhere to put things",
            Some("sandbox"),
            None,
            None,
        ),
        (
            &two,
            "payments needs a bucket in prod",
            Some("payments"),
            Some("prod"),
            Some("s3-bucket"),
        ),
        (
            &two,
            "a bucket in stage",
            None,
            Some("stage"),
            Some("s3-bucket"),
        ),
        (
            &two,
            "a bucket in dev",
            None,
            Some("dev"),
            Some("s3-bucket"),
        ),
        (
            &two,
            "core: some storage",
            Some("core"),
            Some("stage"),
            Some("s3-bucket"),
        ),
    ];
    for (places, text, project, env, module) in table {
        let got = pick(text, places, &registry);
        assert_eq!(got.project.as_ref().map(|p| p.as_str()), project, "{text}");
        assert_eq!(got.environment.as_ref().map(|e| e.as_str()), env, "{text}");
        assert_eq!(got.module.as_ref().map(|m| m.as_str()), module, "{text}");
    }
}

#[test]
fn commands_are_read_from_the_message() {
    let table = [
        (
            "<@U0BOT> status 01JABC",
            Command::Ask(Question::Status("01jabc".into())),
        ),
        ("<@U0BOT> my requests", Command::Ask(Question::Mine)),
        (
            "<@U0BOT> what failed in prod this week?",
            Command::Ask(Question::Failed {
                environment: Some("prod".into()),
                period: Period::ThisWeek,
            }),
        ),
        ("<@U0BOT>", Command::Help),
        ("help me", Command::Help),
        (
            "<@U0BOT> a bucket in dev",
            Command::Request("a bucket in dev".into()),
        ),
    ];
    for (text, want) in table {
        assert_eq!(command(text), want, "{text}");
    }
}

/// How people ask, and what they mean: the rules must get at least 18 of 20.
#[test]
fn descriptions_in_peoples_words_find_their_module() {
    let table = [
        (
            "somewhere to drop our nightly postgres dumps for 90 days",
            "s3-bucket",
        ),
        ("we need a place to store user uploads", "s3-bucket"),
        ("static website assets for the marketing site", "s3-bucket"),
        ("archive the audit logs for a year", "s3-bucket"),
        ("storage for build artifacts from CI", "s3-bucket"),
        ("a bucket for terraform plans", "s3-bucket"),
        ("keep backups of the wiki", "s3-bucket"),
        (
            "keep the csv exports somewhere for finance to download",
            "s3-bucket",
        ),
        (
            "a queue between the checkout service and the mailer",
            "sqs-queue",
        ),
        (
            "we want to process order events asynchronously",
            "sqs-queue",
        ),
        ("fifo messages for payments, exactly once", "sqs-queue"),
        (
            "buffer incoming webhooks so workers can pick them up later",
            "sqs-queue",
        ),
        ("dead letter handling for failed jobs", "sqs-queue"),
        ("a job backlog for the thumbnail workers", "sqs-queue"),
        ("run our api container on fargate", "ecs-service"),
        ("deploy the billing app as a docker image", "ecs-service"),
        (
            "host a small web server for the internal dashboard",
            "ecs-service",
        ),
        (
            "we need 3 tasks of the worker image running all the time",
            "ecs-service",
        ),
        (
            "spin up the new recommendations microservice",
            "ecs-service",
        ),
        (
            "a long running process that listens on port 8080",
            "ecs-service",
        ),
    ];
    let registry = registry();
    let places = [place("sandbox", &["dev", "prod"])];
    let misses: Vec<(&str, Option<String>)> = table
        .iter()
        .filter_map(|(text, want)| {
            let got = pick(text, &places, &registry).module.map(|m| m.to_string());
            (got.as_deref() != Some(want)).then_some((*text, got))
        })
        .collect();
    let hits = table.len() - misses.len();
    println!("rules adapter hit rate: {hits}/{}", table.len());
    assert!(hits >= 18, "{hits}/20; missed: {misses:?}");
}

#[test]
fn the_reason_names_the_words_that_matched() {
    let registry = registry();
    let bucket = registry
        .module(&ModuleType::parse("s3-bucket").expect("a type"))
        .expect("in the registry");
    let words = matched_words(
        "somewhere to drop our nightly postgres dumps for 90 days",
        bucket,
    );
    assert!(words.contains(&"dumps".to_owned()), "{words:?}");
    assert!(!words.contains(&"90".to_owned()), "{words:?}");
    assert!(matched_words("a queue for orders", bucket).is_empty());
}

#[test]
fn a_message_that_names_nothing_is_offered_the_three_closest() {
    let registry = registry();
    let types = |text: &str| -> Vec<String> {
        closest(text, &registry, 3)
            .iter()
            .map(|m| m.module_type.to_string())
            .collect()
    };
    assert_eq!(types("zzz qqq").len(), 3);
    assert_eq!(types("notifications by topic fan-out")[0], "sns-topic");
    assert_eq!(types("logging retention")[0], "cloudwatch-log-group");
    // The same text gives the same answer.
    assert_eq!(types("zzz qqq"), types("zzz qqq"));
}
