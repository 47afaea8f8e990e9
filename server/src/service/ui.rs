//! The implementation of `app::services::Services` the UI calls into.

use app::domain::registry::{Registry, Risk};
use app::services::Services;
use app::ui::catalog::ModuleCard;
use std::sync::Arc;

/// Serves the UI from the registry (and, later, the stores).
pub struct UiServices {
    registry: Arc<Registry>,
}

impl UiServices {
    /// Over a loaded registry.
    pub fn new(registry: Arc<Registry>) -> Self {
        Self { registry }
    }
}

impl Services for UiServices {
    fn catalog(&self) -> Vec<ModuleCard> {
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
}
