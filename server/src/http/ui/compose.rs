//! The new-request page: its choices, the preview of a draft, filing it
//! with its transcript as the request's chat log.

use super::{UiServices, refusal};
use crate::service::requests::NewRequest;
use crate::store::journal::ChatMessage;
use app::api::{Draft, NewOptions, ProjectChoice};
use app::domain::assistant::{Line, Speaker};
use app::domain::ids::{ModuleType, RequestId};
use app::domain::policy::Actor;
use app::services::Refusal;

fn new_request(d: Draft) -> NewRequest {
    NewRequest {
        project: d.project,
        environment: d.environment,
        module: d.module,
        config: d.config,
        kind: d.kind,
    }
}

/// A transcript within its bounds, or a 400 naming the line and the rule
/// (checked before anything is filed, so a refusal stores nothing).
fn bounded(transcript: &[Line]) -> Result<(), Refusal> {
    app::domain::assistant::transcript::check(transcript).map_err(|e| Refusal {
        status: 400,
        message: e.to_string(),
    })
}

fn draft_id(d: &Draft) -> Result<RequestId, Refusal> {
    RequestId::parse(&d.id).map_err(|_| Refusal {
        status: 400,
        message: format!("`{}` is not a request id; reload the page", d.id),
    })
}

impl UiServices {
    pub(super) async fn options_for(
        &self,
        actor: &Actor,
        module: &str,
    ) -> Result<NewOptions, Refusal> {
        let (id, ticket) = self.requests.issue_id(actor).await.map_err(refusal)?;
        let schema = ModuleType::parse(module)
            .ok()
            .and_then(|ty| self.registry.module(&ty))
            .map(|m| {
                let mut m = m.clone();
                m.template.clear();
                m
            });
        Ok(NewOptions {
            projects: self
                .requests
                .projects()
                .fileable_by(actor)
                .iter()
                .map(|p| ProjectChoice {
                    key: p.key.to_string(),
                    title: p.title.clone(),
                    environments: p.environments.iter().map(|e| e.to_string()).collect(),
                })
                .collect(),
            modules: self.catalog_cards(),
            module: schema,
            id: id.to_string(),
            ticket,
        })
    }

    pub(super) fn preview_for(&self, actor: &Actor, d: Draft) -> Result<String, Refusal> {
        let id = draft_id(&d)?;
        self.requests
            .preview(actor, &new_request(d), &id)
            .map(|b| b.text)
            .map_err(refusal)
    }

    pub(super) async fn draft_for(&self, actor: &Actor, id: &str) -> Result<Draft, Refusal> {
        let view = self.requests.get(actor, id).await.map_err(refusal)?;
        let doc = view.request;
        // The requester's own answers: computed tags come back on submit.
        let config = match self.registry.module(&doc.module) {
            Some(module) => app::domain::config::user_answers(module, &doc.config),
            None => doc.config,
        };
        Ok(Draft {
            id: doc.id.to_string(),
            ticket: String::new(),
            project: doc.project.to_string(),
            environment: doc.environment.to_string(),
            module: doc.module.to_string(),
            config,
            kind: doc.kind,
        })
    }

    pub(super) async fn update_for(
        &self,
        actor: &Actor,
        d: Draft,
        transcript: Vec<Line>,
    ) -> Result<String, Refusal> {
        let id = draft_id(&d)?;
        bounded(&transcript)?;
        self.flow
            .update(actor, &id, &d.config)
            .await
            .map_err(refusal)?;
        self.keep_transcript(id, transcript).await;
        Ok(id.to_string())
    }

    /// Appends the conversation to the request's chat log: one record for
    /// the whole transcript.
    async fn keep_transcript(&self, id: RequestId, transcript: Vec<Line>) {
        let at = self.clock.rfc3339_millis();
        let messages: Vec<ChatMessage> = transcript
            .into_iter()
            .map(|line| ChatMessage {
                role: match line.from {
                    Speaker::Assistant => "assistant",
                    Speaker::User => "user",
                }
                .into(),
                text: line.text,
                at: at.clone(),
            })
            .collect();
        if let Err(e) = self.chat_logs.append_all(id.as_str(), &messages).await {
            tracing::error!(request = %id, "could not store the chat log: {e}");
        }
    }

    pub(super) async fn file_for(
        &self,
        actor: &Actor,
        d: Draft,
        transcript: Vec<Line>,
    ) -> Result<String, Refusal> {
        let id = draft_id(&d)?;
        bounded(&transcript)?;
        let ticket = d.ticket.clone();
        let view = self
            .requests
            .create_issued(actor, new_request(d), id, &ticket)
            .await
            .map_err(refusal)?;
        self.keep_transcript(id, transcript).await;
        Ok(view.request.id.to_string())
    }
}
