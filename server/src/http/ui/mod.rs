//! The implementation of `app::services::Services` the UI calls into. Server
//! functions act as the browser session's user; every decision is made
//! here, on the server (`service::admin`, `domain::policy`).

mod compose;
mod detail;
mod drift;
mod integrations;
mod jobs;
mod policies;
mod projects;

use super::error::ApiError;
use crate::auth::Users;
use crate::config::Config;
use crate::service::admin::Admin;
use crate::service::filters::{self, FilterText};
use crate::service::flow::Flow;
use app::api::{
    Choice, Detail, Draft, Filters, Listing, Me, ModuleCard, NewOptions, Row, TokenRow, UserRow,
};
use app::domain::assistant::Line;
use app::domain::ids::RequestId;
use app::domain::policy::Action;
use app::domain::policy::{Actor, Decision, Operation, decide_operation};
use app::domain::registry::{Registry, Risk};
use app::domain::status::Status;
use app::services::{Later, Refusal, Services};
use std::sync::Arc;

/// Serves the UI from the registry and the stores.
pub struct UiServices {
    drafting: Arc<crate::service::assistant::Drafting>,
    ask: Arc<crate::service::ask::Ask>,
    registry: Arc<Registry>,
    config: Arc<Config>,
    users: Users,
    admin: Admin,
    requests: Arc<crate::service::requests::RequestService>,
    audit: crate::store::journal::AuditLog,
    flow: Arc<Flow>,
    chat_logs: crate::store::journal::ChatLogs,
    clock: Arc<dyn crate::clock::Clock>,
    policies: crate::service::policies::Policies,
    jobs: Arc<crate::service::jobs::Jobs>,
    integrations: crate::service::integrations::Integrations,
    projects: crate::service::projects::ProjectsService,
    served: Arc<crate::projects::Projects>,
}

impl UiServices {
    /// Over a loaded registry, the services and the ports' stores.
    pub fn new(
        (drafting, ask, policies, jobs, integrations, projects): (
            Arc<crate::service::assistant::Drafting>,
            Arc<crate::service::ask::Ask>,
            crate::service::policies::Policies,
            Arc<crate::service::jobs::Jobs>,
            crate::service::integrations::Integrations,
            crate::service::projects::ProjectsService,
        ),
        registry: Arc<Registry>,
        config: Arc<Config>,
        (users, admin): (Users, Admin),
        requests: Arc<crate::service::requests::RequestService>,
        flow: Arc<Flow>,
        ports: &crate::ports::Ports,
    ) -> Self {
        Self {
            policies,
            jobs,
            integrations,
            projects,
            served: ports.projects.clone(),
            drafting,
            ask,
            registry,
            config,
            users,
            admin,
            requests,
            audit: ports.audit_log(),
            flow,
            chat_logs: crate::store::journal::ChatLogs::new(ports.chat_logs.clone()),
            clock: ports.clock.clone(),
        }
    }

    /// The module catalogue, grouped for display.
    fn catalog_cards(&self) -> Vec<ModuleCard> {
        let mut cards: Vec<_> = self
            .registry
            .modules
            .values()
            .map(|m| ModuleCard {
                module_type: m.module_type.to_string(),
                title: m.title.clone(),
                description: m.description.clone(),
                category: m.category.clone(),
                inputs: m.inputs.len(),
                high_risk_inputs: m.inputs.iter().filter(|i| i.risk == Risk::High).count(),
            })
            .collect();
        cards.sort_by(|a, b| (&a.category, &a.title).cmp(&(&b.category, &b.title)));
        cards
    }

    /// The signed-in user of the request being served.
    async fn caller(&self) -> Result<Actor, Refusal> {
        let session: tower_sessions::Session =
            leptos_axum::extract().await.map_err(|_| Refusal {
                status: 401,
                message: "Sign in first.".to_owned(),
            })?;
        crate::auth::session_actor(&session, &self.users, &self.config)
            .await
            .map_err(|e| match e {
                crate::auth::SessionError::Unauthorized(m) => refusal(ApiError::Unauthorized(m)),
                other => refusal(ApiError::Unavailable(other.to_string())),
            })
    }
}

/// Any service error as the page's refusal: the API's status and sentence.
fn refusal(e: impl Into<ApiError>) -> Refusal {
    let e = e.into();
    let status = e.status().as_u16();
    let message = e.sentence();
    Refusal { status, message }
}

impl Services for UiServices {
    fn catalog(&self) -> Vec<ModuleCard> {
        self.catalog_cards()
    }

