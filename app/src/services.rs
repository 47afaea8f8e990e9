//! The service interface server functions call (server builds only).
//!
//! `app` declares it, `server` implements it and provides it as Leptos
//! context; every server function is a one-line call into it.

use crate::ui::catalog::ModuleCard;
use leptos::prelude::{ServerFnError, use_context};
use std::sync::Arc;

/// What the UI needs from the server.
pub trait Services: Send + Sync + 'static {
    /// The module catalogue, grouped for display.
    fn catalog(&self) -> Vec<ModuleCard>;
}

/// The shared handle stored in Leptos context.
pub type SharedServices = Arc<dyn Services>;

/// The services from context, or an error the UI can show.
pub fn services() -> Result<SharedServices, ServerFnError> {
    use_context::<SharedServices>()
        .ok_or_else(|| ServerFnError::new("tfpilot services are not available"))
}
