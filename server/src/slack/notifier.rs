//! `SlackNotifier`: status changes go to the thread a request came from, and plan-ready (with Approve / Reject), applied and failed go to the project's channel; an approval message is updated once someone acts on it.
//!
//! Each post is marked done in the store (`slack/sent/…`) right after Slack
//! took it, so when the outbox retries a notice whose other post failed,
//! nothing is posted twice.

use super::api::{Message, SlackApi, SlackError};
use super::blocks;
use crate::notify::words::{headline, sentence};
use crate::notify::{Notice, NoticeKind, Notifier, NotifyError};
use crate::projects::Projects;
use crate::projects::per_project::PerProject;
use crate::store::records::Records;
use app::domain::ids::ProjectKey;
use app::domain::request::{Origin, PlanSummary};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where a request's approval message is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApprovalMessage {
    /// The channel id.
    pub channel: String,
    /// The message.
    pub ts: String,
    /// The plan counts it showed, shown again once acted on.
    #[serde(default)]
    pub plan: Option<PlanSummary>,
    /// The risk notes it showed, shown again once acted on.
    #[serde(default)]
    pub risks: Vec<String>,
    /// The change in words it showed, shown again once acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

/// The key of request `id`'s approval message record.
pub fn approval_key(id: &str) -> String {
    format!("slack/approvals/{id}.json")
}

/// Tells Slack.
pub struct SlackNotifier {
    api: Arc<dyn SlackApi>,
    records: Records,
    channels: PerProject,
}

impl SlackNotifier {
    /// Posts with `api`; each project's channel from `channels` (a
    /// project without one hears nothing in a channel).
    pub fn new(
        api: Arc<dyn SlackApi>,
        records: Records,
        channels: BTreeMap<ProjectKey, String>,
    ) -> Self {
        Self {
            api,
            records,
            channels: PerProject::fixed(channels),
        }
    }

    /// Each project's channel read from the served projects on every
    /// notice: its `slack_channel`, else `default` (`TFPILOT_SLACK_CHANNEL`).
    pub fn serving(mut self, projects: Arc<Projects>, default: Option<String>) -> Self {
        self.channels = PerProject::served(projects, move |p| {
            p.slack_channel.clone().or_else(|| default.clone())
        });
        self
    }

    fn channel_of(&self, project: &ProjectKey) -> Option<String> {
        self.channels
            .get(project)
            .or_else(|| self.api.default_channel())
    }

    /// Posts `msg` unless this notice's `target` post was made before; the
    /// post's `ts`, fresh or remembered. When the store cannot tell whether
    /// it was made, nothing is posted and the outbox tries again later.
    async fn once(
        &self,
        notice: &Notice,
        target: &str,
        msg: Message,
    ) -> Result<Option<String>, NotifyError> {
        let mark = format!("slack/sent/{}.{target}.json", notice.id);
        match self.records.get::<serde_json::Value>(&mark).await {
            Ok(Some(sent)) => return Ok(sent.value["ts"].as_str().map(str::to_owned)),
            Ok(None) => {}
            Err(e) => {
                return Err(NotifyError::Failed(format!(
                    "cannot read whether notice {} was posted to Slack ({target}): {e}",
                    notice.id
                )));
            }
        }
        let posted = self.api.post_message(&msg).await.map_err(failure)?;
        if let Err(e) = self
            .records
            .claim(&mark, &serde_json::json!({ "ts": posted.ts }))
            .await
        {
            tracing::warn!(notice = %notice.id, "posted to Slack, but not marked: {e}");
        }
        Ok(Some(posted.ts))
    }

    /// The approval message with Approve / Reject, remembered for updates
    /// (also on a retry after it was posted but not remembered).
    async fn ask_approval(&self, notice: &Notice, channel: &str) -> Result<(), NotifyError> {
        let (text, blocks) = blocks::approval(notice, None);
        let msg = Message::text(channel, text).with_blocks(blocks);
        if let Some(ts) = self.once(notice, "channel", msg).await? {
            let record = ApprovalMessage {
                channel: channel.to_owned(),
                ts,
                plan: notice.plan,
                risks: notice.risks.clone(),
                explanation: notice.explanation.clone(),
            };
            self.records
                .replace(&approval_key(notice.request.as_str()), &record)
                .await
                .map_err(|e| {
                    NotifyError::Failed(format!("cannot remember the approval message: {e}"))
                })?;
        }
        Ok(())
    }

