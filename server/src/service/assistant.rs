//! "Describe what you need": a description in, a proposed project,
//! environment, module and checked inputs out. The model (when one is
//! configured) is asked through the prompt cache; an unknown module, an
//! answer that is not JSON or no answer in time falls back to the rules,
//! and the explanation says "(offline suggestion)". Every proposed value is
//! checked by `settle`, the same check as a typed answer.

use crate::assistant::cache::{KeyParts, PromptCache, key, registry_hash};
use crate::assistant::rules::RulesAssistant;
use crate::assistant::{Ask, Assistant, AssistantError, Proposal};
use crate::config::Config;
use crate::store::ObjectStore;
use app::api::assistant::{AssistantAsk, AssistantDraft, MAX_TEXT, Offer, Source};
use app::domain::assistant::intake::{self, Place, closest, matched_words};
use app::domain::assistant::{settle, show};
use app::domain::ids::{EnvName, ModuleType, ProjectKey};
use app::domain::policy::{Actor, Decision, Operation, decide_operation};
use app::domain::registry::{Module, Registry};
use std::sync::Arc;

/// Why there is no draft.
#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    /// The caller may not file requests.
    #[error("{reason}")]
    Forbidden {
        /// The rule.
        rule: String,
        /// In words.
        reason: String,
    },
    /// A field breaks a rule.
    #[error("{field} {message}")]
    Invalid {
        /// `text`, `project`, `environment` or `module`.
        field: &'static str,
        /// The rule.
        message: String,
    },
    /// The description is longer than the assistant reads.
    #[error("text is {0} characters; the assistant reads at most {MAX_TEXT}")]
    TooLong(usize),
}

/// Drafts requests from descriptions.
pub struct Drafting {
    assistant: Arc<dyn Assistant>,
    rules: RulesAssistant,
    cache: Option<PromptCache>,
    registry: Arc<Registry>,
    registry_hash: String,
    projects: Arc<crate::projects::Projects>,
}

/// A proposal and where it came from.
struct Sourced {
    proposal: Proposal,
    source: Source,
    offline: bool,
}

impl Drafting {
    /// Drafting with `assistant`, its answers cached in `store` when it is
    /// a model.
    pub fn new(
        assistant: Arc<dyn Assistant>,
        store: Arc<dyn ObjectStore>,
        registry: Arc<Registry>,
        config: Arc<Config>,
        projects: Arc<crate::projects::Projects>,
    ) -> Self {
        // A model may be configured later (a stored integration): the
        // cache is there for it.
        let max = config.model.as_ref().map_or(10_000, |m| m.cache_max);
        let cache = Some(PromptCache::new(store, max));
        Self {
            registry_hash: registry_hash(&registry),
            assistant,
            rules: RulesAssistant,
            cache,
            registry,
            projects,
        }
    }

    /// The projects `actor` sees, as the places a description may name.
    fn places(&self, actor: &Actor) -> Vec<Place> {
        self.projects
            .visible_to(actor)
            .iter()
            .map(|p| Place {
                project: p.key.clone(),
                environments: p.environments.clone(),
            })
            .collect()
    }

    /// The proposal for `ask`, as `actor` (who must be allowed to file).
    pub async fn draft(
        &self,
        actor: &Actor,
        ask: &AssistantAsk,
    ) -> Result<AssistantDraft, DraftError> {
        if let Decision::Forbidden { rule, reason } = decide_operation(Operation::File, actor)
            && self.projects.fileable_by(actor).is_empty()
        {
            return Err(DraftError::Forbidden { rule, reason });
        }
        self.suggest(actor, ask).await
    }

    /// The proposal for `ask`, for a caller whose right to file is checked
    /// when it files (a Slack thread): only the projects `actor` sees are
    /// named or picked.
    pub async fn suggest(
        &self,
        actor: &Actor,
        ask: &AssistantAsk,
    ) -> Result<AssistantDraft, DraftError> {
        let text = ask.text.trim();
        if text.is_empty() {
            return Err(DraftError::Invalid {
                field: "text",
                message: "must not be empty: describe what you need in a sentence".into(),
            });
        }
        let chars = ask.text.chars().count();
        if chars > MAX_TEXT {
            return Err(DraftError::TooLong(chars));
        }
        let places = self.places(actor);
        let (project, environment, chosen) = self.hints(ask, &places)?;
        let picked = intake::pick(text, &places, &self.registry);
        let project = project.or(picked.project);
        let environment = environment.or_else(|| {
            picked.environment.filter(|e| {
                places
                    .iter()
                    .find(|p| Some(&p.project) == project.as_ref())
                    .is_none_or(|p| p.environments.contains(e))
            })
        });
        let ask_now = Ask {
            text,
            module: chosen.as_ref(),
            registry: &self.registry,
        };
        let sourced = self
            .propose(&ask_now, project.as_ref(), environment.as_ref())
            .await;
        let module = chosen.or_else(|| {
            sourced
                .proposal
                .module
                .as_deref()
                .and_then(|m| ModuleType::parse(m).ok())
        });
        let module = module.and_then(|m| self.registry.module(&m));
        Ok(self.answer(text, project, environment, module, sourced))
    }

