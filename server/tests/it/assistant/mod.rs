//! "Describe what you need": `POST /api/v1/assistant/draft` with the rules
//! alone and with a model (a fake OpenAI-compatible server): the prompt
//! cache, every fallback, re-validation, the schema, and the page.

mod api;
mod contract;
mod model;
mod page;
mod questions;
mod schema;

use crate::support::TestApp;
use crate::support::model::FakeModel;
use app::domain::policy::Role;
use serde_json::Value;

const DRAFT: &str = "/api/v1/assistant/draft";

/// A server whose assistant asks `model`, with extra settings.
async fn with_model(model: &FakeModel, extra: &[(&str, &str)]) -> TestApp {
    let mut vars: Vec<(String, String)> = model.env();
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    TestApp::builder().env(&vars).spawn().await
}

/// Drafts `body` as a requester; the status and the JSON.
async fn draft(app: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    let res = app.post_as(token, DRAFT, body).await;
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON"))
}

async fn requester(app: &TestApp) -> String {
    app.token("rita", Role::Requester).await
}