    /// Puts who acted in place of the approval message's buttons.
    async fn acted(&self, notice: &Notice) -> Result<(), NotifyError> {
        let key = approval_key(notice.request.as_str());
        let Ok(Some(stored)) = self.records.get::<ApprovalMessage>(&key).await else {
            return Ok(());
        };
        let who = notice.actor.as_deref().unwrap_or("someone");
        let outcome = match (notice.kind, &notice.error) {
            (NoticeKind::Rejected, Some(reason)) => {
                format!(
                    ":x: Rejected by {} at {}: {}",
                    blocks::esc(who),
                    notice.at,
                    blocks::esc(reason)
                )
            }
            (NoticeKind::Rejected, None) => {
                format!(":x: Rejected by {} at {}.", blocks::esc(who), notice.at)
            }
            _ => format!(
                ":white_check_mark: Approved by {} at {}.",
                blocks::esc(who),
                notice.at
            ),
        };
        let mut shown = notice.clone();
        shown.kind = NoticeKind::ApprovalNeeded;
        // The acting notice carries no plan, risks or words: keep what was shown.
        shown.plan = stored.value.plan;
        shown.risks = stored.value.risks.clone();
        shown.explanation = stored.value.explanation.clone();
        let (text, blocks) = blocks::approval(&shown, Some(&outcome));
        let msg = Message::text(stored.value.channel.clone(), text).with_blocks(blocks);
        self.api
            .update(&stored.value.channel, &stored.value.ts, &msg)
            .await
            .map_err(failure)
    }
}

/// Whether the requester's thread hears of `kind`.
fn for_thread(kind: NoticeKind) -> bool {
    !matches!(kind, NoticeKind::Created | NoticeKind::ApprovalNeeded)
}

fn failure(e: SlackError) -> NotifyError {
    match e {
        SlackError::RateLimited { retry_after } => NotifyError::RetryAfter(retry_after),
        other => NotifyError::Failed(other.to_string()),
    }
}

#[async_trait]
impl Notifier for SlackNotifier {
    fn name(&self) -> &'static str {
        "slack"
    }

    async fn notify(&self, notice: &Notice) -> Result<(), NotifyError> {
        if !self.api.configured() {
            // Slack is off until its credentials are stored again.
            return Ok(());
        }
        if let Some(Origin::Slack { channel, thread_ts }) = &notice.origin
            && for_thread(notice.kind)
        {
            let mut text = format!(
                "{} · <{}|{}>",
                blocks::esc(&sentence(notice)),
                notice.link,
                notice.request
            );
            if let Some(words) = &notice.explanation {
                text.push('\n');
                text.push_str(&blocks::esc(words));
            }
            let mut msg = Message::text(channel.clone(), text);
            msg.thread_ts = (!thread_ts.is_empty()).then(|| thread_ts.clone());
            self.once(notice, "thread", msg).await?;
        }
        let Some(channel) = self.channel_of(&notice.project) else {
            return Ok(());
        };
        match notice.kind {
            NoticeKind::ApprovalNeeded => self.ask_approval(notice, &channel).await,
            NoticeKind::Approved | NoticeKind::Rejected => self.acted(notice).await,
            NoticeKind::Applied
            | NoticeKind::Failed
            | NoticeKind::PlanFailed
            | NoticeKind::ApplyBlocked
            | NoticeKind::DriftDetected
            | NoticeKind::Remediation => {
                let text = format!(
                    "{} · <{}|open>",
                    blocks::esc(&headline(notice)),
                    notice.link
                );
                self.once(notice, "channel", Message::text(channel, text))
                    .await
                    .map(|_| ())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
