//! The Slack app's brain: who a Slack user is in tfpilot, which events it answers, `help`, and the questions about platform state (`status <id>`, `my requests`, "what is waiting for my approval?", "what failed in prod this week?", "who approved <id>?"), answered by `service::ask` as the linked user.
//!
//! Events arrive already verified and deduplicated (`http::slack`); each is
//! handled in the background after Slack got its 200. Conversations live
//! in [`super::converse`], buttons in [`super::buttons`].

use super::api::{Message, SlackApi, SlackError};
use super::drafts::{Drafts, draft_id};
use super::wire::Event;
use crate::auth::Users;
use crate::config::Config;
use crate::service::ask::Ask;
use crate::service::flow::Flow;
use crate::service::requests::RequestService;
use crate::store::records::Records;
use app::domain::assistant::intake::{Command, FORMS, Question, command, strip_mentions};
use app::domain::policy::{Actor, Credential};
use app::domain::registry::Registry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Answers Slack events and button clicks.
pub struct SlackBot {
    pub(super) api: Arc<dyn SlackApi>,
    pub(super) records: Records,
    pub(super) drafts: Drafts,
    pub(super) requests: Arc<RequestService>,
    pub(super) flow: Arc<Flow>,
    pub(super) users: Users,
    pub(super) registry: Arc<Registry>,
    pub(super) drafting: Arc<crate::service::assistant::Drafting>,
    pub(super) config: Arc<Config>,
    pub(super) public_url: String,
    pub(super) audit: crate::store::journal::AuditLog,
    ask: Arc<Ask>,
    clock: Arc<dyn crate::clock::Clock>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    me: tokio::sync::OnceCell<String>,
}

/// Where to answer: a channel and, unless a DM's top level, a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Channel or DM id.
    pub channel: String,
    /// The thread.
    pub thread: Option<String>,
}

impl Place {
    /// The draft id of this place.
    pub fn draft_id(&self) -> String {
        draft_id(&self.channel, self.thread.as_deref())
    }
}

/// The sentence a Slack user without a tfpilot account hears.
pub fn how_to_link(slack_user: &str) -> String {
    format!(
        "Your Slack account (<@{slack_user}>) is not linked to a tfpilot user, so nothing was filed. \
         Ask a tfpilot admin to link it: `tfpilot users link-slack <login> {slack_user}`, \
         or set the Slack id on the admin users page."
    )
}

