//! `GET /api/v1/modules`: the registry as the UI sees it.

use super::AppState;
use app::domain::registry::Module;
use axum::Json;
use axum::extract::State;

/// Every module with its inputs, in type order.
#[utoipa::path(
    get,
    path = "/api/v1/modules",
    responses((status = 200, description = "The module registry", body = Vec<Object>))
)]
pub async fn list(State(state): State<AppState>) -> Json<Vec<Module>> {
    Json(state.registry.modules.values().cloned().collect())
}
