//! The `Assistant` port's contract, held by both adapters: a clear
//! description names a module of the registry and only inputs of that
//! module; a chosen module is kept; a sensitive input is never proposed.
//! The model adapter runs against the fake chat-completions server,
//! scripted with the answers a capable model gives; its failures map to
//! `Timeout`, `Unavailable` and `Malformed`.

use crate::support::model::{FakeModel, MODEL, Reply};
use crate::support::root;
use app::domain::ids::ModuleType;
use app::domain::registry::Registry;
use serde_json::json;
use server::assistant::model::ModelAssistant;
use server::assistant::rules::RulesAssistant;
use server::assistant::{Ask, Assistant, AssistantError};
use server::config::{ModelMode, ModelSettings};
use std::time::Duration;

fn registry() -> Registry {
    let path = root().join("modules-registry.toml");
    let text = std::fs::read_to_string(&path).expect("the registry");
    Registry::from_toml(path.to_str().expect("a path"), &text).expect("it loads")
}

const CLEAR: &str = "a versioned bucket called team-logs with 90 day retention";
const QUEUE: &str = "called orders-dlq";
const SERVICE: &str = "run the billing api image with a DB_PASSWORD secret";

async fn holds_the_contract(assistant: &dyn Assistant, registry: &Registry) {
    let ask = |text, module| Ask {
        text,
        module,
        registry,
    };
    let p = assistant
        .propose(&ask(CLEAR, None))
        .await
        .expect("a proposal");
    let module = p.module.as_deref().expect("a module");
    let ty = ModuleType::parse(module).expect("a module type");
    let m = registry.module(&ty).expect("a module of the registry");
    assert_eq!(module, "s3-bucket");
    assert!(
        p.inputs.keys().all(|k| m.input(k).is_some()),
        "only inputs of the module: {:?}",
        p.inputs
    );
    assert_eq!(p.inputs.get("name"), Some(&json!("team-logs")));

    let sqs = ModuleType::parse("sqs-queue").expect("a type");
    let p = assistant
        .propose(&ask(QUEUE, Some(&sqs)))
        .await
        .expect("a proposal");
    assert_eq!(
        p.module.as_deref(),
        Some("sqs-queue"),
        "the chosen module is kept"
    );
    assert_eq!(p.inputs.get("name"), Some(&json!("orders-dlq")));

    let p = assistant
        .propose(&ask(SERVICE, None))
        .await
        .expect("a proposal");
    let ecs = registry
        .module(&ModuleType::parse("ecs-service").expect("a type"))
        .expect("ecs-service");
    for input in ecs.inputs.iter().filter(|i| i.sensitive) {
        assert!(
            !p.inputs.contains_key(&input.name),
            "{} was proposed",
            input.name
        );
    }
}

#[tokio::test]
async fn the_rules_hold_the_contract() {
    holds_the_contract(&RulesAssistant, &registry()).await;
}

fn settings(model: &FakeModel, timeout: u64) -> ModelSettings {
    ModelSettings {
        url: model.url.clone(),
        model: MODEL.into(),
        api_key: None,
        timeout: Duration::from_secs(timeout),
        mode: ModelMode::JsonSchema,
        cache_max: 10,
    }
}

#[tokio::test]
async fn the_model_adapter_holds_the_contract() {
    let model = FakeModel::start().await;
    model.script(Reply::Answer(json!({"module": "s3-bucket", "inputs": {
        "name": "team-logs", "versioning": true, "expiration_days": 90, "tags": null}})));
    model.script(Reply::Answer(
        json!({"module": "sqs-queue", "inputs": {"name": "orders-dlq"}}),
    ));
    // A model that ignores the schema and fills a sensitive input anyway.
    model.script(Reply::Answer(json!({"module": "ecs-service", "inputs": {
        "name": "billing", "secret_environment": [{"key": "DB_PASSWORD", "value": "arn:x"}]}})));
    let assistant = ModelAssistant::new(settings(&model, 5)).expect("a client");
    holds_the_contract(&assistant, &registry()).await;
    assert_eq!(model.calls(), 3);
}

#[tokio::test]
async fn the_model_adapter_names_each_failure() {
    let model = FakeModel::start().await;
    let assistant = ModelAssistant::new(settings(&model, 1)).expect("a client");
    let registry = registry();
    let ask = Ask {
        text: CLEAR,
        module: None,
        registry: &registry,
    };
    model.script(Reply::Text("not json".into()));
    let e = assistant.propose(&ask).await.expect_err("not JSON");
    assert!(matches!(e, AssistantError::Malformed(_)), "{e}");
    model.script(Reply::Status(500));
    let e = assistant.propose(&ask).await.expect_err("a 500");
    assert!(matches!(e, AssistantError::Unavailable(_)), "{e}");
    assert!(e.to_string().contains("500"), "{e}");
    model.script(Reply::Delay(
        Duration::from_secs(3),
        Box::new(Reply::Answer(json!({"module": null, "inputs": {}}))),
    ));
    let e = assistant.propose(&ask).await.expect_err("too slow");
    assert!(matches!(e, AssistantError::Timeout(_)), "{e}");
    let gone = ModelAssistant::new(ModelSettings {
        url: "http://127.0.0.1:9/v1".into(),
        ..settings(&model, 1)
    })
    .expect("a client");
    let e = gone.propose(&ask).await.expect_err("nobody listens");
    assert!(matches!(e, AssistantError::Unavailable(_)), "{e}");
}
