//! A request asked for in a thread: pick project, environment and module from the words (asking when unsure), run the assistant's questions, then show the summary with the exact block and Submit / Change.

use super::blocks::{self, Summary};
use super::bot::{Place, SlackBot, how_to_link};
use super::drafts::{Draft, Stage};
use crate::service::requests::NewRequest;
use app::api::assistant::{AssistantAsk, AssistantDraft};
use app::domain::assistant::intake::{self, pick};
use app::domain::assistant::{
    Answer, Conversation, Speaker, extract, form_text, parse_answer, show,
};
use app::domain::ids::{EnvName, ModuleType, ProjectKey};
use app::domain::policy::Actor;
use app::domain::registry::Module;
use std::sync::Arc;

/// What to post after a message.
enum Reply {
    /// A line in the thread.
    Text(String),
    /// The summary with its buttons.
    Summary,
}

impl SlackBot {
    /// Takes `text` from `user` at `place` into the place's draft and
    /// answers in the thread.
    pub(super) async fn converse(self: &Arc<Self>, place: Place, user: &str, text: &str) {
        let id = place.draft_id();
        let _turn = self.lock(&id).await;
        let stored = match self.drafts.get(&id).await {
            Ok(stored) => stored,
            Err(e) => {
                tracing::warn!(draft = %id, "cannot read the Slack draft: {e}");
                return self
                    .say(
                        &place,
                        "tfpilot cannot reach its store right now; please try again in a minute.",
                    )
                    .await;
            }
        };
        let (mut draft, etag) = match stored {
            Some(s) if s.value.stage != Stage::Filed => (s.value, Some(s.etag)),
            other => (
                Draft {
                    id: id.clone(),
                    channel: place.channel.clone(),
                    thread_ts: place.thread.clone(),
                    slack_user: user.to_owned(),
                    ..Draft::default()
                },
                other.map(|s| s.etag),
            ),
        };
        let (suggestion, places) = match draft.stage {
            Stage::Picking => {
                let actor = self.picker(user).await;
                let places = self.places(&actor);
                (self.suggestion(&actor, &draft, text).await, places)
            }
            _ => (None, Vec::new()),
        };
        let replies = self.advance(&mut draft, text, suggestion, &places);
        let summary = replies.iter().any(|r| matches!(r, Reply::Summary));
        let starter = if summary {
            self.prepare_summary(&mut draft).await
        } else {
            None
        };
        if let Err(e) = self.drafts.put(&draft, etag.as_deref()).await {
            tracing::warn!(draft = %id, "cannot store the Slack draft: {e}");
            return self
                .say(
                    &place,
                    "Someone answered in this thread at the same moment; please send that again.",
                )
                .await;
        }
        for reply in replies {
            match reply {
                Reply::Text(line) => self.say(&place, &line).await,
                Reply::Summary => self.show_summary(&place, &draft, starter.as_ref()).await,
            }
        }
    }

    /// Who picks a project in a thread: the linked user when a project is
    /// hidden from some (members only), else anyone, who sees them all.
    async fn picker(&self, user: &str) -> Actor {
        let anyone = || Actor::person("", app::domain::policy::Role::Viewer);
        let policy = self.requests.projects().policy();
        let all_open = policy
            .projects
            .values()
            .all(|a| a.visibility == app::domain::policy::Visibility::Open);
        if all_open {
            return anyone();
        }
        self.linked(user).await.unwrap_or_else(anyone)
    }

    /// The projects `actor` sees, as places the words may name.
    fn places(&self, actor: &Actor) -> Vec<intake::Place> {
        self.requests
            .projects()
            .visible_to(actor)
            .iter()
            .map(|p| intake::Place {
                project: p.key.clone(),
                environments: p.environments.clone(),
            })
            .collect()
    }

