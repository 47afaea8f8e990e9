//! The rules adapter: the module whose type, keywords, title, category and
//! description the words point at most (`intake::pick`), and the inputs a
//! sentence names (`assistant::extract`). Deterministic and offline.

use super::{Ask, Assistant, AssistantError, Proposal};
use app::domain::assistant::{extract, intake};
use async_trait::async_trait;

/// Reads descriptions with the registry alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct RulesAssistant;

impl RulesAssistant {
    /// The proposal for `ask` (the rules cannot fail).
    pub fn read(&self, ask: &Ask<'_>) -> Proposal {
        let module = match ask.module {
            Some(m) => Some(m.clone()),
            None => intake::pick(ask.text, &[], ask.registry).module,
        };
        let inputs = module
            .as_ref()
            .and_then(|m| ask.registry.module(m))
            .map(|m| {
                extract(m, ask.text)
                    .into_iter()
                    .filter(|(name, _)| m.input(name).is_some_and(|i| !i.sensitive))
                    .collect()
            })
            .unwrap_or_default();
        Proposal {
            module: module.map(|m| m.to_string()),
            inputs,
        }
    }
}

#[async_trait]
impl Assistant for RulesAssistant {
    fn name(&self) -> &'static str {
        "rules"
    }

    async fn propose(&self, ask: &Ask<'_>) -> Result<Proposal, AssistantError> {
        Ok(self.read(ask))
    }
}
