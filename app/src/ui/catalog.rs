//! The module catalogue as the UI shows it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One module in the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleCard {
    /// Module type (`s3-bucket`).
    pub module_type: String,
    /// Title.
    pub title: String,
    /// One sentence.
    pub description: String,
    /// Grouping.
    pub category: String,
    /// Number of inputs.
    pub inputs: usize,
    /// Number of high-risk inputs.
    pub high_risk_inputs: usize,
}

/// The module catalogue (one-line call into the services).
#[server(prefix = "/sfn", endpoint = "catalog")]
pub async fn catalog() -> Result<Vec<ModuleCard>, ServerFnError> {
    Ok(crate::services::services()?.catalog())
}
