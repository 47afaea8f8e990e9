//! The module catalogue as the UI shows it.

use crate::api::ModuleCard;
use leptos::prelude::*;

/// The module catalogue (one-line call into the services).
#[server(prefix = "/sfn", endpoint = "catalog")]
pub async fn catalog() -> Result<Vec<ModuleCard>, ServerFnError> {
    Ok(crate::services::services()?.catalog())
}
