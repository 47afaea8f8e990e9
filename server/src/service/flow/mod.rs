//! The request workflow: from a stored request to a PR, a plan, an
//! approval, a merge, an apply — and through a cleanup PR to destroyed.
//!
//! Actions (`approve`, `merge`, `apply`, …) are decided by the one policy
//! function and recorded with compare-and-swap; everything that follows is
//! done by [`Flow::advance`], an idempotent step driver that looks for what
//! each step would create before creating it. It runs after every action,
//! when a run completes, and periodically for every unfinished request (the
//! reconciler), so a crash at any point is repaired, never duplicated.

mod actions;
mod adopt_drift;
mod advance;
mod drift;
mod drive;
mod edits;
mod error;
mod prs;
mod recover;
mod reject;
mod runs;
mod scope;
mod write;

pub use adopt_drift::{NO_DRIFT, NOT_APPLIED};
pub use app::domain::transitions::short;
pub use drift::DriftMark;
pub use error::FlowError;
pub use scope::waiting_for_apply;

use super::index::Index;
use crate::exec::Executor;
use crate::git::GitHost;
use crate::store::journal::{AuditLog, AuditRecord};
use crate::store::repo::{RequestRepo, Versioned};
use app::domain::ids::RequestId;
use app::domain::policy::{Action, Actor, decide};
use app::domain::registry::Registry;
use app::domain::request::Request;
use app::domain::status::Status;
use app::domain::transitions::{history, history_mut};
use error::refuse;
use std::sync::Arc;

/// The workflow over the ports.
pub struct Flow {
    registry: Arc<Registry>,
    projects: Arc<crate::projects::Projects>,
    repo: RequestRepo,
    index: Arc<Index>,
    audit: AuditLog,
    git: Arc<dyn GitHost>,
    exec: Arc<dyn Executor>,
    notices: crate::notify::Notices,
    clock: Arc<dyn crate::clock::Clock>,
    /// One step driver at a time per request (striped) in this process;
    /// across replicas a lease in the store (`locks/advance/<id>.json`).
    advancing: Arc<[tokio::sync::Mutex<()>; ADVANCE_STRIPES]>,
    /// The store the leases are kept in, this replica's name in them and
    /// how long one lasts unrenewed.
    leases: Arc<dyn crate::store::ObjectStore>,
    holder: String,
    lease_ttl: std::time::Duration,
    /// Background drives ([`Flow::spawn_advance`]) running at once.
    drivers: Arc<tokio::sync::Semaphore>,
    /// The background drives and every hold on a request, waited for at
    /// a stop ([`Flow::settle`]).
    drives: tokio_util::task::TaskTracker,
}

const ADVANCE_STRIPES: usize = 64;

/// Requests driven in the background at once per replica: a burst of new
/// requests queues here instead of flooding the store (and the git host)
/// with every one's steps at the same moment, which would slow the API's
/// own reads and writes. A step never waits for terraform, so a drive is
/// short.
pub const DRIVERS: usize = 8;

/// The branch of a request's revision.
pub fn request_branch(id: &RequestId, revision: u32) -> String {
    if revision <= 1 {
        format!("request/{id}")
    } else {
        format!("request/{id}-r{revision}")
    }
}

/// The branch of a request's cleanup.
pub fn cleanup_branch(id: &RequestId) -> String {
    format!("cleanup/{id}")
}

impl Flow {
    /// Wires the workflow over the ports' stores, repos, executor and
    /// clock; status changes go to `notices`.
    pub fn new(
        registry: Arc<Registry>,
        index: Arc<Index>,
        ports: &crate::ports::Ports,
        notices: crate::notify::Notices,
    ) -> Self {
        Self {
            registry,
            projects: ports.projects.clone(),
            repo: RequestRepo::new(ports.requests.clone()),
            index,
            audit: ports.audit_log(),
            git: ports.git.clone(),
            exec: ports.exec.clone(),
            notices,
            clock: ports.clock.clone(),
            advancing: Arc::new(std::array::from_fn(|_| tokio::sync::Mutex::new(()))),
            leases: ports.requests.clone(),
            holder: format!("replica-{}", ports.ids.random_hex(8)),
            lease_ttl: std::time::Duration::from_secs(30),
            drivers: Arc::new(tokio::sync::Semaphore::new(DRIVERS)),
            drives: tokio_util::task::TaskTracker::new(),
        }
    }

