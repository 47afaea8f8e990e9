//! The outbox on a directory store with a manual clock: each notifier is told once, failures wait and retry, order per request holds.

use super::*;
use crate::clock::ManualClock;
use crate::fixtures::request;
use crate::notify::{MemoryNotifier, NoticeKind, notice};
use crate::store::fs::FsStore;
use async_trait::async_trait;
use std::sync::Mutex;

/// Fails with the scripted errors first, then records.
struct Flaky {
    name: &'static str,
    script: Mutex<Vec<NotifyError>>,
    seen: MemoryNotifier,
}

impl Flaky {
    fn new(name: &'static str, script: Vec<NotifyError>) -> Arc<Self> {
        Arc::new(Self {
            name,
            script: Mutex::new(script),
            seen: MemoryNotifier::new(),
        })
    }
}

#[async_trait]
impl Notifier for Flaky {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn notify(&self, notice: &Notice) -> Result<(), NotifyError> {
        let next = {
            let mut script = self.script.lock().unwrap_or_else(|p| p.into_inner());
            (!script.is_empty()).then(|| script.remove(0))
        };
        match next {
            Some(e) => Err(e),
            None => self.seen.notify(notice).await,
        }
    }
}

fn setup(notifiers: Vec<Arc<dyn Notifier>>) -> (Outbox, Arc<ManualClock>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn ObjectStore> = Arc::new(FsStore::open(dir.path()).expect("store"));
    let clock = Arc::new(ManualClock::at_system_time());
    (Outbox::new(store, clock.clone(), notifiers), clock, dir)
}

fn noticed(kind: NoticeKind, version: u64) -> Notice {
    let mut doc = request();
    doc.version = version;
    notice(0, kind, &doc, "http://tfpilot.test", None)
}

#[tokio::test]
async fn a_notice_is_stored_once_and_told_to_each_notifier_once() {
    let a = Flaky::new("a", vec![]);
    let b = Flaky::new("b", vec![]);
    let (outbox, _clock, _dir) = setup(vec![a.clone(), b.clone()]);
    let n = noticed(NoticeKind::Created, 1);
    outbox.enqueue(&n).await.expect("enqueue");
    outbox.enqueue(&n).await.expect("the same notice again");
    assert_eq!(outbox.deliver_due().await.expect("pass"), 1);
    assert_eq!(outbox.deliver_due().await.expect("pass"), 0);
    assert_eq!(a.seen.events(), ["request.created"]);
    assert_eq!(b.seen.events(), ["request.created"]);
    assert!(outbox.pending().await.expect("pending").is_empty());
}

#[tokio::test]
async fn a_failed_notifier_is_retried_after_its_wait_and_the_others_are_not() {
    let ok = Flaky::new("ok", vec![]);
    let slow = Flaky::new(
        "slow",
        vec![NotifyError::RetryAfter(Duration::from_secs(30))],
    );
    let (outbox, clock, _dir) = setup(vec![ok.clone(), slow.clone()]);
    outbox
        .enqueue(&noticed(NoticeKind::Applied, 7))
        .await
        .expect("enqueue");
    assert_eq!(outbox.deliver_due().await.expect("pass"), 0);
    let waiting = outbox.pending().await.expect("pending");
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].pending, ["slow"]);
    assert_eq!(waiting[0].attempts, 1);
    clock.advance(Duration::from_secs(29));
    assert_eq!(
        outbox.deliver_due().await.expect("pass"),
        0,
        "Retry-After holds"
    );
    clock.advance(Duration::from_secs(2));
    assert_eq!(outbox.deliver_due().await.expect("pass"), 1);
    assert_eq!(ok.seen.events(), ["applied"], "told once");
    assert_eq!(slow.seen.events(), ["applied"]);
}

