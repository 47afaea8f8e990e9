//! Button clicks: Submit and Change on a draft's summary, Approve and Reject on a plan, each as the linked tfpilot user under the same policy as the web UI.

use super::api::Message;
use super::blocks;
use super::bot::{Place, SlackBot, how_to_link, log_failure};
use super::drafts::{Stage, valid_draft_id};
use super::wire::{Interaction, actions};
use crate::service::flow::FlowError;
use crate::service::requests::ServiceError;
use crate::store::journal::AuditRecord;
use app::domain::ids::RequestId;
use app::domain::policy::{Action, Actor, Decision, decide};
use app::domain::request::Request;
use app::domain::status::{Status, derive_status};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// What a button asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Click {
    /// File the draft.
    Submit(String),
    /// Reopen the draft's answers.
    Change(String),
    /// Approve the request's plan.
    Approve(RequestId),
    /// Reject it (the reason follows in the thread).
    Reject(RequestId),
}

/// A click with where it happened.
#[derive(Debug, Clone)]
pub struct Clicked {
    /// What.
    pub click: Click,
    /// The Slack user.
    pub user: String,
    /// The channel.
    pub channel: String,
    /// The message with the buttons.
    pub message_ts: Option<String>,
    /// Its thread.
    pub thread_ts: Option<String>,
    /// Where to answer the clicker.
    pub response_url: Option<String>,
}

/// Reads a `block_actions` payload; the error is the 400's sentence.
pub fn read_click(i: &Interaction) -> Result<Clicked, String> {
    if i.kind != "block_actions" {
        return Err(format!(
            "payload type `{}` is not handled; only `block_actions` is",
            i.kind
        ));
    }
    let [action] = i.actions.as_slice() else {
        return Err("a `block_actions` payload must carry exactly one action".into());
    };
    let value = action.value.clone().unwrap_or_default();
    let draft = |v: String| {
        valid_draft_id(&v)
            .then_some(v)
            .ok_or_else(|| "the button's value is not a draft id".to_owned())
    };
    let request = |v: &str| {
        RequestId::parse(v).map_err(|e| format!("the button's value is not a request id: {e}"))
    };
    let click = match action.action_id.as_str() {
        actions::SUBMIT => Click::Submit(draft(value)?),
        actions::CHANGE => Click::Change(draft(value)?),
        actions::APPROVE => Click::Approve(request(&value)?),
        actions::REJECT => Click::Reject(request(&value)?),
        other => {
            return Err(format!(
                "unknown action_id `{}`; tfpilot's buttons are tfpilot_submit, tfpilot_approve, tfpilot_reject and tfpilot_change",
                other.chars().take(64).collect::<String>()
            ));
        }
    };
    let container = i.container.clone().unwrap_or_default();
    let channel = i
        .channel
        .as_ref()
        .map(|c| c.id.clone())
        .or(container.channel_id)
        .ok_or("the payload names no channel")?;
    Ok(Clicked {
        click,
        user: i.user.id.clone(),
        channel,
        message_ts: container.message_ts,
        thread_ts: container.thread_ts,
        response_url: i.response_url.clone(),
    })
}

/// A rejection waiting for its reason in the approval message's thread.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Rejecting {
    request: RequestId,
    slack_user: String,
}

fn rejecting_key(channel: &str, ts: &str) -> String {
    format!(
        "slack/rejecting/{}.json",
        super::drafts::draft_id(channel, Some(ts))
    )
}

impl SlackBot {
    /// Answers the clicker alone (through `response_url`, else ephemeral).
    async fn respond(&self, c: &Clicked, text: &str) {
        let sent = match &c.response_url {
            Some(url) => {
                let body =
                    json!({"response_type": "ephemeral", "replace_original": false, "text": text});
                self.api.post_response(url, &body).await
            }
            None => {
                let mut msg = Message::text(c.channel.clone(), text);
                msg.thread_ts = c.thread_ts.clone();
                self.api.post_ephemeral(&c.channel, &c.user, &msg).await
            }
        };
        if let Err(e) = sent {
            log_failure("response", &e);
        }
    }

    async fn audit_refusal(&self, actor: &str, request: Option<&RequestId>, detail: String) {
        let record = AuditRecord {
            at: self.flow_now(),
            actor: actor.to_owned(),
            action: "auth.denied".into(),
            request: request.map(ToString::to_string),
            before_version: None,
            after_version: None,
            detail,
            count: 1,
            until: None,
            via: Some("slack".into()),
        };
        if let Err(e) = self.audit.append(&record).await {
            tracing::error!("could not append the audit record: {e}");
        }
    }

    /// Handles a checked click.
    pub async fn on_click(self: &Arc<Self>, c: Clicked) {
        let Some(actor) = self.linked(&c.user).await else {
            let request = match &c.click {
                Click::Approve(id) | Click::Reject(id) => Some(*id),
                Click::Submit(_) | Click::Change(_) => None,
            };
            self.audit_refusal(
                &format!("slack:{}", c.user),
                request.as_ref(),
                "Slack user not linked to a tfpilot user".into(),
            )
            .await;
            return self.respond(&c, &how_to_link(&c.user)).await;
        };
        match c.click.clone() {
            Click::Submit(draft) => self.submit(&c, &actor, &draft).await,
            Click::Change(draft) => self.reopen(&c, &draft).await,
            Click::Approve(id) => self.approve(&c, &actor, &id).await,
            Click::Reject(id) => self.ask_reason(&c, &actor, &id).await,
        }
    }

