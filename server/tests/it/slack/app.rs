//! A tfpilot with Slack on, talking to the fake Slack: who says what in which thread, and what tfpilot posted back.

use crate::support::slack::{BOT_USER_ID, FakeSlack, MessageEvent, Posted};
use crate::support::{TestApp, wait_until};
use app::domain::policy::Role;
use app::domain::request::PlanSummary;
use server::auth::Users;
use server::auth::contact::LinkChange;
use server::exec::fake::{FakeExecutor, Outcome};
use server::exec::{PlanOutput, ResourceChange, RunKind, RunSpec};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
/// Where plan-ready messages go.
pub const APPROVALS: &str = "C0APPROVALS";
/// Where people ask.
pub const TEAM: &str = "C0TEAM";
/// How long Slack answers may take.
pub const SOON: Duration = Duration::from_secs(30);

/// Every run succeeds; a plan creates the sandbox's stand-in resource in
/// the request's block, as the embedded mode's modules do.
fn sandbox_plan(spec: &RunSpec) -> Outcome {
    if spec.kind != RunKind::Plan {
        return Outcome::success();
    }
    let block = format!("module.block_{}", spec.request);
    Outcome::success().with_plan(PlanOutput {
        summary: PlanSummary {
            import: 0,
            add: 1,
            change: 0,
            destroy: 0,
        },
        changes: vec![ResourceChange {
            address: format!("{block}.terraform_data.this"),
            module: Some(block),
            action: "create".into(),
        }],
        log: String::new(),
    })
}

pub struct SlackApp {
    pub app: TestApp,
    pub slack: FakeSlack,
    next: AtomicU64,
}

impl SlackApp {
    /// tfpilot on the fake executor (every run succeeds, plans create one
    /// resource), Slack on.
    pub async fn start(extra: &[(&str, &str)]) -> SlackApp {
        let data = tempfile::tempdir().expect("temp dir");
        Self::start_on(FakeSlack::start().await, data, extra).await
    }

