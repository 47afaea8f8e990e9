//! `POST /api/v1/assistant/ask`: questions about platform state answered as the asker under the policy — what waits for my approval, status by an id's start, what failed (a manual clock, an environment), who approved — and the 4xx for what is not a question.

use crate::support::{TestApp, WAIT};
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::clock::ManualClock;
use server::exec::RunKind;
use server::exec::fake::{FakeExecutor, Outcome};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

const DAY: u64 = 86_400;
/// Monday 2026-05-04, 09:00 UTC.
const LAST_WEEK: u64 = 20_577 * DAY + 9 * 3600;
/// Wednesday 2026-05-13, 10:00 UTC.
const WEDNESDAY: u64 = 20_586 * DAY + 10 * 3600;

struct World {
    app: TestApp,
    rita: String,
    alex: String,
    pat: String,
    vic: String,
}

impl World {
    /// Plans fail in `stage` and `qa`; everything else succeeds. Pat is on
    /// the prod allow-list, Alex is not.
    async fn start() -> World {
        let exec = Arc::new(FakeExecutor::new().with_auto_complete(|spec| {
            let env = spec.environment.as_str();
            if spec.kind == RunKind::Plan && (env == "stage" || env == "qa") {
                Outcome::failure("terraform plan failed")
            } else {
                Outcome::success()
            }
        }));
        let clock = Arc::new(ManualClock::new(
            UNIX_EPOCH + Duration::from_secs(LAST_WEEK),
        ));
        let data = tempfile::tempdir().unwrap();
        let config = data.path().join("tfpilot.toml");
        std::fs::write(
            &config,
            "[projects.sandbox]\nenvironments = [\"dev\", \"stage\", \"qa\", \"prod\"]\n",
        )
        .unwrap();
        let app = TestApp::builder()
            .data(data)
            .executor(exec)
            .clock(clock)
            .env(&[
                ("TFPILOT_CONFIG", config.to_str().unwrap()),
                ("TFPILOT_PROD_ALLOWED_USERS", "pat"),
            ])
            .spawn()
            .await;
        World {
            rita: app.token("rita", Role::Requester).await,
            alex: app.token("alex", Role::Approver).await,
            pat: app.token("pat", Role::Approver).await,
            vic: app.token("vic", Role::Viewer).await,
            app,
        }
    }

    async fn ask_raw(&self, token: &str, body: Value) -> (u16, Value) {
        let res = self
            .app
            .post_as(token, "/api/v1/assistant/ask", &body)
            .await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or_default())
    }

    /// The answer to `text` as `token`'s user (200 expected).
    async fn ask(&self, token: &str, text: &str) -> Value {
        let (status, body) = self.ask_raw(token, json!({ "text": text })).await;
        assert_eq!(status, 200, "{text}: {body}");
        body
    }

    /// A queue `name` in `env`, filed by Rita a minute after the last
    /// one, once its plan ran.
    async fn queue(&self, env: &str, name: &str, then: &str) -> String {
        self.app.clock().advance(Duration::from_secs(60));
        let id = self
            .app
            .file(&self.rita, env, "sqs-queue", json!({ "name": name }))
            .await;
        self.app.wait_for_status(&self.rita, &id, then, WAIT).await;
        self.app.wait_for_row(&self.rita, &id, then, WAIT).await;
        id
    }
}

fn ids(answer: &Value) -> Vec<&str> {
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect()
}