    /// What the assistant proposes for everything said so far and `text`
    /// (the model when one is configured, else the rules); `None` when it
    /// cannot read it (then the words are picked here).
    async fn suggestion(&self, actor: &Actor, draft: &Draft, text: &str) -> Option<AssistantDraft> {
        let mut said = draft.said.clone();
        said.push(text.to_owned());
        let ask = AssistantAsk {
            text: said.join(" "),
            project: draft.project.as_ref().map(ToString::to_string),
            environment: draft.environment.as_ref().map(ToString::to_string),
            module: draft.module.as_ref().map(ToString::to_string),
        };
        match self.drafting.suggest(actor, &ask).await {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::info!("the assistant cannot read this Slack message: {e}");
                None
            }
        }
    }

    /// Moves `draft` on with `text`; what to answer.
    fn advance(
        &self,
        draft: &mut Draft,
        text: &str,
        suggestion: Option<AssistantDraft>,
        places: &[intake::Place],
    ) -> Vec<Reply> {
        match draft.stage {
            Stage::Picking => self.pick_and_start(draft, text, suggestion, places),
            Stage::Asking | Stage::Ready => self.answer(draft, text),
            Stage::Changing => self.change(draft, text),
            Stage::Filed => Vec::new(),
        }
    }

    fn pick_and_start(
        &self,
        draft: &mut Draft,
        text: &str,
        suggestion: Option<AssistantDraft>,
        places: &[intake::Place],
    ) -> Vec<Reply> {
        draft.said.push(text.to_owned());
        let words = draft.said.join(" ");
        let mut picked = pick(&words, places, &self.registry);
        if let Some(s) = &suggestion {
            picked.project = s.project.as_deref().and_then(|p| ProjectKey::parse(p).ok());
            picked.environment = s
                .environment
                .as_deref()
                .and_then(|e| EnvName::parse(e).ok());
            picked.module = s.module.as_deref().and_then(|m| ModuleType::parse(m).ok());
        }
        if draft.project.is_none() {
            draft.project = picked.project;
        }
        let project = draft
            .project
            .as_ref()
            .and_then(|p| places.iter().find(|x| &x.project == p));
        if draft.environment.is_none() {
            draft.environment = picked
                .environment
                .filter(|e| project.is_none_or(|p| p.environments.contains(e)));
        }
        if draft.module.is_none() {
            draft.module = picked.module;
        }
        let Some(project) = project else {
            let keys: Vec<String> = places.iter().map(|p| format!("`{}`", p.project)).collect();
            return vec![Reply::Text(format!(
                "Which project is it for? {}",
                keys.join(", ")
            ))];
        };
        if draft.environment.is_none() {
            let envs: Vec<String> = project
                .environments
                .iter()
                .map(EnvName::to_string)
                .collect();
            return vec![Reply::Text(format!(
                "Which environment of `{}`? {}",
                project.project,
                envs.join(", ")
            ))];
        }
        let Some(module) = draft.module.as_ref().and_then(|m| self.registry.module(m)) else {
            let offers = suggestion
                .as_ref()
                .map(|s| s.closest.clone())
                .unwrap_or_default();
            let list: Vec<String> = if offers.is_empty() {
                self.registry
                    .modules
                    .values()
                    .map(|m| format!("• `{}`: {} ({})", m.module_type, m.title, m.description))
                    .collect()
            } else {
                offers
                    .iter()
                    .map(|o| format!("• `{}`: {} ({})", o.module, o.title, o.description))
                    .collect()
            };
            let lead = if offers.is_empty() {
                "What kind of resource?"
            } else {
                "Nothing in the catalogue matches that yet. What kind of resource? The closest:"
            };
            return vec![Reply::Text(format!("{lead}\n{}", list.join("\n")))];
        };
        if let Some(s) =
            suggestion.filter(|s| s.module.as_deref() == Some(module.module_type.as_str()))
        {
            return self.start_from(draft, project.project.as_str(), module, s, &words);
        }
        let mut conv = Conversation::start(module);
        let opening = conv.transcript.len();
        let found = extract(module, &words);
        let from = match found.as_slice() {
            [] => 0,
            [(name, value)] if conv.asking.as_deref() == Some(name.as_str()) => {
                let text = module
                    .input(name)
                    .map(|i| form_text(i, Some(value)))
                    .unwrap_or_default();
                conv.reply(module, &text);
                opening
            }
            _ => {
                conv.reply(module, &words);
                opening
            }
        };
        let mut replies = vec![Reply::Text(format!(
            "{} in `{}/{}`.",
            module.title,
            project.project,
            draft
                .environment
                .as_ref()
                .map(EnvName::as_str)
                .unwrap_or_default()
        ))];
        replies.extend(assistant_lines(&conv, from));
        draft.stage = Stage::Asking;
        self.finish_turn(draft, conv, module, replies)
    }

    /// Starts the questions from what the assistant read: the values it
    /// took, the ones it could not use, then only what is left.
    fn start_from(
        &self,
        draft: &mut Draft,
        project: &str,
        module: &Module,
        s: AssistantDraft,
        words: &str,
    ) -> Vec<Reply> {
        let env = draft
            .environment
            .as_ref()
            .map(EnvName::as_str)
            .unwrap_or_default();
        let mut replies = vec![Reply::Text(format!(
            "{} in `{project}/{env}`. _{}_",
            module.title, s.explanation
        ))];
        for d in &s.dropped {
            replies.push(Reply::Text(format!(
                "I could not use {}: {}.",
                d.field, d.message
            )));
        }
        let conv = Conversation::seeded(module, s.config, words);
        replies.extend(assistant_lines(&conv, 0));
        draft.stage = Stage::Asking;
        self.finish_turn(draft, conv, module, replies)
    }

    fn answer(&self, draft: &mut Draft, text: &str) -> Vec<Reply> {
        let Some((module, mut conv)) = self.module_and_conversation(draft) else {
            return Vec::new();
        };
        let from = conv.transcript.len();
        conv.reply(module, text);
        let replies = assistant_lines(&conv, from);
        self.finish_turn(draft, conv, module, replies)
    }

    /// After Change: `input value` sets one answer; anything else is an
    /// ordinary answer.
    fn change(&self, draft: &mut Draft, text: &str) -> Vec<Reply> {
        let Some((module, mut conv)) = self.module_and_conversation(draft) else {
            return Vec::new();
        };
        let trimmed = text.trim().trim_start_matches('`');
        let (name, rest) = trimmed.split_once([' ', '=']).unwrap_or((trimmed, ""));
        let Some(input) = module.input(name.trim_end_matches('`')) else {
            draft.stage = Stage::Asking;
            return self.answer(draft, text);
        };
        let value = rest
            .trim()
            .trim_start_matches('=')
            .trim()
            .trim_end_matches('`');
        let mut replies = Vec::new();
        match parse_answer(input, value) {
            Answer::Value(v) | Answer::Suggest(v) => {
                replies.push(Reply::Text(format!(
                    "{} = {}.",
                    input.name,
                    show(input, &v)
                )));
                conv.set(module, &input.name, Some(v));
            }
            Answer::Default => {
                replies.push(Reply::Text(format!(
                    "{} goes back to its default.",
                    input.name
                )));
                conv.set(module, &input.name, None);
            }
            Answer::Invalid(why) => {
                replies.push(Reply::Text(format!("{}: {why}", input.name)));
                draft.conversation = Some(conv);
                return replies;
            }
        }
        self.finish_turn(draft, conv, module, replies)
    }

    fn module_and_conversation(&self, draft: &Draft) -> Option<(&Module, Conversation)> {
        let module = draft
            .module
            .as_ref()
            .and_then(|m| self.registry.module(m))?;
        Some((module, draft.conversation.clone().unwrap_or_default()))
    }

    /// Keeps `conv` and shows the summary once every input is known.
    fn finish_turn(
        &self,
        draft: &mut Draft,
        conv: Conversation,
        module: &Module,
        mut replies: Vec<Reply>,
    ) -> Vec<Reply> {
        let complete = conv.is_complete(module);
        draft.conversation = Some(conv);
        if complete {
            draft.stage = Stage::Ready;
            replies.push(Reply::Summary);
        } else {
            draft.stage = Stage::Asking;
        }
        replies
    }

    /// What the draft would file.
    pub(super) fn new_request(&self, draft: &Draft) -> Option<NewRequest> {
        Some(NewRequest {
            project: draft.project.as_ref()?.to_string(),
            environment: draft.environment.as_ref()?.to_string(),
            module: draft.module.as_ref()?.to_string(),
            config: draft.conversation.as_ref()?.config().into_iter().collect(),
            kind: draft.conversation.as_ref()?.kind(),
        })
    }

    /// Issues the id the summary's block is rendered for (a linked user
    /// only: the id is reserved to them); the tfpilot user the draft's
    /// starter acts as.
    async fn prepare_summary(&self, draft: &mut Draft) -> Option<Actor> {
        let Some(actor) = self.linked(&draft.slack_user).await else {
            draft.issued = None;
            return None;
        };
        match &draft.issued {
            Some((_, _, login)) if *login == actor.login => {}
            _ => match self.requests.issue_id(&actor).await {
                Ok((id, ticket)) => draft.issued = Some((id, ticket, actor.login.clone())),
                Err(e) => tracing::warn!(draft = %draft.id, "cannot issue a request id: {e}"),
            },
        }
        Some(actor)
    }

    /// The summary of `draft`, with the block when it renders; `starter`
    /// is the tfpilot user the draft's starter acts as, if linked.
    pub(super) fn summary_of(&self, draft: &Draft, starter: Option<&Actor>) -> Option<Summary> {
        let module = draft
            .module
            .as_ref()
            .and_then(|m| self.registry.module(m))?;
        let conv = draft.conversation.as_ref()?;
        let new = self.new_request(draft)?;
        let answers = module
            .inputs
            .iter()
            .filter_map(|i| {
                conv.answers
                    .get(&i.name)
                    .map(|v| format!("{} = {}", i.name, show(i, v)))
            })
            .collect();
        let (block, note) = match (starter, &draft.issued) {
            (Some(actor), Some((id, _, login))) if *login == actor.login => {
                match self.requests.preview(actor, &new, id) {
                    Ok(block) => (Some(block.text), None),
                    Err(e) => (None, Some(format!("The block cannot be rendered yet: {e}"))),
                }
            }
            (Some(_), _) => (None, None),
            (None, _) => (None, Some(how_to_link(&draft.slack_user))),
        };
        Some(Summary {
            draft: draft.id.clone(),
            place: format!("{}/{}", new.project, new.environment),
            module: format!("{} ({})", module.title, module.module_type),
            answers,
            block,
            note,
        })
    }

    /// Posts the summary; its buttons carry the draft id, and a click
    /// names the message, so nothing about it is kept.
    async fn show_summary(&self, place: &Place, draft: &Draft, starter: Option<&Actor>) {
        let Some(summary) = self.summary_of(draft, starter) else {
            return;
        };
        let (text, blocks) = blocks::summary(&summary);
        let mut msg = super::api::Message::text(place.channel.clone(), text).with_blocks(blocks);
        msg.thread_ts = place.thread.clone();
        self.post(msg).await;
    }
}

/// The assistant's lines from `from` on, as replies.
fn assistant_lines(conv: &Conversation, from: usize) -> Vec<Reply> {
    conv.transcript
        .iter()
        .skip(from)
        .filter(|l| l.from == Speaker::Assistant)
        .map(|l| Reply::Text(l.text.clone()))
        .collect()
}
