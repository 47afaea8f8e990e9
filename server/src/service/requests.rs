//! The request service: validate, store, index and audit requests.
//! (The Git, PR and plan steps join it with the core flow.)

use super::index::{Index, Query, QueryPage};
use crate::store::journal::{AuditLog, AuditRecord};
use crate::store::repo::{RepoError, RequestRepo, Versioned};
use app::domain::config::{FieldError, normalize, redact};
use app::domain::ids::{EnvName, ModuleType, ProjectKey, RequestId, Target};
use app::domain::policy::{Action, Actor, Decision, Operation, allowed_actions, decide_operation};
use app::domain::registry::{Module, Registry};
use app::domain::request::{Event, Kind, Origin, Request};
use app::domain::status::derive_status;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What a client sends to file a request.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// Project key (`sandbox`).
    pub project: String,
    /// Environment (`dev`).
    pub environment: String,
    /// Module type (`s3-bucket`).
    pub module: String,
    /// Inputs by name.
    #[schema(value_type = Object)]
    pub config: serde_json::Map<String, serde_json::Value>,
    /// `create` (the default) a new resource, or `adopt` (import) one that
    /// already exists: only for modules whose registry entry has an
    /// `import` table, and only with inputs that make a non-empty,
    /// one-line import id (else 422 naming the module or the inputs).
    #[serde(default, skip_serializing_if = "Kind::is_create")]
    pub kind: Kind,
}

/// Why the service refused.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// One field is wrong (unknown project, environment or module).
    #[error("{message}")]
    Invalid {
        /// The field.
        field: String,
        /// The rule.
        message: String,
    },
    /// Inputs are invalid: every field error.
    #[error("the config has {} invalid field(s)", .0.len())]
    Fields(Vec<FieldError>),
    /// The caller may not.
    #[error("{reason}")]
    Forbidden {
        /// Rule id.
        rule: String,
        /// Why.
        reason: String,
    },
    /// Not found.
    #[error("request {0} does not exist")]
    NotFound(String),
    /// The repository failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// A request as the API shows it to one caller.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    /// The stored document, sensitive inputs redacted.
    #[schema(value_type = Object)]
    pub request: Request,
    /// Derived status.
    pub status: String,
    /// The failing step, when `status` is `failed`.
    pub failed_step: Option<String>,
    /// The change in plain words: what the newest plan does (destructive
    /// changes first), or what is asked for before there is one; `null`
    /// when the module is no longer in the registry.
    pub explanation: Option<String>,
    /// Every action with the caller's decision.
    #[schema(value_type = Vec<Object>)]
    pub allowed_actions: Vec<ActionView>,
}

/// One action and whether this caller may take it now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionView {
    /// The action.
    #[schema(value_type = String)]
    pub action: Action,
    /// Allowed, or the reason not.
    #[schema(value_type = Object)]
    #[serde(flatten)]
    pub decision: Decision,
}

/// Files, reads and lists requests.
pub struct RequestService {
    registry: Arc<Registry>,
    repo: RequestRepo,
    audit: AuditLog,
    index: Arc<Index>,
    ids: crate::service::ids::IdIssuer,
    notices: crate::notify::Notices,
    clock: Arc<dyn crate::clock::Clock>,
    flow: Arc<super::flow::Flow>,
    projects: Arc<crate::projects::Projects>,
}

impl RequestService {
    /// Wires the service over the ports' request store; new requests go
    /// to `notices`.
    pub fn new(
        registry: Arc<Registry>,
        index: Arc<Index>,
        ports: &crate::ports::Ports,
        notices: crate::notify::Notices,
        flow: Arc<super::flow::Flow>,
    ) -> Self {
        Self {
            ids: crate::service::ids::IdIssuer::new(
                ports.requests.clone(),
                ports.clock.clone(),
                ports.ids.clone(),
            ),
            flow,
            registry,
            repo: RequestRepo::new(ports.requests.clone()),
            audit: ports.audit_log(),
            index,
            notices,
            clock: ports.clock.clone(),
            projects: ports.projects.clone(),
        }
    }

    /// The projects served.
    pub fn projects(&self) -> &Arc<crate::projects::Projects> {
        &self.projects
    }

    /// The index.
    pub fn index(&self) -> &Arc<Index> {
        &self.index
    }

    /// Validates and stores a new request under a fresh id.
    pub async fn create(
        &self,
        actor: &Actor,
        new: NewRequest,
    ) -> Result<RequestView, ServiceError> {
        self.create_with_id(actor, new, Minted::Fresh(self.ids.fresh()), None)
            .await
    }

    /// Files a request asked for in a conversation (a Slack thread), whose
    /// status changes are told there.
    pub async fn create_from(
        &self,
        actor: &Actor,
        new: NewRequest,
        origin: Origin,
    ) -> Result<RequestView, ServiceError> {
        self.create_with_id(actor, new, Minted::Fresh(self.ids.fresh()), Some(origin))
            .await
    }

