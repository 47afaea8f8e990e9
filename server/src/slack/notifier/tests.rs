//! The Slack notifier on a directory store with a recording Slack: a retry posts nothing twice, and a store that cannot answer posts nothing.

use super::*;
use crate::fixtures::request;
use crate::notify::notice;
use crate::slack::api::{BotIdentity, Posted, SlackUser};
use crate::store::fs::FsStore;
use std::sync::Mutex;

const CHANNEL: &str = "C0APPROVALS";

/// Takes every post, with increasing `ts`.
#[derive(Default)]
struct Recording {
    posts: Mutex<Vec<Message>>,
}

impl Recording {
    fn posts(&self) -> usize {
        self.posts.lock().map(|p| p.len()).unwrap_or_default()
    }
}

#[async_trait]
impl SlackApi for Recording {
    async fn post_message(&self, msg: &Message) -> Result<Posted, SlackError> {
        let mut posts = self.posts.lock().expect("posts");
        posts.push(msg.clone());
        Ok(Posted {
            channel: msg.channel.clone(),
            ts: format!("1700000000.{:06}", posts.len()),
        })
    }

    async fn update(&self, _: &str, _: &str, _: &Message) -> Result<(), SlackError> {
        Ok(())
    }

    async fn post_ephemeral(&self, _: &str, _: &str, _: &Message) -> Result<(), SlackError> {
        Ok(())
    }

    async fn user_info(&self, user_id: &str) -> Result<SlackUser, SlackError> {
        Err(SlackError::Api(format!("user_not_found: {user_id}")))
    }

    async fn auth_test(&self) -> Result<BotIdentity, SlackError> {
        Err(SlackError::Api("not_authed".into()))
    }

    async fn post_response(&self, _: &str, _: &serde_json::Value) -> Result<(), SlackError> {
        Ok(())
    }
}

fn setup() -> (SlackNotifier, Arc<Recording>, Records, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(FsStore::open(dir.path()).expect("store"));
    let records = Records::new(store);
    let api = Arc::new(Recording::default());
    let notifier = SlackNotifier::new(
        api.clone(),
        records.clone(),
        BTreeMap::from([(
            app::domain::ids::ProjectKey::parse("sandbox").expect("a key"),
            CHANNEL.to_owned(),
        )]),
    );
    (notifier, api, records, dir)
}

fn approval_needed() -> Notice {
    notice(
        0,
        NoticeKind::ApprovalNeeded,
        &request(),
        "http://tfpilot.test",
        None,
    )
}

#[tokio::test]
async fn an_approval_message_not_remembered_is_remembered_on_the_retry_without_a_second_post() {
    let (notifier, api, records, dir) = setup();
    let needed = approval_needed();
    let key = approval_key(needed.request.as_str());
    // The record cannot be written: a directory stands in its place.
    let blocker = dir.path().join(&key);
    std::fs::create_dir_all(&blocker).expect("blocker");

    let first = notifier.notify(&needed).await;
    assert!(matches!(first, Err(NotifyError::Failed(_))), "{first:?}");
    assert_eq!(api.posts(), 1);

    std::fs::remove_dir(&blocker).expect("unblock");
    notifier.notify(&needed).await.expect("the retry");
    assert_eq!(api.posts(), 1, "posted once");
    let stored = records
        .get::<ApprovalMessage>(&key)
        .await
        .expect("read")
        .expect("remembered");
    assert_eq!(stored.value.channel, CHANNEL);
    assert_eq!(stored.value.ts, "1700000000.000001");
}

#[tokio::test]
async fn nothing_is_posted_while_the_store_cannot_tell_whether_it_was() {
    let (notifier, api, _records, dir) = setup();
    let needed = approval_needed();
    // Reading the mark fails (a directory in its place).
    let mark = dir
        .path()
        .join(format!("slack/sent/{}.channel.json", needed.id));
    std::fs::create_dir_all(&mark).expect("mark");

    let res = notifier.notify(&needed).await;
    assert!(matches!(res, Err(NotifyError::Failed(_))), "{res:?}");
    assert_eq!(api.posts(), 0);
}
