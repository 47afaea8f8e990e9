//! The explanation over recorded plans of the shipped modules, as a table
//! of exact sentences: create, update, replace, delete, a destroyed
//! request, a plan with no changes, changes outside the request, and what
//! a request asks for before its plan.

use super::*;
use crate::domain::config::normalize;
use crate::domain::ids::{EnvName, ModuleType, ProjectKey, Target};
use crate::domain::registry::Registry;
use crate::domain::request::{Conclusion, PullRequest, RunStatus};
use serde_json::{Value, json};

fn registry() -> Registry {
    Registry::from_toml(
        "modules-registry.toml",
        include_str!("../../../../modules-registry.toml"),
    )
    .expect("the registry loads")
}

fn id() -> RequestId {
    RequestId::generate(1_767_225_600_000, 7)
}

/// A stored request of `module` in `env` with `raw` inputs, normalized as
/// the server stores them (defaults and computed tags).
fn doc(registry: &Registry, module: &str, env: &str, raw: Value) -> Request {
    let ty = ModuleType::parse(module).expect("a module type");
    let (project, environment) = (
        ProjectKey::parse("sandbox").expect("a key"),
        EnvName::parse(env).expect("an env"),
    );
    let target = Target {
        request_id: &id(),
        project: &project,
        environment: &environment,
    };
    let m = registry.module(&ty).expect("a shipped module");
    let raw = raw.as_object().expect("an object").clone();
    let config = normalize(m, &raw, target).expect("valid inputs");
    Request {
        id: id(),
        module: ty,
        config,
        ..crate::domain::status::tests::request(env)
    }
}

/// `(address in the request's block, action)` → the plan's changes.
fn own(module: &str, changes: &[(&str, &str)]) -> Vec<PlannedChange> {
    changes
        .iter()
        .map(|(rest, action)| PlannedChange {
            address: format!("module.{module}_{}.{rest}", id()),
            action: (*action).to_owned(),
        })
        .collect()
}

/// The counts `terraform show` gives for `changes`.
fn counted(changes: &[PlannedChange]) -> PlanSummary {
    let mut s = PlanSummary::default();
    for c in changes {
        match c.action.as_str() {
            "create" => s.add += 1,
            "update" => s.change += 1,
            "delete" => s.destroy += 1,
            "replace" => {
                s.add += 1;
                s.destroy += 1;
            }
            _ => {}
        }
    }
    s
}