    /// The project, environment and module the caller chose, each checked.
    #[allow(clippy::type_complexity)]
    fn hints(
        &self,
        ask: &AssistantAsk,
        places: &[Place],
    ) -> Result<(Option<ProjectKey>, Option<EnvName>, Option<ModuleType>), DraftError> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let project = match given(&ask.project) {
            None => None,
            Some(p) => {
                let key = ProjectKey::parse(&p)
                    .ok()
                    .filter(|k| places.iter().any(|p| &p.project == k));
                Some(key.ok_or_else(|| DraftError::Invalid {
                    field: "project",
                    message: format!("`{p}` is not a project of this tfpilot"),
                })?)
            }
        };
        let environment = match given(&ask.environment) {
            None => None,
            Some(e) => {
                let envs: Vec<&EnvName> = places
                    .iter()
                    .filter(|p| project.as_ref().is_none_or(|k| &p.project == k))
                    .flat_map(|p| p.environments.iter())
                    .collect();
                let env = EnvName::parse(&e).ok().filter(|n| envs.contains(&n));
                Some(env.ok_or_else(|| DraftError::Invalid {
                    field: "environment",
                    message: format!(
                            "`{e}` is not an environment of {}",
                            project
                                .as_ref()
                                .map_or("any project".to_owned(), |p| format!("project `{p}`"))
                        ),
                })?)
            }
        };
        let module = match given(&ask.module) {
            None => None,
            Some(m) => {
                let ty = ModuleType::parse(&m)
                    .ok()
                    .filter(|t| self.registry.module(t).is_some());
                Some(ty.ok_or_else(|| DraftError::Invalid {
                    field: "module",
                    message: format!("`{m}` is not a module of the catalogue"),
                })?)
            }
        };
        Ok((project, environment, module))
    }

    /// The cache, then the model, then the rules.
    async fn propose(
        &self,
        ask: &Ask<'_>,
        project: Option<&ProjectKey>,
        env: Option<&EnvName>,
    ) -> Sourced {
        let rules = |offline| Sourced {
            proposal: self.rules.read(ask),
            source: Source::Rules,
            offline,
        };
        let Some(model) = self.assistant.model() else {
            return rules(false);
        };
        let key = key(KeyParts {
            text: ask.text,
            registry: &self.registry_hash,
            model: &model,
            project: project.map(ProjectKey::as_str),
            environment: env.map(EnvName::as_str),
            module: ask.module.map(ModuleType::as_str),
        });
        let cache = self.cache.as_ref();
        if let Some(cache) = cache
            && let Some(proposal) = cache.get(&key).await
        {
            return Sourced {
                proposal,
                source: Source::Cache,
                offline: false,
            };
        }
        match self.assistant.propose(ask).await {
            Ok(p) if self.known(&p) || ask.module.is_some() => {
                if let Some(cache) = cache {
                    cache.put(&key, &model, &p).await;
                }
                Sourced {
                    proposal: p,
                    source: Source::Model,
                    offline: false,
                }
            }
            Ok(p) => {
                tracing::info!(module = ?p.module, "the model named no module of the catalogue; using the rules");
                rules(false)
            }
            Err(e) => {
                match &e {
                    AssistantError::Timeout(_) => tracing::warn!("{e}; using the rules"),
                    _ => tracing::warn!(error = %e, "the model failed; using the rules"),
                }
                rules(true)
            }
        }
    }

    fn known(&self, p: &Proposal) -> bool {
        p.module
            .as_deref()
            .and_then(|m| ModuleType::parse(m).ok())
            .is_some_and(|m| self.registry.module(&m).is_some())
    }

    fn answer(
        &self,
        text: &str,
        project: Option<ProjectKey>,
        environment: Option<EnvName>,
        module: Option<&Module>,
        sourced: Sourced,
    ) -> AssistantDraft {
        let offline = if sourced.offline {
            " (offline suggestion)"
        } else {
            ""
        };
        let (config, missing, questions, dropped, explanation, offers) = match module {
            Some(m) => {
                let s = settle(m, &sourced.proposal.inputs);
                let mut reasons: Vec<String> = match sourced.source {
                    Source::Rules => matched_words(text, m)
                        .into_iter()
                        .take(3)
                        .map(|w| format!("{w} → {}", m.title))
                        .collect(),
                    Source::Model => vec![format!("the model chose {}", m.title)],
                    Source::Cache => vec![format!("the model chose {} (cached answer)", m.title)],
                };
                if reasons.is_empty() {
                    reasons.push(format!("{} (chosen)", m.title));
                }
                let values: Vec<String> = m
                    .inputs
                    .iter()
                    .filter_map(|i| {
                        s.config
                            .get(&i.name)
                            .map(|v| format!("{} = {}", i.name, show(i, v)))
                    })
                    .collect();
                let mut explanation = format!("matched: {}", reasons.join(", "));
                if !values.is_empty() {
                    explanation.push_str(&format!("; {}", values.join(", ")));
                }
                for d in &s.dropped {
                    explanation.push_str(&format!("; dropped {} ({})", d.field, d.message));
                }
                explanation.push_str(offline);
                (
                    s.config,
                    s.missing,
                    s.questions,
                    s.dropped,
                    explanation,
                    Vec::new(),
                )
            }
            None => {
                let near: Vec<&Module> = closest(text, &self.registry, 3);
                let titles: Vec<String> = near
                    .iter()
                    .map(|m| format!("{} ({})", m.title, m.module_type))
                    .collect();
                let explanation = format!(
                    "Nothing in the catalogue matches that description. The closest: {}. Pick one, or say it differently{offline}.",
                    titles.join(", ")
                );
                let offers = near
                    .iter()
                    .map(|m| Offer {
                        module: m.module_type.to_string(),
                        title: m.title.clone(),
                        description: m.description.clone(),
                    })
                    .collect();
                (
                    Default::default(),
                    Vec::new(),
                    Vec::new(),
                    Vec::new(),
                    explanation,
                    offers,
                )
            }
        };
        AssistantDraft {
            project: project.map(|p| p.to_string()),
            environment: environment.map(|e| e.to_string()),
            module: module.map(|m| m.module_type.to_string()),
            title: module.map(|m| m.title.clone()),
            config,
            missing,
            questions,
            dropped,
            explanation,
            source: sourced.source,
            closest: offers,
        }
    }
}