impl SlackBot {
    /// The bot over the services it acts through.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        api: Arc<dyn SlackApi>,
        records: Records,
        requests: Arc<RequestService>,
        flow: Arc<Flow>,
        users: Users,
        (registry, drafting): (Arc<Registry>, Arc<crate::service::assistant::Drafting>),
        config: Arc<Config>,
        public_url: &str,
        ports: &crate::ports::Ports,
        ask: Arc<Ask>,
    ) -> Self {
        Self {
            api,
            ask,
            drafts: Drafts::new(records.clone()),
            records,
            requests,
            flow,
            users,
            registry,
            drafting,
            config,
            public_url: public_url.trim_end_matches('/').to_owned(),
            audit: ports.audit_log(),
            clock: ports.clock.clone(),
            locks: Mutex::new(HashMap::new()),
            me: tokio::sync::OnceCell::new(),
        }
    }

    /// Now, for records.
    pub(super) fn flow_now(&self) -> String {
        self.clock.rfc3339_millis()
    }

    /// The Web API client.
    pub fn api(&self) -> &Arc<dyn SlackApi> {
        &self.api
    }

    /// One conversation at a time per draft (in this process; the store's
    /// compare-and-swap guards across replicas).
    pub(super) async fn lock(&self, id: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            if locks.len() > 10_000 {
                locks.retain(|_, l| Arc::strong_count(l) > 1);
            }
            locks.entry(id.to_owned()).or_default().clone()
        };
        lock.lock_owned().await
    }

    /// The tfpilot user `slack_user` acts as: the one linked to the Slack
    /// id, else the one whose e-mail Slack's profile shows. `None` when
    /// there is none, or it is disabled.
    pub async fn linked(&self, slack_user: &str) -> Option<Actor> {
        let user = match self.users.by_slack_id(slack_user).await {
            Ok(Some(user)) => user,
            Ok(None) => self.linked_by_email(slack_user).await?,
            Err(e) => {
                tracing::warn!(slack_user, "cannot map the Slack user: {e}");
                return None;
            }
        };
        Some(Actor {
            role: crate::auth::effective_role(&self.config, &user),
            login: user.login,
            credential: Credential::Slack,
        })
    }

    /// The user whose e-mail the Slack profile shows, when they have no
    /// Slack id linked yet.
    async fn linked_by_email(&self, slack_user: &str) -> Option<crate::auth::User> {
        let email = self.api.user_info(slack_user).await.ok()?.email?;
        match self.users.by_email(&email).await {
            Ok(Some(user)) if user.slack_user_id.is_none() => Some(user),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(slack_user, "cannot map the Slack user by e-mail: {e}");
                None
            }
        }
    }

    /// Posts `text` at `place`; a failure is logged (the person can ask
    /// again).
    pub(super) async fn say(&self, place: &Place, text: &str) {
        let mut msg = Message::text(place.channel.clone(), text);
        msg.thread_ts = place.thread.clone();
        self.post(msg).await;
    }

    /// Posts `msg`, returning its `ts`.
    pub(super) async fn post(&self, msg: Message) -> Option<String> {
        match self.api.post_message(&msg).await {
            Ok(posted) => Some(posted.ts),
            Err(e) => {
                log_failure("chat.postMessage", &e);
                None
            }
        }
    }

    /// Whether event `event_id` is seen for the first time: recorded in the
    /// store, so a retry after a restart (or on another replica) is still
    /// known. An id that is not Slack's shape counts as seen.
    pub async fn first_sight(&self, event_id: &str) -> Result<bool, crate::store::StoreError> {
        if event_id.is_empty()
            || event_id.len() > 64
            || !event_id.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Ok(false);
        }
        let at = serde_json::json!({ "at": self.flow_now() });
        self.records
            .claim(&format!("slack/events/{event_id}.json"), &at)
            .await
    }

    /// How a mention of the bot reads (`<@U…>`), its user id asked of
    /// `auth.test` once; `None` while Slack cannot say.
    async fn my_mention(&self) -> Option<String> {
        let id = self
            .me
            .get_or_try_init(|| async { self.api.auth_test().await.map(|me| me.user_id) })
            .await;
        match id {
            Ok(id) => Some(format!("<@{id}>")),
            Err(e) => {
                log_failure("auth.test", &e);
                None
            }
        }
    }

    /// Handles one verified, first-seen event.
    pub async fn on_event(self: &Arc<Self>, event: Event) {
        let (Some(user), Some(channel), Some(ts)) = (&event.user, &event.channel, &event.ts) else {
            return;
        };
        if event.bot_id.is_some() || event.subtype.is_some() {
            return;
        }
        let text = event.text.clone().unwrap_or_default();
        let dm = event.channel_type.as_deref() == Some("im");
        let me = self.my_mention().await;
        let mentions_me = match &me {
            Some(me) => text.contains(me.as_str()),
            None => text.contains("<@"),
        };
        match event.kind.as_str() {
            "app_mention" => {
                let place = Place {
                    channel: channel.clone(),
                    thread: Some(event.thread_ts.clone().unwrap_or_else(|| ts.clone())),
                };
                // "@tfpilot <reason>" after Reject is the reason.
                let reason = match &me {
                    Some(me) => text.replace(me.as_str(), ""),
                    None => strip_mentions(&text),
                };
                if event.thread_ts.is_some() && self.take_reason(&place, user, &reason).await {
                    return;
                }
                self.on_text(place, user, &text).await;
            }
            "message" if dm => {
                let place = Place {
                    channel: channel.clone(),
                    thread: event.thread_ts.clone(),
                };
                self.on_text(place, user, &text).await;
            }
            // A mention of tfpilot in a channel also arrives as
            // `app_mention`; one of someone else is an ordinary message.
            "message" if mentions_me => {}
            "message" => {
                let Some(thread) = &event.thread_ts else {
                    return;
                };
                let place = Place {
                    channel: channel.clone(),
                    thread: Some(thread.clone()),
                };
                if self.take_reason(&place, user, &text).await {
                    return;
                }
                // Only threads tfpilot is talking in.
                if matches!(self.drafts.get(&place.draft_id()).await, Ok(Some(_))) {
                    self.on_text(place, user, &text).await;
                }
            }
            _ => {}
        }
    }

    async fn on_text(self: &Arc<Self>, place: Place, user: &str, text: &str) {
        match command(text) {
            Command::Help => self.say(&place, &self.help()).await,
            Command::Ask(question) => {
                let answer = match self.linked(user).await {
                    Some(actor) => self.reply_to(&actor, &question).await,
                    None => how_to_link(user),
                };
                self.say(&place, &answer).await;
            }
            Command::Request(words) => {
                let words = strip_mentions(&words);
                // The first words of a thread may be a question only a
                // model recognises; then they are answered, not drafted.
                if self.ask.has_model()
                    && matches!(self.drafts.get(&place.draft_id()).await, Ok(None))
                    && let Some(question) = self.ask.by_model(&words).await
                {
                    let answer = match self.linked(user).await {
                        Some(actor) => self.reply_to(&actor, &question).await,
                        None => how_to_link(user),
                    };
                    return self.say(&place, &answer).await;
                }
                self.converse(place, user, &words).await
            }
        }
    }

    /// The answer to `question` as `actor`, as a Slack message.
    async fn reply_to(&self, actor: &Actor, question: &Question) -> String {
        match self.ask.answer(actor, question).await {
            Ok(answer) => super::answers::render(&answer, &self.public_url),
            Err(e) => {
                tracing::warn!("cannot answer a question from Slack: {e}");
                "I cannot read the requests right now; ask again in a minute.".into()
            }
        }
    }

    fn help(&self) -> String {
        let forms: Vec<String> = FORMS.iter().map(|f| format!("“{f}”")).collect();
        format!(
            "I file infrastructure requests. Tell me what you need, for example \
             “I need an s3 bucket called team-logs in dev with 30 day expiration”, and I will ask \
             for anything missing in this thread. I also answer {}.",
            forms.join(", ")
        )
    }
}

/// Logs a failed Web API call (never the token: the client never puts it
/// in an error).
pub(super) fn log_failure(call: &str, e: &SlackError) {
    tracing::warn!(call, "Slack call failed: {e}");
}