#[tokio::test]
async fn a_request_s_later_notices_wait_for_its_earlier_ones() {
    let flaky = Flaky::new("flaky", vec![NotifyError::Failed("down".into())]);
    let (outbox, clock, _dir) = setup(vec![flaky.clone()]);
    outbox
        .enqueue(&noticed(NoticeKind::Planning, 2))
        .await
        .expect("enqueue");
    outbox
        .enqueue(&noticed(NoticeKind::PlanSucceeded, 3))
        .await
        .expect("enqueue");
    assert_eq!(outbox.deliver_due().await.expect("pass"), 0);
    assert!(flaky.seen.events().is_empty(), "the later one waited");
    clock.advance(backoff(1));
    assert_eq!(outbox.deliver_due().await.expect("pass"), 2);
    assert_eq!(flaky.seen.events(), ["plan.started", "plan.succeeded"]);
}

#[tokio::test]
async fn notices_of_one_write_keep_their_order() {
    let seen = Flaky::new("seen", vec![]);
    let (outbox, _clock, _dir) = setup(vec![seen.clone()]);
    let mut doc = request();
    doc.version = 3;
    let url = "http://tfpilot.test";
    let later = notice(1, NoticeKind::ApprovalNeeded, &doc, url, None);
    let first = notice(0, NoticeKind::PlanSucceeded, &doc, url, None);
    outbox.enqueue(&later).await.expect("enqueue");
    outbox.enqueue(&first).await.expect("enqueue");
    assert_eq!(outbox.deliver_due().await.expect("pass"), 2);
    assert_eq!(seen.seen.events(), ["plan.succeeded", "approval.needed"]);
}

#[tokio::test]
async fn an_entry_that_never_goes_through_is_kept_aside() {
    let broken = Flaky::new(
        "broken",
        (0..MAX_ATTEMPTS)
            .map(|i| NotifyError::Failed(format!("refused {i}")))
            .collect(),
    );
    let (outbox, clock, dir) = setup(vec![broken.clone()]);
    outbox
        .enqueue(&noticed(NoticeKind::Failed, 4))
        .await
        .expect("enqueue");
    for _ in 0..MAX_ATTEMPTS {
        outbox.deliver_due().await.expect("pass");
        clock.advance(MAX_BACKOFF);
    }
    assert!(outbox.pending().await.expect("pending").is_empty());
    assert!(broken.seen.events().is_empty());
    let dead = std::fs::read_dir(dir.path().join("outbox-dead")).expect("dead letters");
    assert_eq!(dead.count(), 1);
}

#[test]
fn backoff_doubles_up_to_half_an_hour() {
    assert_eq!(backoff(1), Duration::from_secs(4));
    assert_eq!(backoff(2), Duration::from_secs(8));
    assert_eq!(backoff(20), MAX_BACKOFF);
}

#[tokio::test]
async fn a_failing_notifier_holds_back_only_its_own_later_notices() {
    let mail = Flaky::new("mail", vec![NotifyError::Failed("smtp down".into())]);
    let chat = Flaky::new("chat", vec![]);
    let (outbox, clock, _dir) = setup(vec![mail.clone(), chat.clone()]);
    for (kind, version) in [(NoticeKind::Approved, 2), (NoticeKind::Merged, 3)] {
        outbox
            .enqueue(&noticed(kind, version))
            .await
            .expect("enqueue");
    }
    assert_eq!(outbox.deliver_due().await.expect("pass"), 0);
    assert_eq!(chat.seen.events(), ["approved", "merged"], "chat goes on");
    assert!(mail.seen.events().is_empty(), "mail waits, in order");
    let waiting = outbox.pending().await.expect("pending");
    assert!(waiting.iter().all(|e| e.pending == ["mail"]), "{waiting:?}");
    assert_eq!(waiting[1].attempts, 0, "the held one did not fail");
    clock.advance(backoff(1));
    assert_eq!(outbox.deliver_due().await.expect("pass"), 2);
    assert_eq!(mail.seen.events(), ["approved", "merged"]);
    assert_eq!(chat.seen.events(), ["approved", "merged"], "told once");
}
