//! The model adapter: an OpenAI-compatible `POST {url}/chat/completions`
//! asked to answer in the registry's JSON Schema, strictly
//! (`response_format: json_schema`), or through one forced function call
//! for servers without it. A server that refuses `json_schema` with a 400
//! is asked again with the function call, and is asked that way after.
//! The URL, model and API key are read on every call from a [`Live`]
//! credential: without one the assistant is the registry's rules alone
//! ([`Assistant::model`] is `None`), and a model stored later is asked at
//! once.

use super::schema::{SCHEMA_NAME, answer_schema, inputs_from_answer, instructions};
use super::{Ask, Assistant, AssistantError, Proposal};
use crate::config::{ModelMode, ModelSettings};
use crate::integrations::live::Live;
use crate::integrations::values::ModelCredential;
use crate::meters::{self, Outcome, Service};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};

/// The function the model calls in `tools` mode.
pub const TOOL_NAME: &str = "propose_request";

/// Asks a chat-completions server.
pub struct ModelAssistant {
    http: reqwest::Client,
    settings: ModelSettings,
    credential: Live<ModelCredential>,
    tools: AtomicBool,
}

impl ModelAssistant {
    /// A client for `settings` (its timeout covers the whole answer).
    pub fn new(settings: ModelSettings) -> Result<Self, AssistantError> {
        let credential = Live::fixed(ModelCredential {
            url: settings.url.clone(),
            model: settings.model.clone(),
            api_key: settings.api_key.clone(),
        });
        Self::live(settings, credential)
    }

    /// A client reading the URL, model and key from `credential` on every
    /// call; the timeout, mode and cache size come from `settings`.
    pub fn live(
        settings: ModelSettings,
        credential: Live<ModelCredential>,
    ) -> Result<Self, AssistantError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .build()
            .map_err(|e| AssistantError::Unavailable(format!("cannot build the client: {e}")))?;
        let tools = AtomicBool::new(settings.mode == ModelMode::Tools);
        Ok(Self {
            http,
            settings,
            credential,
            tools,
        })
    }

    /// The model now, or why there is none.
    fn current(&self) -> Result<std::sync::Arc<ModelCredential>, AssistantError> {
        self.credential.get().ok_or_else(|| {
            AssistantError::Unavailable(
                "no model is configured (TFPILOT_MODEL_URL, or the stored model integration `default`)"
                    .into(),
            )
        })
    }

    fn body(&self, model: &str, ask: &Ask<'_>, tools: bool) -> Value {
        let only = ask.module.and_then(|m| ask.registry.module(m));
        let schema = answer_schema(ask.registry, only);
        let mut body = json!({
            "model": model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": instructions(ask.registry, only)},
                {"role": "user", "content": ask.text},
            ],
        });
        if tools {
            body["tools"] = json!([{
                "type": "function",
                "function": {
                    "name": TOOL_NAME,
                    "description": "Propose the catalogue module and the inputs the request states.",
                    "parameters": schema,
                    "strict": true,
                },
            }]);
            body["tool_choice"] = json!({"type": "function", "function": {"name": TOOL_NAME}});
        } else {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {"name": SCHEMA_NAME, "schema": schema, "strict": true},
            });
        }
        body
    }

    async fn call(&self, ask: &Ask<'_>, tools: bool) -> Result<Value, Failure> {
        let model = self.current().map_err(Failure::Other)?;
        let mut req = self
            .http
            .post(format!("{}/chat/completions", model.url))
            .json(&self.body(&model.model, ask, tools));
        if let Some(key) = &model.api_key {
            req = req.bearer_auth(key.expose());
        }
        let res = req
            .send()
            .await
            .map_err(|e| Failure::Other(self.failed(e)))
            .inspect_err(|_| meters::upstream_call(Service::Model, Outcome::Error))?;
        let status = res.status();
        meters::upstream_call(Service::Model, Outcome::of_status(status.as_u16()));
        let text = res
            .text()
            .await
            .map_err(|e| Failure::Other(self.failed(e)))?;
        if status == reqwest::StatusCode::BAD_REQUEST && !tools {
            return Err(Failure::Refused);
        }
        if !status.is_success() {
            let said: String = text.chars().take(200).collect();
            return Err(Failure::Other(AssistantError::Unavailable(format!(
                "HTTP {status}: {said}"
            ))));
        }
        let reply: Value = serde_json::from_str(&text)
            .map_err(|e| Failure::Other(AssistantError::Malformed(format!("not JSON ({e})"))))?;
        answer_of(&reply, tools).map_err(Failure::Other)
    }

    fn failed(&self, e: reqwest::Error) -> AssistantError {
        if e.is_timeout() {
            AssistantError::Timeout(self.settings.timeout)
        } else {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            AssistantError::Unavailable(text)
        }
    }
}