    /// How long this replica's hold on a request it drives lasts
    /// unrenewed (`TFPILOT_LEASE_SECS`).
    pub fn with_lease(mut self, ttl: std::time::Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    fn advance_lock(&self, id: &RequestId) -> &tokio::sync::Mutex<()> {
        let stripe = id
            .as_str()
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
        &self.advancing[stripe % ADVANCE_STRIPES]
    }

    /// Main moved (a merge): every open PR of the project is marked stale
    /// at once (its page and row say so, approve and merge refuse it); the
    /// reconciler's next pass over waiting PRs — or an approve or merge
    /// refused as stale — brings each branch up to date and plans it
    /// again, so a burst of merges costs one new plan per PR, not one per
    /// merge.
    pub(super) fn main_moved(self: &Arc<Self>, project: &app::domain::ids::ProjectKey) {
        let flow = self.clone();
        let project = project.clone();
        tokio::spawn(async move {
            let tip = match flow.main_tip(&project).await {
                Ok(tip) => tip,
                Err(e) => return tracing::warn!(%project, "cannot read main: {e}"),
            };
            let mut cursor = None;
            loop {
                let page = flow.index.query(&super::index::Query {
                    project: Some(project.to_string()),
                    limit: 500,
                    cursor,
                    ..Default::default()
                });
                for row in &page.items {
                    if !matches!(
                        row.status,
                        Status::Planning | Status::PlanReady | Status::Approved
                    ) {
                        continue;
                    }
                    let marked = flow
                        .record_if(&row.id, |next| {
                            let pr = next.pr.as_mut().filter(|p| p.merged_sha.is_none())?;
                            (pr.base_sha.as_deref() != Some(&tip)
                                && pr.main_sha.as_deref() != Some(&tip))
                            .then(|| pr.main_sha = Some(tip.clone()))
                        })
                        .await;
                    if let Err(e) = marked {
                        tracing::warn!(request = %row.id, "cannot mark the plan stale: {e}");
                    }
                }
                match page.next_cursor.and_then(|c| RequestId::parse(&c).ok()) {
                    Some(c) => cursor = Some(c),
                    None => return,
                }
            }
        });
    }

    /// Applies `f` with CAS after re-checking `action` on the fresh
    /// document; records the event, indexes and audits the write.
    async fn act(
        &self,
        actor: &Actor,
        id: &RequestId,
        action: Option<Action>,
        f: impl FnMut(&Request) -> Result<Request, FlowError>,
    ) -> Result<Versioned, FlowError> {
        let name = action.map_or("system", Action::as_str);
        self.act_as(actor, id, action, name, f).await
    }

    /// [`Flow::act`], audited as `request.<name>`.
    async fn act_as(
        &self,
        actor: &Actor,
        id: &RequestId,
        action: Option<Action>,
        name: &str,
        f: impl FnMut(&Request) -> Result<Request, FlowError>,
    ) -> Result<Versioned, FlowError> {
        let mut f = f;
        let policy = &self.projects.policy();
        let stored = self
            .write(id, |doc| {
                if let Some(action) = action {
                    refuse(decide(action, doc, actor, policy))?;
                }
                f(doc)
            })
            .await??;
        self.index.upsert(&stored.doc, &stored.etag);
        let record = AuditRecord {
            at: self.now(),
            actor: actor.login.clone(),
            action: format!("request.{name}"),
            request: Some(id.to_string()),
            // The repo bumps the version by exactly one per write.
            before_version: Some(stored.doc.version - 1),
            after_version: Some(stored.doc.version),
            detail: stored
                .doc
                .events
                .last()
                .map(|e| e.kind.clone())
                .unwrap_or_default(),
            count: 1,
            until: None,
            via: via(actor),
        };
        if let Err(e) = self.audit.append(&record).await {
            tracing::error!(request = %id, "could not append the audit record: {e}");
        }
        Ok(stored)
    }

    /// The tip of the project's main branch.
    pub(super) async fn main_tip(
        &self,
        project: &app::domain::ids::ProjectKey,
    ) -> Result<String, FlowError> {
        // Seeds the repo on first use, like every step that needs it.
        Ok(self.git.ensure_repo(project).await?)
    }

    async fn audit_refusal<T>(
        &self,
        result: &Result<T, FlowError>,
        actor: &Actor,
        id: &RequestId,
        action: Action,
    ) {
        let Err(FlowError::Forbidden { rule, reason }) = result else {
            return;
        };
        let record = AuditRecord {
            at: self.now(),
            actor: actor.login.clone(),
            action: "auth.denied".into(),
            request: Some(id.to_string()),
            before_version: None,
            after_version: None,
            detail: format!("{} refused by {rule}: {reason}", action.as_str()),
            count: 1,
            until: None,
            via: via(actor),
        };
        // Identical refusals fold into one record with a count.
        let kind = format!("{}:{rule}", action.as_str());
        if let Err(e) = self.audit.append_refusal(&record, &kind).await {
            tracing::error!(request = %id, "could not append the audit record: {e}");
        }
    }

    /// Runs [`Flow::advance`] in the background ([`DRIVERS`] at once),
    /// logging failures.
    pub fn spawn_advance(self: &Arc<Self>, id: RequestId) {
        let flow = self.clone();
        self.drives.spawn(async move {
            // Closed at a stop: the request is left to the reconciler of
            // this or another replica.
            let Ok(_turn) = flow.drivers.clone().acquire_owned().await else {
                return;
            };
            if let Err(e) = flow.advance(&id).await {
                tracing::warn!(request = %id, "could not advance the request (the reconciler retries): {e}");
            }
        });
    }

    /// At a stop: takes no more requests (background drives, the
    /// reconciler, finished runs) and waits for those under way, so each
    /// hands its request's lease back (another replica takes the request
    /// over at once, not when the lease runs out).
    pub async fn settle(&self) {
        self.drivers.close();
        self.drives.close();
        self.drives.wait().await;
    }

    /// Advances every unfinished request once (the reconciler's pass);
    /// with `waiting`, also those whose open PR waits for a person (it may
    /// have been merged or changed on the host without a webhook).
    pub async fn reconcile_all(self: &Arc<Self>, waiting: bool) -> usize {
        let mut n = 0;
        let mut cursor = None;
        loop {
            let page = self.index.query(&super::index::Query {
                limit: 500,
                cursor,
                ..Default::default()
            });
            for row in &page.items {
                let due = match row.status {
                    Status::Created | Status::Planning | Status::Applying | Status::Destroying => {
                        true
                    }
                    Status::PlanReady | Status::Approved => waiting,
                    _ => false,
                };
                if due {
                    n += 1;
                    // A request another replica drives right now is its.
                    if let Err(e) = self
                        .advance_within(&row.id, std::time::Duration::ZERO)
                        .await
                    {
                        tracing::warn!(request = %row.id, "reconciler could not advance: {e}");
                    }
                }
            }
            match page.next_cursor.and_then(|c| RequestId::parse(&c).ok()) {
                Some(c) => cursor = Some(c),
                None => return n,
            }
        }
    }
}

#[cfg(test)]
mod tests;

/// `slack` for an action that came from Slack, `remediation` for one a
/// remediation job took (the audit log's `via`).
fn via(actor: &Actor) -> Option<String> {
    use app::domain::policy::Credential;
    matches!(
        actor.credential,
        Credential::Slack | Credential::Remediation
    )
    .then(|| actor.credential.via().to_owned())
}