    async fn submit(&self, c: &Clicked, actor: &Actor, id: &str) {
        let _turn = self.lock(id).await;
        let Ok(Some(stored)) = self.drafts.get(id).await else {
            return self
                .respond(c, "This draft is gone; mention me to start again.")
                .await;
        };
        let mut draft = stored.value;
        if let (Stage::Filed, Some(request)) = (draft.stage, draft.request) {
            return self
                .respond(
                    c,
                    &format!("This draft was already filed as request `{request}`."),
                )
                .await;
        }
        let Some(new) = self.new_request(&draft) else {
            return self
                .respond(
                    c,
                    "This draft is not complete yet; answer the questions first.",
                )
                .await;
        };
        let origin = app::domain::request::Origin::Slack {
            channel: draft.channel.clone(),
            thread_ts: draft.thread_ts.clone().unwrap_or_default(),
        };
        let filed = match &draft.issued {
            Some((rid, ticket, login)) if *login == actor.login => {
                self.requests
                    .create_issued_from(actor, new, *rid, ticket, Some(origin))
                    .await
            }
            _ => self.requests.create_from(actor, new, origin).await,
        };
        let view = match filed {
            Ok(view) => view,
            Err(ServiceError::Forbidden { rule, reason }) => {
                self.audit_refusal(
                    &actor.login,
                    None,
                    format!("file refused by {rule}: {reason}"),
                )
                .await;
                return self.respond(c, &format!("Not filed: {reason}")).await;
            }
            Err(ServiceError::Fields(errors)) => {
                let lines: Vec<String> = errors
                    .iter()
                    .map(|e| format!("• {}: {}", e.field, e.message))
                    .collect();
                return self
                    .respond(
                        c,
                        &format!("Not filed; press Change to fix:\n{}", lines.join("\n")),
                    )
                    .await;
            }
            Err(e) => return self.respond(c, &format!("Not filed: {e}")).await,
        };
        let request = view.request.id;
        draft.stage = Stage::Filed;
        draft.request = Some(request);
        if let Err(e) = self.drafts.put(&draft, Some(&stored.etag)).await {
            tracing::warn!(draft = %draft.id, "filed, but the draft was not updated: {e}");
        }
        let starter = if draft.slack_user == c.user {
            Some(actor.clone())
        } else {
            self.linked(&draft.slack_user).await
        };
        if let (Some(ts), Some(summary)) =
            (&c.message_ts, self.summary_of(&draft, starter.as_ref()))
        {
            let outcome = format!(
                "Filed as <{}/requests/{request}|`{request}`> by <@{}> ({}).",
                self.public_url, c.user, actor.login
            );
            let (text, blocks) = blocks::summary_done(&summary, &outcome);
            let msg = Message::text(c.channel.clone(), text).with_blocks(blocks);
            if let Err(e) = self.api.update(&c.channel, ts, &msg).await {
                log_failure("chat.update", &e);
            }
        }
        let place = Place {
            channel: draft.channel.clone(),
            thread: draft.thread_ts.clone(),
        };
        self.say(
            &place,
            &format!(
                "Filed request <{}/requests/{request}|`{request}`> as {}. I will post its progress in this thread.",
                self.public_url, actor.login
            ),
        )
        .await;
    }

    async fn reopen(&self, c: &Clicked, id: &str) {
        let _turn = self.lock(id).await;
        let Ok(Some(stored)) = self.drafts.get(id).await else {
            return self
                .respond(c, "This draft is gone; mention me to start again.")
                .await;
        };
        let mut draft = stored.value;
        if draft.stage == Stage::Filed {
            return self
                .respond(
                    c,
                    "This draft was already filed; change the request on its page.",
                )
                .await;
        }
        let Some(module) = draft.module.as_ref().and_then(|m| self.registry.module(m)) else {
            return self.respond(c, "This draft has no module yet.").await;
        };
        let names: Vec<String> = module
            .inputs
            .iter()
            .map(|i| format!("`{}`", i.name))
            .collect();
        draft.stage = Stage::Changing;
        if let Err(e) = self.drafts.put(&draft, Some(&stored.etag)).await {
            tracing::warn!(draft = %draft.id, "cannot store the draft: {e}");
            return self
                .respond(
                    c,
                    "Someone changed this draft at the same moment; press Change again.",
                )
                .await;
        }
        let place = Place {
            channel: draft.channel.clone(),
            thread: draft.thread_ts.clone(),
        };
        self.say(
            &place,
            &format!(
                "What should change? Reply with the input and its new value, e.g. `{} …`. Inputs: {}.",
                module.inputs.first().map(|i| i.name.as_str()).unwrap_or("name"),
                names.join(", ")
            ),
        )
        .await;
    }

