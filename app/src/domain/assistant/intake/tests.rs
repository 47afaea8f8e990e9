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
        ("<@U0BOT> status 01JABC", Command::Status("01JABC".into())),
        ("<@U0BOT> my requests", Command::Mine),
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