enum Failure {
    /// A 400 to `json_schema`: the server may not support it.
    Refused,
    Other(AssistantError),
}

/// The JSON the model answered: the message's content, or the arguments
/// of its function call.
fn answer_of(reply: &Value, tools: bool) -> Result<Value, AssistantError> {
    let message = &reply["choices"][0]["message"];
    let text = if tools {
        message["tool_calls"][0]["function"]["arguments"].as_str()
    } else {
        message["content"].as_str()
    };
    let text = text.ok_or_else(|| {
        AssistantError::Malformed(if tools {
            "no function call in choices[0].message.tool_calls".into()
        } else {
            "no text in choices[0].message.content".into()
        })
    })?;
    let answer: Value = serde_json::from_str(text.trim())
        .map_err(|e| AssistantError::Malformed(format!("the answer is not JSON ({e})")))?;
    if !answer.is_object() || !answer["inputs"].is_object() && !answer["inputs"].is_null() {
        return Err(AssistantError::Malformed(
            "the answer is not an object with `module` and `inputs`".into(),
        ));
    }
    Ok(answer)
}

/// What the model is told when it may call the read-only tools.
const ROUTER: &str = "You route messages sent to tfpilot, a self-service Terraform platform. \
When the message asks about existing requests (their status, who approved them, what failed, \
what waits for the user's approval, the user's own requests), call the one tool that answers it. \
When it asks for new infrastructure or anything else, call no tool and answer with the single word: no.";

impl ModelAssistant {
    /// Offers the read-only tools for `text`; the tool call, if any.
    async fn route(&self, text: &str) -> Result<Option<(String, String)>, AssistantError> {
        let Some(model) = self.credential.get() else {
            // Rules alone: no question is read from words.
            return Ok(None);
        };
        let body = json!({
            "model": model.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": ROUTER},
                {"role": "user", "content": text},
            ],
            "tools": super::tools::definitions(),
            "tool_choice": "auto",
        });
        let mut req = self
            .http
            .post(format!("{}/chat/completions", model.url))
            .json(&body);
        if let Some(key) = &model.api_key {
            req = req.bearer_auth(key.expose());
        }
        let res = req
            .send()
            .await
            .map_err(|e| self.failed(e))
            .inspect_err(|_| meters::upstream_call(Service::Model, Outcome::Error))?;
        let status = res.status();
        meters::upstream_call(Service::Model, Outcome::of_status(status.as_u16()));
        let text = res.text().await.map_err(|e| self.failed(e))?;
        if !status.is_success() {
            let said: String = text.chars().take(200).collect();
            return Err(AssistantError::Unavailable(format!(
                "HTTP {status}: {said}"
            )));
        }
        let reply: Value = serde_json::from_str(&text)
            .map_err(|e| AssistantError::Malformed(format!("not JSON ({e})")))?;
        let call = &reply["choices"][0]["message"]["tool_calls"][0]["function"];
        Ok(match (call["name"].as_str(), call["arguments"].as_str()) {
            (Some(name), Some(args)) => Some((name.to_owned(), args.to_owned())),
            _ => None,
        })
    }
}

#[async_trait]
impl Assistant for ModelAssistant {
    async fn question(
        &self,
        text: &str,
    ) -> Result<Option<app::domain::assistant::intake::Question>, AssistantError> {
        let Some((name, args)) = self.route(text).await? else {
            return Ok(None);
        };
        match super::tools::question(&name, &args) {
            Some(q) => Ok(Some(q)),
            None => Err(AssistantError::Malformed(format!(
                "the model called `{name}` with arguments that do not fit"
            ))),
        }
    }

    fn name(&self) -> &'static str {
        "model"
    }

    fn model(&self) -> Option<String> {
        self.credential.get().map(|m| m.model.clone())
    }

    async fn propose(&self, ask: &Ask<'_>) -> Result<Proposal, AssistantError> {
        let tools = self.tools.load(Ordering::Relaxed);
        let answer = match self.call(ask, tools).await {
            Ok(a) => a,
            Err(Failure::Refused) => {
                let a = self.call(ask, true).await.map_err(|f| match f {
                    Failure::Refused => AssistantError::Unavailable("HTTP 400".into()),
                    Failure::Other(e) => e,
                })?;
                tracing::info!(
                    "the model refused json_schema; asking with a function call from now on"
                );
                self.tools.store(true, Ordering::Relaxed);
                a
            }
            Err(Failure::Other(e)) => return Err(e),
        };
        let module = answer["module"].as_str().map(str::to_owned);
        let known = module
            .as_deref()
            .and_then(|m| app::domain::ids::ModuleType::parse(m).ok())
            .and_then(|m| ask.registry.module(&m));
        let inputs = answer["inputs"]
            .as_object()
            .map(|i| inputs_from_answer(known, i))
            .unwrap_or_default();
        Ok(Proposal { module, inputs })
    }
}