struct Case {
    what: &'static str,
    module: &'static str,
    env: &'static str,
    config: Value,
    plan: Vec<(&'static str, &'static str)>,
    want: &'static str,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "create, one resource",
            module: "s3-bucket",
            env: "dev",
            config: json!({"name": "team-logs", "expiration_days": 90}),
            plan: vec![("aws_s3_bucket.this", "create")],
            want: "Creates 1 S3 bucket `team-logs` in dev with versioning on; AES256 encryption; objects expire after 90 days. Nothing is changed or destroyed.",
        },
        Case {
            what: "create, the real module's resources",
            module: "s3-bucket",
            env: "dev",
            config: json!({"name": "team-logs", "versioning": false}),
            plan: vec![
                ("aws_s3_bucket.this", "create"),
                ("aws_s3_bucket_lifecycle_configuration.this[0]", "create"),
                ("aws_s3_bucket_ownership_controls.this", "create"),
                ("aws_s3_bucket_public_access_block.this", "create"),
                (
                    "aws_s3_bucket_server_side_encryption_configuration.this",
                    "create",
                ),
                ("aws_s3_bucket_versioning.this", "create"),
                ("data.aws_iam_policy_document.this", "read"),
            ],
            want: "Creates 6 resources for the S3 bucket `team-logs` in dev (1 S3 bucket, 1 S3 bucket lifecycle configuration, 1 S3 bucket ownership controls, 1 S3 bucket public access block, 1 S3 bucket server side encryption configuration and 1 S3 bucket versioning) with versioning off; AES256 encryption. Nothing is changed or destroyed.",
        },
        Case {
            what: "create on the sandbox's stand-in",
            module: "s3-bucket",
            env: "dev",
            config: json!({"name": "page-bucket"}),
            plan: vec![("terraform_data.this", "create")],
            want: "Creates 1 Terraform data resource for the S3 bucket `page-bucket` in dev with versioning on; AES256 encryption. Nothing is changed or destroyed.",
        },
        Case {
            what: "create, a sensitive input never said",
            module: "ecs-service",
            env: "dev",
            config: json!({"name": "api", "cluster_arn": "arn:aws:ecs:eu-west-1:123456789012:cluster/main",
                "image": "nginx:1.27", "subnet_ids": ["subnet-0abc1234"], "security_group_ids": ["sg-0abc1234"],
                "environment": {"PORT": "8080", "LOG_LEVEL": "info"},
                "secret_environment": {"DB_PASSWORD": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-HUNTER2"}}),
            plan: vec![("aws_ecs_service.this", "create")],
            want: "Creates 1 ECS service `api` in dev with cluster `arn:aws:ecs:eu-west-1:123456789012:cluster/main`; image `nginx:1.27`; 256 CPU units; 512 MiB of memory; desired count 1; no public IP; environment variables LOG_LEVEL and PORT. Nothing is changed or destroyed.",
        },
        Case {
            what: "update in place",
            module: "sqs-queue",
            env: "prod",
            config: json!({"name": "orders", "visibility_timeout_seconds": 60}),
            plan: vec![("aws_sqs_queue.this", "update")],
            want: "Changes 1 SQS queue `orders` in prod in place, now with a 60-second visibility timeout; messages kept for 345600 seconds. Nothing is created or destroyed.",
        },
        Case {
            what: "replace, destructive first",
            module: "sqs-queue",
            env: "dev",
            config: json!({"name": "orders", "fifo": true, "dlq_max_receive_count": 5}),
            plan: vec![
                ("aws_sqs_queue.dlq[0]", "create"),
                ("aws_sqs_queue.this", "replace"),
                ("aws_sqs_queue_redrive_allow_policy.dlq[0]", "create"),
            ],
            want: "Replaces the SQS queue `orders` in dev: it is destroyed and created again, and what it holds is lost. Creates 2 resources for the SQS queue `orders` (1 SQS queue and 1 SQS queue redrive allow policy) with FIFO ordering (exactly-once delivery); a 30-second visibility timeout; messages kept for 345600 seconds; a dead-letter queue after 5 failed receives. Nothing is changed.",
        },
        Case {
            what: "delete within a change, destructive first",
            module: "sqs-queue",
            env: "dev",
            config: json!({"name": "orders"}),
            plan: vec![
                ("aws_sqs_queue.this", "update"),
                ("aws_sqs_queue.dlq[0]", "delete"),
                ("aws_sqs_queue_redrive_allow_policy.dlq[0]", "delete"),
            ],
            want: "Destroys 2 resources of the SQS queue `orders` in dev (1 SQS queue and 1 SQS queue redrive allow policy) and everything in them. Changes 1 SQS queue `orders` in place, now with a 30-second visibility timeout; messages kept for 345600 seconds. Nothing is created.",
        },
        Case {
            what: "a destroyed queue",
            module: "sqs-queue",
            env: "dev",
            config: json!({"name": "orders-dlq"}),
            plan: vec![("aws_sqs_queue.this", "delete")],
            want: "Destroys the SQS queue `orders-dlq` in dev and everything in it. Nothing is created or changed.",
        },
        Case {
            what: "a destroyed service and its parts",
            module: "ecs-service",
            env: "prod",
            config: json!({"name": "api", "cluster_arn": "arn:aws:ecs:eu-west-1:123456789012:cluster/main",
                "image": "nginx:1.27", "subnet_ids": ["subnet-0abc1234"], "security_group_ids": ["sg-0abc1234"]}),
            plan: vec![
                ("aws_cloudwatch_log_group.this", "delete"),
                ("aws_ecs_service.this", "delete"),
                ("aws_ecs_task_definition.this", "delete"),
                ("aws_iam_role.execution", "delete"),
                ("aws_iam_role_policy_attachment.execution", "delete"),
            ],
            want: "Destroys 5 resources of the ECS service `api` in prod (1 ECS service, 1 CloudWatch log group, 1 ECS task definition, 1 IAM role and 1 IAM role policy attachment) and everything in them. Nothing is created or changed.",
        },
        Case {
            what: "no changes",
            module: "cloudwatch-log-group",
            env: "dev",
            config: json!({"name": "/app/api"}),
            plan: vec![],
            want: "Nothing changes.",
        },
        Case {
            what: "topic with subscribers",
            module: "sns-topic",
            env: "dev",
            config: json!({"name": "alerts", "email_subscriptions": ["a@example.com", "b@example.com"]}),
            plan: vec![
                ("aws_sns_topic.this", "create"),
                (
                    "aws_sns_topic_subscription.email[\"a@example.com\"]",
                    "create",
                ),
                (
                    "aws_sns_topic_subscription.email[\"b@example.com\"]",
                    "create",
                ),
            ],
            want: "Creates 3 resources for the SNS topic `alerts` in dev (1 SNS topic and 2 SNS topic subscriptions) with email subscribers a@example.com and b@example.com. Nothing is changed or destroyed.",
        },
    ]
}

#[test]
fn recorded_plans_in_words() {
    let registry = registry();
    for case in cases() {
        let doc = doc(&registry, case.module, case.env, case.config);
        let module = registry.module(&doc.module).expect("module");
        let changes = own(case.module, &case.plan);
        let got = explain(&Subject::of(&doc, module), &changes, counted(&changes));
        assert_eq!(got, case.want, "{}", case.what);
        let destructive = changes
            .iter()
            .any(|c| matches!(c.action.as_str(), "delete" | "replace"));
        assert_eq!(
            got.starts_with("Destroys") || got.starts_with("Replaces"),
            destructive,
            "{}: destructive changes come first",
            case.what
        );
        assert!(!got.contains("HUNTER2") && !got.contains("DB_PASSWORD"));
        let sentences = got.matches(". ").count() + 1;
        assert!(sentences <= 3, "{}: {sentences} sentences", case.what);
    }
}

#[test]
fn changes_outside_the_request_are_counted_destroys_first() {
    let registry = registry();
    let doc = doc(
        &registry,
        "s3-bucket",
        "dev",
        json!({"name": "team-logs", "versioning": false}),
    );
    let module = registry.module(&doc.module).expect("module");
    let subject = Subject::of(&doc, module);
    let mut plan = own("s3-bucket", &[("aws_s3_bucket.this", "create")]);
    plan.push(PlannedChange {
        address: "aws_s3_bucket.hand_written".into(),
        action: "delete".into(),
    });
    let summary = PlanSummary {
        import: 0,
        add: 3,
        change: 1,
        destroy: 1,
    };
    assert_eq!(
        explain(&subject, &plan, summary),
        "Outside this request, the plan destroys 1 resource. Creates 1 S3 bucket `team-logs` in dev with versioning off; AES256 encryption. Outside this request, the plan creates 2 resources and changes 1 resource."
    );
    // Only the request's own changes recorded: the rest comes from the counts.
    let own_only = own_changes(doc.id, plan.clone());
    assert_eq!(own_only.len(), 1);
    assert_eq!(
        explain(&subject, &own_only, summary),
        explain(&subject, &plan, summary)
    );
    assert_eq!(
        explain(
            &subject,
            &[],
            PlanSummary {
                import: 0,
                add: 0,
                change: 2,
                destroy: 1
            }
        ),
        "Nothing of this request changes. Outside it, the plan destroys 1 resource and changes 2 resources."
    );
}

#[test]
fn before_a_plan_it_says_what_is_asked() {
    let registry = registry();
    let cases = [
        (
            "s3-bucket",
            json!({"name": "team-logs", "expiration_days": 90}),
            Ask::Create,
            "Asks for 1 S3 bucket `team-logs` in dev with versioning on; AES256 encryption; objects expire after 90 days; the plan will show exact changes.",
        ),
        (
            "sns-topic",
            json!({"name": "alerts", "email_subscriptions": ["a@example.com"]}),
            Ask::Change,
            "Asks to change the SNS topic `alerts` in dev, now with email subscribers a@example.com; the plan will show exact changes.",
        ),
        (
            "cloudwatch-log-group",
            json!({"name": "/app/api"}),
            Ask::Destroy,
            "Asks to destroy the CloudWatch log group `/app/api` in dev and everything in it.",
        ),
    ];
    for (module, config, ask, want) in cases {
        let doc = doc(&registry, module, "dev", config);
        let m = registry.module(&doc.module).expect("module");
        assert_eq!(asks(&Subject::of(&doc, m), ask), want, "{module}");
    }
}

fn attempt(status: RunStatus, changes: Option<Vec<PlannedChange>>) -> Attempt {
    Attempt {
        attempt: 1,
        head_sha: "head".into(),
        status,
        conclusion: (status == RunStatus::Completed).then_some(Conclusion::Success),
        summary: changes.as_deref().map(counted),
        changes,
        ..Default::default()
    }
}

#[test]
fn a_request_is_explained_from_its_newest_recorded_plan() {
    let registry = registry();
    let base = doc(&registry, "sqs-queue", "dev", json!({"name": "orders"}));
    let module = registry.module(&base.module).expect("module");
    let created = own("sqs-queue", &[("aws_sqs_queue.this", "create")]);
    let deleted = own("sqs-queue", &[("aws_sqs_queue.this", "delete")]);
    let asks_for = "Asks for 1 SQS queue `orders` in dev with a 30-second visibility timeout; messages kept for 345600 seconds; the plan will show exact changes.";
    let creates = "Creates 1 SQS queue `orders` in dev with a 30-second visibility timeout; messages kept for 345600 seconds. Nothing is changed or destroyed.";
    let with = |edit: &dyn Fn(&mut Request)| {
        let mut doc = base.clone();
        edit(&mut doc);
        request(&doc, module)
    };
    assert_eq!(with(&|_| {}), asks_for, "no plan yet");
    let queued = |d: &mut Request| d.runs.plan.attempts.push(attempt(RunStatus::Queued, None));
    assert_eq!(with(&queued), asks_for, "a plan running");
    let planned = |d: &mut Request| {
        d.runs
            .plan
            .attempts
            .push(attempt(RunStatus::Completed, Some(created.clone())))
    };
    assert_eq!(with(&planned), creates);
    let unread = |d: &mut Request| {
        d.runs
            .plan
            .attempts
            .push(attempt(RunStatus::Completed, None))
    };
    assert_eq!(with(&unread), asks_for, "changes not recorded");
    let revised = |d: &mut Request| {
        d.revision = 2;
        queued(d);
    };
    assert!(with(&revised).starts_with("Asks to change the SQS queue `orders` in dev"));
    let destroying = |d: &mut Request| {
        planned(d);
        d.cleanup_pr = Some(PullRequest::default());
    };
    assert_eq!(
        with(&destroying),
        "Asks to destroy the SQS queue `orders` in dev and everything in it."
    );
    let destroyed = |d: &mut Request| {
        destroying(d);
        d.runs
            .destroy
            .attempts
            .push(attempt(RunStatus::Completed, Some(deleted.clone())));
    };
    assert_eq!(
        with(&destroyed),
        "Destroys the SQS queue `orders` in dev and everything in it. Nothing is created or changed."
    );
}

#[test]
fn an_adopt_request_says_it_imports_and_creates_nothing() {
    let registry = registry();
    let mut doc = doc(&registry, "sqs-queue", "dev", json!({"name": "orders"}));
    doc.kind = crate::domain::request::Kind::Adopt;
    let module = registry.module(&doc.module).expect("module");
    assert_eq!(
        request(&doc, module),
        "Asks to adopt an existing SQS queue `orders` in dev with a 30-second visibility timeout; \
         messages kept for 345600 seconds: it is imported, not created; the plan will show exact changes."
    );
    let subject = Subject::of(&doc, module);
    // Imported as it is: the import alone.
    let alone = own("sqs-queue", &[("terraform_data.this", "import")]);
    let summary = PlanSummary {
        import: 1,
        ..PlanSummary::default()
    };
    assert_eq!(
        explain(&subject, &alone, summary),
        "Adopts 1 existing resource: imported into the state, not created. Nothing changes."
    );
    // Imported and brought in line with the inputs.
    let updated = own("sqs-queue", &[("terraform_data.this", "update")]);
    let summary = PlanSummary {
        import: 1,
        change: 1,
        ..PlanSummary::default()
    };
    let said = explain(&subject, &updated, summary);
    assert!(
        said.starts_with(
            "Adopts 1 existing resource: imported into the state, not created. Changes 1 "
        ),
        "{said}"
    );
    assert!(said.ends_with("Nothing is created or destroyed."), "{said}");
    // An import of the request's own block is kept with its changes.
    assert_eq!(own_changes(doc.id, alone.clone()), alone);
}
