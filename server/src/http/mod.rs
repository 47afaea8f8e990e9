//! HTTP: the REST API, the Leptos pages and server functions, static assets.

pub mod error;
mod health;
mod modules;

use crate::config::Config;
use crate::service::UiServices;
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
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl AppState {
    /// Builds the state from a config and a loaded registry.
    pub fn new(config: Config, registry: Registry) -> Self {
        let leptos = LeptosOptions::builder()
            .output_name("tfpilot")
            .site_root(config.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .site_addr(config.bind)
            .build();
        let registry = Arc::new(registry);
        let services: SharedServices = Arc::new(UiServices::new(registry.clone()));
        Self {
            leptos,
            config: Arc::new(config),
            registry,
            services,
        }
    }
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound("no such API endpoint; see /api/v1/openapi.json".into())
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/modules", get(modules::list))
        .fallback(api_not_found);
    let context = {
        let services = state.services.clone();
        move || provide_context(services.clone())
    };
    let pkg = ServeDir::new(state.config.site_root.join("pkg")).precompressed_gzip();
    let leptos = state.leptos.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest("/api/v1", api)
        .route(
            "/sfn/{*fn_name}",
            post({
                let context = context.clone();
                move |req| handle_server_fns_with_context(context.clone(), req)
            }),
        )
        .nest_service("/pkg", pkg)
        .leptos_routes_with_context(&state, generate_route_list(App), context, move || {
            shell(leptos.clone())
        })
        .fallback(file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
}