fn sentence(answer: &Value) -> &str {
    answer["answer"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn questions_are_answered_as_the_asker_under_the_policy() {
    let w = World::start().await;
    // Last week: a plan failed in stage.
    let old_stage = w.queue("stage", "old-stage", "failed").await;
    // This week (Wednesday): a failure in stage, one in qa, two plans ready.
    w.app
        .clock()
        .set(UNIX_EPOCH + Duration::from_secs(WEDNESDAY));
    let stage = w.queue("stage", "new-stage", "failed").await;
    let qa = w.queue("qa", "new-qa", "failed").await;
    let dev = w.queue("dev", "ready-dev", "plan_ready").await;
    let prod = w.queue("prod", "ready-prod", "plan_ready").await;

    // Waiting for my approval: exactly what each may approve now.
    let pat = w.ask(&w.pat, "what is waiting for my approval?").await;
    assert_eq!(ids(&pat), [prod.as_str(), dev.as_str()], "{pat}");
    assert_eq!(sentence(&pat), "2 requests wait for your approval.");
    assert_eq!(pat["items"][0]["link"], format!("/requests/{prod}"));
    assert_eq!(pat["items"][0]["status"], "plan_ready");
    assert_eq!(pat["items"][0]["title"], "SQS queue ready-prod");
    let alex = w.ask(&w.alex, "anything for me to approve").await;
    assert_eq!(
        ids(&alex),
        [dev.as_str()],
        "not on the prod allow-list: {alex}"
    );
    let rita = w.ask(&w.rita, "pending approvals").await;
    assert_eq!(ids(&rita), Vec::<&str>::new(), "{rita}");
    assert!(
        sentence(&rita)
            .starts_with("Nothing is waiting for your approval: `approve` needs the approver"),
        "{rita}"
    );
    let vic = w.ask(&w.vic, "what's waiting for my approval").await;
    assert_eq!(ids(&vic), Vec::<&str>::new(), "{vic}");
    assert!(
        sentence(&vic).contains("viewers can read requests"),
        "{vic}"
    );

    // What failed: the period by the manual clock, the environment by name or alias.
    let week = w.ask(&w.vic, "what failed this week?").await;
    assert_eq!(
        ids(&week),
        [qa.as_str(), stage.as_str()],
        "newest first: {week}"
    );
    assert_eq!(
        sentence(&week),
        "2 requests failed this week, newest first."
    );
    assert_eq!(
        week["items"][1]["detail"],
        "plan attempt 1 failed (sqs-queue in sandbox/stage)"
    );
    assert_eq!(week["items"][1]["at"], "2026-05-13T10:01:00.000Z");
    let in_stage = w.ask(&w.vic, "what failed in stage this week?").await;
    assert_eq!(ids(&in_stage), [stage.as_str()], "{in_stage}");
    let staging = w.ask(&w.rita, "What failed in staging today").await;
    assert_eq!(ids(&staging), [stage.as_str()], "an alias: {staging}");
    assert_eq!(sentence(&staging), "1 request failed in stage today.");
    let fortnight = w.ask(&w.vic, "failures in stage in the last 14 days").await;
    assert_eq!(
        ids(&fortnight),
        [stage.as_str(), old_stage.as_str()],
        "{fortnight}"
    );
    let prod_failures = w.ask(&w.vic, "what failed in prod this week").await;
    assert_eq!(ids(&prod_failures), Vec::<&str>::new());
    assert!(
        sentence(&prod_failures)
            .starts_with("Nothing failed in prod this week (since 2026-05-11 00:00 UTC)"),
        "{prod_failures}"
    );
    let narnia = w.ask(&w.vic, "what failed in narnia").await;
    assert_eq!(
        sentence(&narnia),
        "There is no environment `narnia`; the environments are dev, prod, qa, stage."
    );

    // Status by the start of an id; too short a start names every match.
    let status = w.ask(&w.vic, &format!("status of {}…", &dev[..12])).await;
    assert_eq!(ids(&status), [dev.as_str()]);
    assert!(
        sentence(&status).ends_with("(sqs-queue in sandbox/dev by rita) is plan_ready."),
        "{status}"
    );
    // Filed a minute apart on Wednesday, their ids share 6 characters.
    let many = w.ask(&w.vic, &format!("where is {}", &dev[..6])).await;
    assert_eq!(
        ids(&many),
        [prod.as_str(), dev.as_str(), qa.as_str(), stage.as_str()],
        "{many}"
    );
    assert!(sentence(&many).contains("give more of the id"), "{many}");
    let unknown = w.ask(&w.vic, "status of 0000000000000000").await;
    assert_eq!(
        sentence(&unknown),
        "There is no live request `0000000000000000`."
    );

    // Who approved: nobody yet, then Pat (and a viewer may read it).
    let before = w.ask(&w.vic, &format!("who approved {dev}?")).await;
    assert!(
        sentence(&before).contains("has not been approved yet (it is plan_ready)"),
        "{before}"
    );
    let res = w
        .app
        .post_as(
            &w.pat,
            &format!("/api/v1/requests/{dev}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 202);
    w.app.wait_for_status(&w.pat, &dev, "approved", WAIT).await;
    w.app.wait_for_row(&w.pat, &dev, "approved", WAIT).await;
    let after = w.ask(&w.vic, &format!("who approved {}", &dev[..12])).await;
    assert_eq!(
        sentence(&after),
        format!("{dev} SQS queue ready-dev was approved by pat at 2026-05-13 10:04 UTC.")
    );
    assert_eq!(
        after["items"][0]["detail"],
        "approved by pat: revision 1, plan attempt 1; holds now"
    );
    assert_eq!(after["items"][0]["status"], "approved");
    let pat = w.ask(&w.pat, "what needs my approval").await;
    assert_eq!(
        ids(&pat),
        [prod.as_str()],
        "approved is no longer waiting: {pat}"
    );

    // My requests.
    let mine = w.ask(&w.rita, "my requests").await;
    assert_eq!(ids(&mine).len(), 5, "{mine}");
    let none = w.ask(&w.pat, "my requests").await;
    assert_eq!(sentence(&none), "pat has no live requests.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn what_is_not_a_question_is_a_4xx_naming_text() {
    let exec = Arc::new(FakeExecutor::new().with_auto_complete(|_| Outcome::success()));
    let app = TestApp::builder().executor(exec).spawn().await;
    let w = World {
        rita: app.token("rita", Role::Requester).await,
        alex: String::new(),
        pat: String::new(),
        vic: app.token("vic", Role::Viewer).await,
        app,
    };
    for (body, status, field) in [
        (json!({"text": ""}), 422, "text"),
        (json!({"text": "  \n "}), 422, "text"),
        (json!({"text": "x".repeat(4001)}), 422, "text"),
        (json!({"text": "I need a bucket for logs"}), 422, "text"),
        (json!({"text": "help"}), 422, "text"),
        (json!({}), 400, "text"),
        (json!({"text": "my requests", "env": "dev"}), 400, "env"),
    ] {
        let (got, answer) = w.ask_raw(&w.rita, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (_, long) = w.ask_raw(&w.vic, json!({"text": "x".repeat(4001)})).await;
    assert_eq!(
        long["error"]["message"],
        "text must be at most 4000 characters (it has 4001)"
    );
    let (_, words) = w
        .ask_raw(&w.vic, json!({"text": "I need a bucket for logs"}))
        .await;
    let message = words["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("not a question I can answer; try “what is waiting for my approval?”"),
        "{message}"
    );
    assert!(
        message.contains("“who approved <request id>?”"),
        "{message}"
    );
    // Exactly 4,000 characters is a question's length, just not one.
    let (got, _) = w.ask_raw(&w.vic, json!({"text": "é".repeat(4000)})).await;
    assert_eq!(got, 422);
    let res = w
        .app
        .client
        .post(w.app.url("/api/v1/assistant/ask"))
        .json(&json!({"text": "my requests"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "signed-in users only");
    let vic = w.ask(&w.vic, "my requests").await;
    assert_eq!(sentence(&vic), "vic has no live requests.");
}

#[tokio::test]
async fn the_openapi_document_describes_ask() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let op = &doc["paths"]["/api/v1/assistant/ask"]["post"];
    for code in ["200", "400", "401", "403", "413", "422", "503"] {
        assert!(op["responses"].get(code).is_some(), "ask documents {code}");
    }
    assert_eq!(op["operationId"], "postAssistantAsk");
    assert_eq!(
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/AskRequest"
    );
    assert_eq!(
        op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/AskAnswer"
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["AskRequest"]["properties"]["text"]["maxLength"],
        4000
    );
    assert_eq!(schemas["AskRequest"]["additionalProperties"], false);
    assert_eq!(
        schemas["AskAnswer"]["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/AskItem"
    );
}