    /// The project, environment and module a new request names, each
    /// checked against the configuration and the registry, and its config
    /// normalized for request `id`.
    fn resolve(
        &self,
        actor: &Actor,
        new: &NewRequest,
        id: &RequestId,
    ) -> Result<(ProjectKey, EnvName, &Module, app::domain::config::Config), ServiceError> {
        let invalid = |field: &str, message: String| ServiceError::Invalid {
            field: field.into(),
            message,
        };
        let project =
            ProjectKey::parse(&new.project).map_err(|e| invalid("project", e.to_string()))?;
        let snapshot = self.projects.snapshot();
        // A project hidden from the caller is as absent as an unknown one.
        let (Some(p), Some(actor)) = (
            snapshot.projects.get(&project),
            snapshot.policy.in_project(project.as_str(), actor),
        ) else {
            return Err(invalid(
                "project",
                format!("project `{project}` is not configured"),
            ));
        };
        if let Decision::Forbidden { rule, reason } = decide_operation(Operation::File, &actor) {
            return Err(ServiceError::Forbidden { rule, reason });
        }
        let environment =
            EnvName::parse(&new.environment).map_err(|e| invalid("environment", e.to_string()))?;
        if !p.environments.contains(&environment) {
            let known: Vec<_> = p.environments.iter().map(|e| e.as_str()).collect();
            return Err(invalid(
                "environment",
                format!(
                    "project `{project}` has no environment `{environment}` (it has: {})",
                    known.join(", ")
                ),
            ));
        }
        let module_type =
            ModuleType::parse(&new.module).map_err(|e| invalid("module", e.to_string()))?;
        let Some(module) = self.registry.module(&module_type) else {
            return Err(invalid(
                "module",
                format!("module `{module_type}` is not in the registry"),
            ));
        };
        let ctx = Target {
            request_id: id,
            project: &project,
            environment: &environment,
        };
        let config = normalize(module, &new.config, ctx).map_err(ServiceError::Fields)?;
        app::domain::adopt::check(module, new.kind, &config)
            .map_err(|e| ServiceError::Fields(e.field_errors()))?;
        Ok((project, environment, module, config))
    }

    /// The block a new request would commit, exactly, for the id it will
    /// be filed under: the same checks and normalization as filing it.
    pub fn preview(
        &self,
        actor: &Actor,
        new: &NewRequest,
        id: &RequestId,
    ) -> Result<app::domain::render::Block, ServiceError> {
        let (project, environment, module, config) = self.resolve(actor, new, id)?;
        let target = Target {
            request_id: id,
            project: &project,
            environment: &environment,
        };
        let adopt = new.kind == Kind::Adopt;
        let config = redact(module, &config);
        app::domain::adopt::render(module, target, &config, adopt).map_err(|e| {
            ServiceError::Invalid {
                field: "module".into(),
                message: format!("the template of {} failed: {e}", module.module_type),
            }
        })
    }

    /// An id for a page to file under later, with its ticket (see
    /// [`crate::service::ids`]).
    pub async fn issue_id(&self, actor: &Actor) -> Result<(RequestId, String), ServiceError> {
        Ok(self
            .ids
            .issue(&actor.login)
            .await
            .map_err(RepoError::from)?)
    }

    /// Files a request under an id issued earlier with [`Self::issue_id`]:
    /// refused (400, field `id`) unless the ticket is the one issued to
    /// `actor`, the id is near the server clock and it was never used.
    pub async fn create_issued(
        &self,
        actor: &Actor,
        new: NewRequest,
        id: RequestId,
        ticket: &str,
    ) -> Result<RequestView, ServiceError> {
        self.create_issued_from(actor, new, id, ticket, None).await
    }

    /// [`Self::create_issued`] for a request asked for in a conversation.
    pub async fn create_issued_from(
        &self,
        actor: &Actor,
        new: NewRequest,
        id: RequestId,
        ticket: &str,
        origin: Option<Origin>,
    ) -> Result<RequestView, ServiceError> {
        let invalid = |message: String| ServiceError::Invalid {
            field: "id".into(),
            message,
        };
        self.ids
            .check(&actor.login, &id, ticket)
            .await
            .map_err(RepoError::from)?
            .map_err(|e| invalid(e.0))?;
        match self
            .create_with_id(actor, new, Minted::Issued(id), origin)
            .await
        {
            Err(ServiceError::Repo(RepoError::Exists(_))) => Err(invalid(format!(
                "request id `{id}` is already used (a request was filed under it); reload the page to get a new one"
            ))),
            other => other,
        }
    }

