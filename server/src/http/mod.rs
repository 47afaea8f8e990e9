//! HTTP: the REST API, the Leptos pages and server functions, static assets.

mod alerts;
mod ask;
mod assistant;
mod audit;
mod auth;
pub mod client_addr;
mod drift;
pub mod error;
mod events;
mod forms;
mod health;
mod integration_forms;
mod integrations;
mod jobs;
mod limit;
mod login;
mod metrics;
mod modules;
mod oauth;
pub mod openapi;
mod policies;
mod project_forms;
mod projects;
mod reject;
mod requests;
mod session;
mod slack;
mod tokens;
mod trace;
mod ui;
mod users;
pub mod webhooks;

use crate::auth::Tokens;
use crate::config::Config;
use crate::notify::Notices;
use crate::ports::Ports;
use crate::service::flow::Flow;
use crate::service::index::Index;
use crate::service::requests::RequestService;
use crate::store::journal::AuditLog;
use crate::store::open::Stores;
use app::domain::registry::Registry;
use app::services::SharedServices;
use app::ui::{App, shell};
use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use error::ApiError;
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{
    LeptosRoutes, file_and_error_handler, generate_route_list, handle_server_fns_with_context,
};
use std::sync::Arc;
use tower_http::services::ServeDir;
use ui::UiServices;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// Leptos rendering options.
    pub leptos: LeptosOptions,
    /// The configuration.
    pub config: Arc<Config>,
    /// The loaded registry.
    pub registry: Arc<Registry>,
    /// What server functions call.
    pub services: SharedServices,
    /// The object stores.
    pub stores: Stores,
    /// Bearer tokens.
    pub tokens: Tokens,
    /// Requests.
    pub requests: Arc<RequestService>,
    /// The workflow.
    pub flow: Arc<Flow>,
    /// Local users.
    pub users: crate::auth::Users,
    /// The audit log.
    pub audit: AuditLog,
    /// Failed sign-in counts.
    pub limits: Arc<crate::auth::limits::LoginLimits>,
    /// Device cookies of browsers that signed in before.
    pub devices: crate::auth::device::DeviceCookies,
    /// Which user a GitHub account signs in as.
    pub identities: crate::auth::identities::GithubIdentities,
    /// The first-admin setup.
    pub setup: crate::auth::setup::Setup,
    /// Password, setup and GitHub sign-in.
    pub signin: crate::service::signin::SignIn,
    /// Users and tokens with their rules.
    pub admin: crate::service::admin::Admin,
    /// Wall-clock time.
    pub clock: Arc<dyn crate::clock::Clock>,
    /// Random bytes for cookies and nonces.
    pub ids: Arc<dyn crate::ids::Ids>,
    /// Drafts requests from descriptions.
    pub drafting: Arc<crate::service::assistant::Drafting>,
    /// The Slack app, when a bot token is configured.
    pub slack: Option<Arc<crate::slack::SlackBot>>,
    /// Questions about platform state.
    pub ask: Arc<crate::service::ask::Ask>,
    /// Remediation jobs: the alert intake, the job log and the workers.
    pub jobs: Arc<crate::service::jobs::Jobs>,
    /// Remediation policies.
    pub policies: crate::service::policies::Policies,
    /// Drift runs.
    pub drift: Arc<crate::service::drift::DriftService>,
    /// Integration credentials, sealed with the master key.
    pub integrations: crate::service::integrations::Integrations,
    /// Projects, their members and settings.
    pub projects: crate::service::projects::ProjectsService,
    /// The credentials adapters read now (Slack's signing secret, the
    /// webhook secret).
    pub credentials: Arc<crate::integrations::credentials::Credentials>,
    /// Cancelled when the server stops: long-lived answers (event
    /// streams) end on it.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Changes as event streams send them to callers who see every
    /// project, rendered once for all of them.
    pub rendered: Arc<events::Rendered>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl AppState {
    /// Wires the state over the ports and a loaded index.
    pub fn new(
        config: Arc<Config>,
        registry: Arc<Registry>,
        ports: &Ports,
        index: Arc<Index>,
        flow: Arc<Flow>,
        notices: Notices,
        public_url: &str,
    ) -> Self {
        let leptos = LeptosOptions::builder()
            .output_name("tfpilot")
            .site_root(config.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .site_addr(config.bind)
            .build();
        let stores = ports.stores();
        let requests = Arc::new(RequestService::new(
            registry.clone(),
            index,
            ports,
            notices.clone(),
            flow.clone(),
        ));
        let users = ports.users();
        let tokens = Tokens::over(users.clone(), ports.requests.clone());
        let admin =
            crate::service::admin::Admin::new(users.clone(), tokens.clone(), ports.audit_log());
        let drafting = Arc::new(crate::service::assistant::Drafting::new(
            ports.assistant.clone(),
            ports.requests.clone(),
            registry.clone(),
            config.clone(),
            ports.projects.clone(),
        ));
        let ask = Arc::new(crate::service::ask::Ask::new(
            registry.clone(),
            requests.index().clone(),
            ports,
        ));
        let policies = crate::service::policies::Policies::new(
            ports.requests.clone(),
            ports.audit_log(),
            registry.clone(),
            config.policy.clone(),
            ports.clock.clone(),
        );
        let integrations = crate::service::integrations::Integrations::new(
            ports.requests.clone(),
            ports.keys.clone(),
            ports.ids.clone(),
            ports.clock.clone(),
            ports.audit_log(),
        )
        .with_credentials(ports.credentials.clone());
        let jobs = Arc::new(crate::service::jobs::Jobs::new(
            ports,
            policies.clone(),
            config.jobs,
            flow.clone(),
            registry.clone(),
            config.policy.clone(),
            notices.clone(),
        ));
        let projects = crate::service::projects::ProjectsService::new(
            crate::projects::seed::Served::new(
                crate::projects::store::ProjectStore::new(ports.requests.clone()),
                ports.projects.clone(),
                ports.clock.clone(),
            ),
            ports.git.clone(),
            users.clone(),
            ports.audit_log(),
            config.github.is_some(),
        );
        let services: SharedServices = Arc::new(UiServices::new(
            (
                drafting.clone(),
                ask.clone(),
                policies.clone(),
                jobs.clone(),
                integrations.clone(),
                projects.clone(),
            ),
            registry.clone(),
            config.clone(),
            (users.clone(), admin.clone()),
            requests.clone(),
            flow.clone(),
            ports,
        ));
        let limits = Arc::new(crate::auth::limits::LoginLimits::new(
            ports.requests.clone(),
            ports.clock.clone(),
            ports.ids.clone(),
        ));
        let devices =
            crate::auth::device::DeviceCookies::new(ports.requests.clone(), ports.ids.clone());
        let identities = crate::auth::identities::GithubIdentities::new(ports.requests.clone());
        let setup = crate::auth::setup::Setup::new(users.clone());
        let signin = crate::service::signin::SignIn::new(
            users.clone(),
            limits.clone(),
            devices.clone(),
            identities.clone(),
            setup.clone(),
            admin.clone(),
        );
        let slack = ports.slack.clone().map(|api| {
            Arc::new(crate::slack::SlackBot::new(
                api,
                crate::store::records::Records::new(ports.requests.clone()),
                requests.clone(),
                flow.clone(),
                users.clone(),
                (registry.clone(), drafting.clone()),
                config.clone(),
                public_url,
                ports,
                ask.clone(),
            ))
        });
        let drift = Arc::new(crate::service::drift::DriftService::new(
            ports,
            flow.clone(),
            requests.index().clone(),
        ));
        Self {
            rendered: Default::default(),
            shutdown: tokio_util::sync::CancellationToken::new(),
            credentials: ports.credentials.clone(),
            integrations,
            projects,
            jobs,
            policies,
            drift,
            drafting,
            ask,
            slack,
            leptos,
            admin,
            audit: ports.audit_log(),
            limits,
            devices,
            identities,
            setup,
            signin,
            users,
            tokens,
            config,
            registry,
            services,
            stores,
            requests,
            flow,
            clock: ports.clock.clone(),
            ids: ports.ids.clone(),
        }
    }
}

impl AppState {
    /// The state with `stop` as the server's stop signal.
    pub fn with_shutdown(mut self, stop: tokio_util::sync::CancellationToken) -> Self {
        self.shutdown = stop;
        self
    }
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound("no such API endpoint; see /api/v1/openapi.json".into())
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/modules", get(modules::list))
        .route("/assistant/draft", post(assistant::draft))
        .route("/assistant/ask", post(ask::ask))
        .route("/openapi.json", get(openapi::serve))
        .route("/requests", get(requests::list).post(requests::create))
        .route("/requests/{id}", get(requests::get).patch(requests::update))
        .route(
            "/requests/{id}/plan",
            get(requests::plan).post(requests::replan),
        )
        .route("/requests/{id}/log", get(requests::log))
        .route("/requests/{id}/confirm", post(requests::confirm))
        .route("/requests/{id}/adopt-drift", post(drift::adopt))
        .route("/requests/{id}/reject", post(reject::reject))
        .route("/requests/{id}/{action}", post(requests::act))
        .route(
            "/drift/{project}/{env}",
            get(drift::latest).post(drift::run),
        )
        .route("/webhooks/github", post(webhooks::github))
        .route("/slack/events", post(slack::events))
        .route("/slack/interactions", post(slack::interactions))
        .route("/session", get(session::current))
        .route("/audit", get(audit::list))
        .route("/events", get(events::stream))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{login}", axum::routing::patch(users::update))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/alerts/alertmanager", post(alerts::alertmanager))
        .route("/jobs", get(jobs::list))
        .route("/jobs/{id}", get(jobs::get))
        .route("/policies", get(policies::list).post(policies::create))
        // `test` is a reserved name: POST /policies/test is the dry run.
        .route(
            "/policies/{name}",
            get(policies::get)
                .put(policies::replace)
                .delete(policies::delete)
                .post(policies::test),
        )
        .route("/integrations", get(integrations::list))
        .route(
            "/integrations/{kind}/{name}",
            get(integrations::get)
                .put(integrations::put)
                .delete(integrations::delete),
        )
        .route("/integrations/{kind}/{name}/test", post(integrations::test))
        .route("/projects", get(projects::list).post(projects::create))
        .route("/projects/{key}", get(projects::get).patch(projects::patch))
        .fallback(api_not_found)
        .layer(axum::extract::DefaultBodyLimit::max(error::BODY_LIMIT));
    let context = {
        let services = state.services.clone();
        move || provide_context(services.clone())
    };
    let pkg = ServeDir::new(state.config.site_root.join("pkg")).precompressed_gzip();
    let leptos = state.leptos.clone();
    let sessions = session::layer(
        &state.config.sessions,
        crate::auth::sessions::StoreSessions::new(
            state.stores.requests.clone(),
            state.clock.clone(),
        ),
    );
    Router::new()
        .route("/healthz", get(health::healthz))
        // Pages link their icon; this answers browsers that ask the old way.
        .route(
            "/favicon.ico",
            get(|| async { axum::response::Redirect::permanent("/pkg/favicon.svg") }),
        )
        .route("/auth/login", post(login::login))
        .route("/auth/logout", post(session::logout))
        .route("/auth/setup", post(session::setup))
        .route("/auth/github", get(oauth::start))
        .route("/auth/github/callback", get(oauth::callback))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::serve))
        .route("/requests/{id}/act", post(forms::act))
        .route("/admin/users", post(forms::add_user))
        .route("/admin/users/{login}", post(forms::set_user))
        .route("/admin/tokens", post(forms::create_token))
        .route("/admin/tokens/{id}/revoke", post(forms::revoke_token))
        .route("/admin/policies", post(forms::save_policy))
        .route("/admin/policies/{name}/delete", post(forms::delete_policy))
        .route("/admin/integrations", post(integration_forms::save))
        .route(
            "/admin/integrations/{kind}/{name}/delete",
            post(integration_forms::delete),
        )
        .route(
            "/admin/integrations/{kind}/{name}/test",
            post(integration_forms::test),
        )
        .route("/admin/projects", post(project_forms::create))
        .route("/admin/projects/{key}", post(project_forms::settings))
        .route("/admin/projects/{key}/members", post(project_forms::member))
        .route(
            "/admin/projects/{key}/members/{login}/remove",
            post(project_forms::remove_member),
        )
        .nest("/api/v1", api)
        .route(
            "/sfn/{*fn_name}",
            post({
                let context = context.clone();
                let state = state.clone();
                move |req: axum::extract::Request| {
                    let context = context.clone();
                    let state = state.clone();
                    async move {
                        // Server functions run with the browser's cookie: same-origin only.
                        if !auth::origin_allowed(req.headers(), &state) {
                            return axum::response::IntoResponse::into_response(
                                ApiError::Forbidden {
                                    rule: "csrf".into(),
                                    message: "cross-site call refused".into(),
                                },
                            );
                        }
                        axum::response::IntoResponse::into_response(
                            handle_server_fns_with_context(context, req).await,
                        )
                    }
                }
            }),
        )
        .nest_service("/pkg", pkg)
        .leptos_routes_with_context(&state, generate_route_list(App), context, move || {
            shell(leptos.clone())
        })
        .fallback(file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(session::sign_in_first))
        .layer(sessions)
        .layer(axum::extract::DefaultBodyLimit::max(error::BODY_LIMIT))
        .layer(axum::middleware::from_fn(limit::bounded_body))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            trace::request_span,
        ))
        .with_state(state)
}