    fn users(&self) -> Later<'_, Vec<UserRow>> {
        Box::pin(async move {
            let actor = self.caller().await?;
            let users = self.admin.users(&actor).await.map_err(refusal)?;
            Ok(users
                .into_iter()
                .map(|u| UserRow {
                    role: u.role.as_str().to_owned(),
                    disabled: u.disabled,
                    password: u.password_hash.is_some(),
                    slack_user_id: u.slack_user_id,
                    email: u.email,
                    login: u.login,
                })
                .collect())
        })
    }

    fn tokens(&self) -> Later<'_, Vec<TokenRow>> {
        Box::pin(async move {
            let actor = self.caller().await?;
            let tokens = self.admin.tokens(&actor).await.map_err(refusal)?;
            Ok(tokens
                .into_iter()
                .map(|t| TokenRow {
                    id: t.id,
                    user: t.user,
                    name: t.name,
                    scope: t.scope.map(|s| s.as_str().to_owned()),
                    created_at: t.created_at,
                    revoked_at: t.revoked_at,
                })
                .collect())
        })
    }

    fn policies(&self, alert: Option<String>) -> Later<'_, app::api::PolicyPage> {
        Box::pin(self.policy_page(alert))
    }

    fn integrations(&self) -> Later<'_, app::api::IntegrationsPage> {
        Box::pin(self.integration_page())
    }

    fn jobs(&self, filters: app::api::JobFilters) -> Later<'_, app::api::JobLog> {
        Box::pin(self.job_log(filters))
    }

    fn projects(&self) -> Later<'_, app::api::ProjectsPage> {
        Box::pin(self.projects_page())
    }

    fn project(&self, key: String) -> Later<'_, app::api::ProjectView> {
        Box::pin(async move { self.project_view(&key).await })
    }

    fn me(&self) -> Later<'_, Option<Me>> {
        Box::pin(async move {
            Ok(self.caller().await.ok().map(|a| Me {
                project_admin: self.project_admin(&a),
                login: a.login,
                role: a.role.as_str().to_owned(),
            }))
        })
    }

    fn dashboard(&self, f: Filters) -> Later<'_, Listing> {
        Box::pin(async move {
            let actor = self.caller().await?;
            let query = filters::parse(&FilterText {
                status: Some(&f.status),
                environment: Some(&f.environment),
                module: Some(&f.module),
                project: Some(&f.project),
                q: Some(&f.q),
                drift: Some(&f.drift),
                limit: None,
                cursor: Some(&f.cursor),
            })
            .map_err(|e| format!("The {} filter cannot be used: {}.", e.field, e.message))?;
            // Read before the rows: any change after it is replayed to the page.
            let since = self.requests.index().changes().last();
            let page = self.requests.list(&actor, &query);
            let counts = self.requests.counts(&actor);
            let projects = self.requests.projects().visible_to(&actor);
            let mut environments: Vec<String> = Vec::new();
            for p in &projects {
                for e in &p.environments {
                    if !environments.iter().any(|x| x == e.as_str()) {
                        environments.push(e.to_string());
                    }
                }
            }
            let same = |v: String| Choice {
                label: v.clone(),
                value: v,
            };
            Ok(Listing {
                rows: page
                    .items
                    .into_iter()
                    .map(|e| Row {
                        etag: String::new(),
                        ..e.row()
                    })
                    .collect(),
                next_cursor: page.next_cursor,
                since,
                counts: Status::NAMES
                    .iter()
                    .map(|s| (s.to_string(), counts.get(*s).copied().unwrap_or(0)))
                    .collect(),
                projects: projects
                    .iter()
                    .map(|p| Choice {
                        value: p.key.to_string(),
                        label: p.title.clone(),
                    })
                    .collect(),
                environments: environments.into_iter().map(same).collect(),
                modules: self
                    .registry
                    .modules
                    .values()
                    .map(|m| Choice {
                        value: m.module_type.to_string(),
                        label: m.title.clone(),
                    })
                    .collect(),
            })
        })
    }

    fn new_options(&self, module: String) -> Later<'_, NewOptions> {
        Box::pin(async move {
            let actor = self.caller().await?;
            // A viewer may still file where a project makes them a requester.
            if let Decision::Forbidden { reason, .. } = decide_operation(Operation::File, &actor)
                && self.requests.projects().fileable_by(&actor).is_empty()
            {
                return Err(Refusal {
                    status: 403,
                    message: reason,
                });
            }
            self.options_for(&actor, &module).await
        })
    }

    fn describe(&self, ask: app::api::AssistantAsk) -> Later<'_, app::api::Described> {
        Box::pin(async move {
            use crate::service::assistant::DraftError;
            let actor = self.caller().await?;
            if let Some(question) = self.ask.understand(&ask.text).await {
                return self
                    .ask
                    .answer(&actor, &question)
                    .await
                    .map(app::api::Described::Answer)
                    .map_err(|e| Refusal {
                        status: 503,
                        message: format!("tfpilot cannot answer right now: {e}"),
                    });
            }
            let draft = self.drafting.draft(&actor, &ask).await.map_err(|e| {
                let status = match &e {
                    DraftError::Forbidden { .. } => 403,
                    DraftError::Invalid { .. } | DraftError::TooLong(_) => 422,
                };
                Refusal {
                    status,
                    message: e.to_string(),
                }
            })?;
            Ok(app::api::Described::Draft(draft))
        })
    }

    fn preview(&self, draft: Draft) -> Later<'_, String> {
        Box::pin(async move {
            let actor = self.caller().await?;
            self.preview_for(&actor, draft)
        })
    }

    fn file(&self, draft: Draft, transcript: Vec<Line>) -> Later<'_, String> {
        Box::pin(async move {
            let actor = self.caller().await?;
            self.file_for(&actor, draft, transcript).await
        })
    }

    fn draft_of(&self, id: RequestId) -> Later<'_, Draft> {
        Box::pin(async move {
            let actor = self.caller().await?;
            self.draft_for(&actor, id.as_str()).await
        })
    }

    fn update(&self, draft: Draft, transcript: Vec<Line>) -> Later<'_, String> {
        Box::pin(async move {
            let actor = self.caller().await?;
            self.update_for(&actor, draft, transcript).await
        })
    }

    fn detail(&self, id: RequestId) -> Later<'_, Detail> {
        Box::pin(async move {
            let actor = self.caller().await?;
            self.detail_for(&actor, id.as_str()).await
        })
    }

    fn act(&self, id: RequestId, action: Action, addresses: Vec<String>) -> Later<'_, ()> {
        Box::pin(async move {
            let actor = self.caller().await?;
            let done = match action {
                Action::Confirm => self.flow.confirm(&actor, &id, Some(addresses)).await,
                action => self.flow.perform(&actor, &id, action).await,
            };
            done.map(drop).map_err(refusal)
        })
    }
}