    /// The request as the flow stores it.
    async fn load(&self, c: &Clicked, actor: &Actor, id: &RequestId) -> Option<Request> {
        match self.requests.get(actor, id.as_str()).await {
            Ok(view) => Some(view.request),
            Err(e) => {
                self.respond(c, &format!("{e}")).await;
                None
            }
        }
    }

    async fn approve(&self, c: &Clicked, actor: &Actor, id: &RequestId) {
        let Some(doc) = self.load(c, actor, id).await else {
            return;
        };
        if let Some(done) = already_acted(&doc) {
            return self.respond(c, &done).await;
        }
        match self.flow.perform(actor, id, Action::Approve).await {
            // The approval message is updated by the Slack notifier, for
            // approvals from Slack and from the web alike.
            Ok(_) => {}
            Err(e) => self.respond(c, &refusal(&e, "approved")).await,
        }
    }

    async fn ask_reason(&self, c: &Clicked, actor: &Actor, id: &RequestId) {
        let Some(doc) = self.load(c, actor, id).await else {
            return;
        };
        if let Some(done) = already_acted(&doc) {
            return self.respond(c, &done).await;
        }
        if let Decision::Forbidden { rule, reason }
        | Decision::Conflict {
            reason,
            rule: Some(rule),
        } = decide(
            Action::Approve,
            &doc,
            actor,
            &self.requests.projects().policy(),
        ) {
            self.audit_refusal(
                &actor.login,
                Some(id),
                format!("reject refused by {rule}: {reason}"),
            )
            .await;
            return self.respond(c, &format!("Not rejected: {reason}")).await;
        }
        let Some(ts) = &c.message_ts else {
            return self
                .respond(c, "This button is not on a message tfpilot can follow.")
                .await;
        };
        let pending = Rejecting {
            request: *id,
            slack_user: c.user.clone(),
        };
        // The last to press Reject is the one asked (an earlier presser may
        // never have answered).
        if let Err(e) = self
            .records
            .replace(&rejecting_key(&c.channel, ts), &pending)
            .await
        {
            tracing::warn!(request = %id, "cannot keep the rejection waiting for its reason: {e}");
            return self
                .respond(
                    c,
                    "tfpilot cannot reach its store right now; press Reject again in a minute.",
                )
                .await;
        }
        let place = Place {
            channel: c.channel.clone(),
            thread: Some(ts.clone()),
        };
        self.say(
            &place,
            &format!(
                "<@{}>, why reject `{id}`? Reply in this thread with the reason.",
                c.user
            ),
        )
        .await;
    }

    /// A reply in an approval message's thread from the person who pressed
    /// Reject: the reason. `false` when no rejection waits here for them.
    pub(super) async fn take_reason(
        self: &Arc<Self>,
        place: &Place,
        user: &str,
        text: &str,
    ) -> bool {
        let Some(ts) = &place.thread else {
            return false;
        };
        let key = rejecting_key(&place.channel, ts);
        let Ok(Some(stored)) = self.records.get::<Rejecting>(&key).await else {
            return false;
        };
        if stored.value.slack_user != user {
            return false;
        }
        let Some(actor) = self.linked(user).await else {
            self.say(place, &how_to_link(user)).await;
            return true;
        };
        let id = stored.value.request;
        let reason = text.trim();
        match self.flow.reject(&actor, &id, reason).await {
            Ok(_) => {
                if let Err(e) = self.records.delete(&key).await {
                    tracing::warn!("cannot clear the answered rejection: {e}");
                }
                self.say(place, &format!("Rejected `{id}`; the requester is told."))
                    .await;
            }
            Err(e) => {
                // Only a bad reason may be given again; any other refusal
                // spends the question, so later replies are not taken for it.
                let retry =
                    matches!(&e, FlowError::Refused { rule, .. } if rule == "reject.reason");
                if !retry && let Err(e) = self.records.delete(&key).await {
                    tracing::warn!("cannot clear the refused rejection: {e}");
                }
                self.say(place, &refusal(&e, "rejected")).await;
            }
        }
        true
    }
}

/// "already approved by …" when the current plan was acted on.
fn already_acted(doc: &Request) -> Option<String> {
    if let Some(a) = &doc.approval
        && derive_status(doc) != Status::PlanReady
    {
        return Some(format!("Already approved by {} at {}.", a.by, a.at));
    }
    let plan_done = doc.runs.plan.latest().and_then(|a| a.completed_at.clone());
    let rejected = doc
        .events
        .iter()
        .rev()
        .find(|e| e.kind == "rejected")
        .filter(|e| plan_done.as_ref().is_none_or(|t| e.at >= *t));
    rejected.map(|e| format!("Already rejected by {} at {}.", e.actor, e.at))
}

/// The sentence for a refused or failed action.
fn refusal(e: &FlowError, done: &str) -> String {
    match e {
        FlowError::Forbidden { reason, .. } | FlowError::Refused { reason, .. } => {
            format!("Not {done}: {reason}")
        }
        FlowError::Conflict(reason) => format!("Not {done}: {reason}"),
        other => format!("Not {done}: {other}"),
    }
}