    /// Like [`Self::start`], on an existing data dir and fake Slack (a
    /// restart).
    pub async fn start_on(
        slack: FakeSlack,
        data: tempfile::TempDir,
        extra: &[(&str, &str)],
    ) -> SlackApp {
        let exec = Arc::new(FakeExecutor::new().with_auto_complete(sandbox_plan));
        let mut env: Vec<(String, String)> = slack.env();
        env.push(("TFPILOT_SLACK_SIGNING_SECRET".into(), SECRET.into()));
        env.push(("TFPILOT_SLACK_CHANNEL".into(), APPROVALS.into()));
        for (k, v) in extra {
            env.push(((*k).into(), (*v).into()));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let app = TestApp::builder()
            .data(data)
            .executor(exec)
            .env(&env)
            .spawn()
            .await;
        SlackApp {
            app,
            slack,
            next: AtomicU64::new(1),
        }
    }

    /// Stops tfpilot; the fake Slack and the data dir, to start again on.
    pub fn stop(self) -> (FakeSlack, tempfile::TempDir) {
        let TestApp { data, _stop, .. } = self.app;
        drop(_stop);
        (self.slack, data)
    }

    /// Delivers `event` signed now; asserts Slack got its 200.
    pub async fn deliver(&self, event: &serde_json::Value) {
        let res = self
            .slack
            .send_event(&self.app.url(""), SECRET, event)
            .await;
        assert_eq!(
            res.status(),
            200,
            "{}",
            res.text().await.unwrap_or_default()
        );
    }

    /// Adds `login` with `role`, linked to Slack user `slack_id`; a token.
    pub async fn person(&self, login: &str, role: Role, slack_id: Option<&str>) -> String {
        let token = self.app.token(login, role).await;
        if let Some(id) = slack_id {
            Users::new(self.app.requests_store())
                .set_links(
                    login,
                    LinkChange {
                        slack_user_id: Some(Some(id.into())),
                        email: None,
                    },
                )
                .await
                .expect("link the Slack id");
        }
        token
    }

    /// A fresh message timestamp.
    pub fn ts(&self) -> String {
        format!("1700000000.{:06}", self.next.fetch_add(1, Ordering::SeqCst))
    }

    /// `user` mentions tfpilot in `channel` (a new thread unless `thread`).
    pub async fn mention(&self, user: &str, text: &str, thread: Option<&str>) -> String {
        let ts = self.ts();
        let event_id = format!("Ev{}", ts.replace('.', ""));
        let body = self.slack.mention_event(
            &event_id,
            user,
            TEAM,
            &format!("<@{BOT_USER_ID}> {text}"),
            &ts,
            thread,
        );
        let res = self
            .slack
            .send_event(&self.app.url(""), SECRET, &body)
            .await;
        assert_eq!(
            res.status(),
            200,
            "{}",
            res.text().await.unwrap_or_default()
        );
        ts
    }

    /// `user` writes `text` in `thread` of the team channel.
    pub async fn reply(&self, user: &str, thread: &str, text: &str) {
        self.say_in(user, TEAM, "channel", Some(thread), text).await;
    }

    /// `user` writes `text` in `channel` (`thread` or top level).
    pub async fn say_in(
        &self,
        user: &str,
        channel: &str,
        channel_type: &str,
        thread: Option<&str>,
        text: &str,
    ) {
        let ts = self.ts();
        let event_id = format!("Ev{}", ts.replace('.', ""));
        let body = self.slack.message_event(&MessageEvent {
            event_id: &event_id,
            user,
            channel,
            channel_type,
            text,
            ts: &ts,
            thread_ts: thread,
            bot_id: None,
        });
        let res = self
            .slack
            .send_event(&self.app.url(""), SECRET, &body)
            .await;
        assert_eq!(
            res.status(),
            200,
            "{}",
            res.text().await.unwrap_or_default()
        );
    }

    /// `user` presses `action_id` (`value`) on message `ts`.
    pub async fn click(
        &self,
        user: &str,
        channel: &str,
        ts: &str,
        thread: Option<&str>,
        action_id: &str,
        value: &str,
    ) -> reqwest::Response {
        let payload = self
            .slack
            .block_action(user, channel, ts, thread, action_id, value);
        self.slack
            .send_interaction(&self.app.url(""), SECRET, &payload)
            .await
    }

    /// tfpilot's messages in `thread` of `channel`, oldest first.
    pub fn thread(&self, channel: &str, thread: &str) -> Vec<Posted> {
        self.slack
            .messages_in(channel)
            .into_iter()
            .filter(|m| m.thread_ts.as_deref() == Some(thread))
            .collect()
    }

    /// Waits until `pick` finds something among tfpilot's messages in
    /// `channel` (oldest first); what it found.
    pub async fn wait_for<T>(
        &self,
        channel: &str,
        what: &str,
        pick: impl Fn(&[Posted]) -> Option<T>,
    ) -> T {
        wait_until(SOON, what, || async {
            let all = self.slack.messages_in(channel);
            pick(&all)
                .ok_or_else(|| format!("{:?}", all.iter().map(|m| &m.text).collect::<Vec<_>>()))
        })
        .await
    }

    /// Waits for a message in `thread` whose text contains `needle`.
    pub async fn wait_in_thread(&self, channel: &str, thread: &str, needle: &str) -> Posted {
        let what = format!("a reply containing {needle:?} in {channel}/{thread}");
        self.wait_for(channel, &what, |all| {
            all.iter()
                .find(|m| m.thread_ts.as_deref() == Some(thread) && m.text.contains(needle))
                .cloned()
        })
        .await
    }

    /// Waits for a message in `channel` with a button `action_id`; its
    /// message and the button's value.
    pub async fn wait_for_button(&self, channel: &str, action_id: &str) -> (Posted, String) {
        let what = format!("a message with {action_id} in {channel}");
        self.wait_for(channel, &what, |all| {
            all.iter()
                .rev()
                .find_map(|m| button(m, action_id).map(|v| (m.clone(), v)))
        })
        .await
    }

    /// Waits for a message in `channel`'s `thread` (`None`: the top level)
    /// with a button `action_id`, other than the message `not`; it and the
    /// button's value.
    pub async fn wait_for_button_in(
        &self,
        channel: &str,
        thread: Option<&str>,
        action_id: &str,
        not: Option<&str>,
    ) -> (Posted, String) {
        let what = format!("a message with {action_id} in {channel}/{thread:?}");
        self.wait_for(channel, &what, |all| {
            all.iter()
                .rev()
                .filter(|m| m.thread_ts.as_deref() == thread && Some(m.ts.as_str()) != not)
                .find_map(|m| button(m, action_id).map(|v| (m.clone(), v)))
        })
        .await
    }

    /// Waits for a message anywhere in `channel` whose text contains `needle`.
    pub async fn wait_in(&self, channel: &str, needle: &str) -> Posted {
        let what = format!("a message containing {needle:?} in {channel}");
        self.wait_for(channel, &what, |all| {
            all.iter().find(|m| m.text.contains(needle)).cloned()
        })
        .await
    }

    /// `user` asks for bucket `name` in dev in a new thread, takes the
    /// defaults and presses Submit; the thread and the request id.
    pub async fn file_from_slack(&self, user: &str, name: &str) -> (String, String) {
        let words = format!("I need an s3 bucket called {name} in dev with 30 day expiration");
        let thread = self.mention(user, &words, None).await;
        self.wait_in_thread(TEAM, &thread, "keep previous versions")
            .await;
        self.reply(user, &thread, "defaults for the rest").await;
        let (summary, draft) = self
            .wait_for_button_in(TEAM, Some(&thread), "tfpilot_submit", None)
            .await;
        let res = self
            .click(
                user,
                TEAM,
                &summary.ts,
                Some(&thread),
                "tfpilot_submit",
                &draft,
            )
            .await;
        assert_eq!(res.status(), 200);
        let filed = self.wait_in_thread(TEAM, &thread, "Filed request").await;
        let id = filed.text.split('`').nth(1).expect("the request id");
        (thread, id.to_owned())
    }

    /// The ephemeral answers sent to response URLs, oldest first.
    pub fn responses(&self) -> Vec<String> {
        self.slack
            .calls_to("response_url")
            .iter()
            .map(|c| c.body["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Waits for an answer to a click containing `needle`.
    pub async fn wait_response(&self, needle: &str) -> String {
        wait_until(
            SOON,
            &format!("a response containing {needle:?}"),
            || async {
                let all = self.responses();
                all.iter()
                    .find(|t| t.contains(needle))
                    .cloned()
                    .ok_or_else(|| format!("{all:?}"))
            },
        )
        .await
    }
}

/// The value of `message`'s button `action_id`, if it has one.
pub fn button(message: &Posted, action_id: &str) -> Option<String> {
    message
        .blocks
        .as_ref()?
        .as_array()?
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .find(|e| e["action_id"] == action_id)
        .and_then(|e| e["value"].as_str().map(str::to_owned))
}
