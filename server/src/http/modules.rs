//! `GET /api/v1/modules`: the registry as the UI sees it.

use super::AppState;
use app::domain::registry::Module;
use axum::Json;
use axum::extract::State;

/// Every module with its inputs, in type order.
pub async fn list(State(state): State<AppState>) -> Json<Vec<Module>> {
    Json(state.registry.modules.values().cloned().collect())
}