    /// Validates and stores a new request under `id`, then starts its
    /// workflow (the step driver opens the PR and plans it).
    async fn create_with_id(
        &self,
        actor: &Actor,
        new: NewRequest,
        minted: Minted,
        origin: Option<Origin>,
    ) -> Result<RequestView, ServiceError> {
        let id = minted.id();
        let (project, environment, module, config) = self.resolve(actor, &new, &id)?;
        let at = self.clock.rfc3339_millis();
        let doc = Request {
            id,
            version: 1,
            project,
            environment,
            module: module.module_type.clone(),
            kind: new.kind,
            revision: 1,
            config,
            created_by: actor.login.clone(),
            authors: Vec::new(),
            created_at: at.clone(),
            updated_at: at.clone(),
            pr: None,
            runs: Default::default(),
            approval: None,
            cleanup_pr: None,
            confirmation: None,
            events: vec![Event {
                at: at.clone(),
                actor: actor.login.clone(),
                kind: "created".into(),
                detail: format!("revision 1 of {}", module.title),
            }],
            origin,
            drift: None,
        };
        let stored = match minted {
            Minted::Fresh(_) => self.repo.create_fresh(&doc).await?,
            Minted::Issued(_) => self.repo.create(&doc).await?,
        };
        self.index.upsert(&stored.doc, &stored.etag);
        // Answered once the new row is in the shared change log too (at
        // most 2 s), so every replica shows it within a poll of the log.
        tokio::join!(
            self.audit_write(actor, "request.create", &stored, None),
            self.notices.changed(None, &stored.doc),
            self.index.logged(std::time::Duration::from_secs(2)),
        );
        self.flow.spawn_advance(id);
        Ok(self.view(actor, stored))
    }

    /// One request as `actor` sees it: from memory while the index says
    /// the version read last is still current ([`Index::document`]), else
    /// from the store.
    pub async fn get(&self, actor: &Actor, id: &str) -> Result<RequestView, ServiceError> {
        let id = RequestId::parse(id).map_err(|_| ServiceError::NotFound(id.to_owned()))?;
        let stored = self
            .index
            .document(&id, async {
                match self.repo.get(&id).await {
                    Err(RepoError::NotFound(_)) => self.repo.get_archived(&id).await,
                    other => other,
                }
            })
            .await
            .map_err(|e| match e {
                RepoError::NotFound(id) => ServiceError::NotFound(id),
                e => e.into(),
            })?;
        if !self.sees(actor, &stored.doc) {
            return Err(ServiceError::NotFound(id.to_string()));
        }
        Ok(self.view(actor, stored))
    }

    /// Whether `actor` sees `doc` (its project is not hidden from them).
    pub fn sees(&self, actor: &Actor, doc: &Request) -> bool {
        self.projects.policy().sees(doc.project.as_str(), actor)
    }

    /// Whether `actor` sees the live request `id` names (a job's, say):
    /// `true` when it names none, or no live request.
    pub fn sees_id(&self, actor: &Actor, id: Option<&str>) -> bool {
        let Some(id) = id else {
            return true;
        };
        self.index
            .with_prefix(id, 1)
            .first()
            .filter(|row| row.id.as_str() == id)
            .is_none_or(|row| self.projects.policy().sees(&row.project, actor))
    }

    /// A page of the index as `actor` sees it: rows of projects hidden
    /// from them never match.
    pub fn list(&self, actor: &Actor, query: &Query) -> QueryPage {
        let query = Query {
            seen: self.projects.seen_by(actor),
            ..query.clone()
        };
        self.index.query(&query)
    }

    /// Rows per status in the projects `actor` sees.
    pub fn counts(&self, actor: &Actor) -> std::collections::BTreeMap<String, usize> {
        self.index.counts_in(&self.projects.seen_by(actor))
    }

    /// A stored document as `actor` sees it.
    pub fn view(&self, actor: &Actor, stored: Versioned) -> RequestView {
        let mut request = stored.doc;
        let status = derive_status(&request);
        let actions = allowed_actions(&request, actor, &self.projects.policy())
            .into_iter()
            .map(|(action, decision)| ActionView { action, decision })
            .collect();
        let module = self.registry.module(&request.module);
        let explanation = module.map(|m| app::domain::explain::request(&request, m));
        if let Some(module) = module {
            request.config = redact(module, &request.config);
        }
        RequestView {
            request,
            status: status.as_str().to_owned(),
            failed_step: status.failed_step().map(|s| s.as_str().to_owned()),
            explanation,
            allowed_actions: actions,
        }
    }

    async fn audit_write(
        &self,
        actor: &Actor,
        action: &str,
        stored: &Versioned,
        before: Option<u64>,
    ) {
        let record = AuditRecord {
            at: self.clock.rfc3339_millis(),
            actor: actor.login.clone(),
            action: action.into(),
            request: Some(stored.doc.id.to_string()),
            before_version: before,
            after_version: Some(stored.doc.version),
            detail: String::new(),
            count: 1,
            until: None,
            via: via(actor),
        };
        if let Err(e) = self.audit.append(&record).await {
            tracing::error!(request = %stored.doc.id, "could not append the audit record: {e}");
        }
    }
}

/// Where a new request's id comes from.
#[derive(Clone, Copy)]
enum Minted {
    /// Minted by this call (never archived).
    Fresh(RequestId),
    /// Issued to a page earlier and sent back with the request.
    Issued(RequestId),
}

impl Minted {
    fn id(self) -> RequestId {
        match self {
            Minted::Fresh(id) | Minted::Issued(id) => id,
        }
    }
}

/// `slack` for an action that came from Slack (the audit log's `via`).
fn via(actor: &Actor) -> Option<String> {
    (actor.credential == app::domain::policy::Credential::Slack).then(|| "slack".to_owned())
}
