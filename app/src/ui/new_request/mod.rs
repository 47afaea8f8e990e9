//! `/requests/new`: "Describe what you need" (the assistant proposes
//! project, environment, module and inputs, with its reasons), the
//! project → environment → module pickers from the registry (a
//! server-rendered GET form, preset by the proposal), then the guided chat
//! asking only what is still missing, with a form view and a live preview
//! of the block.

mod chat;
mod describe;

use crate::api::{AskAnswer, AssistantAsk, AssistantDraft, Described, Draft, NewOptions};
use crate::domain::assistant::Line;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_router::hooks::use_query_map;

pub use chat::Chat;

/// The pickers' choices, and the chosen module's schema.
#[server(prefix = "/sfn", endpoint = "new_options")]
pub async fn request_choices(module: String) -> Result<NewOptions, ServerFnError> {
    crate::services::services()?
        .new_options(module)
        .await
        .map_err(crate::services::refuse)
}

/// What the describe box's words are: the answer to a question about
/// platform state, or a proposal for a request.
#[server(prefix = "/sfn", endpoint = "describe", input = Json)]
pub async fn describe(ask: AssistantAsk) -> Result<Described, ServerFnError> {
    crate::services::services()?
        .describe(ask)
        .await
        .map_err(crate::services::refuse)
}

/// The exact block the draft would commit.
#[server(prefix = "/sfn", endpoint = "preview", input = Json)]
pub async fn preview(draft: Draft) -> Result<String, ServerFnError> {
    crate::services::services()?
        .preview(draft)
        .await
        .map_err(crate::services::refuse)
}

/// Files the draft with its transcript; returns the request id.
#[server(prefix = "/sfn", endpoint = "file", input = Json)]
pub async fn file_request(draft: Draft, transcript: Vec<Line>) -> Result<String, ServerFnError> {
    crate::services::services()?
        .file(draft, transcript)
        .await
        .map_err(crate::services::refuse)
}

/// The current inputs of a request, to change them (`?from=<id>`).
#[server(prefix = "/sfn", endpoint = "draft_of")]
pub async fn draft_of(id: String) -> Result<Draft, ServerFnError> {
    use crate::services::{Refusal, refuse, services};
    let services = services()?;
    let id = Refusal::request_id(&id).map_err(refuse)?;
    services.draft_of(id).await.map_err(refuse)
}

/// Files a new revision of a request with the changed answers.
#[server(prefix = "/sfn", endpoint = "update", input = Json)]
pub async fn update_request(draft: Draft, transcript: Vec<Line>) -> Result<String, ServerFnError> {
    crate::services::services()?
        .update(draft, transcript)
        .await
        .map_err(crate::services::refuse)
}

/// What the page shows below the box.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Shown {
    /// The answer to a question.
    Answer(AskAnswer),
    /// The pickers and the chat, with the proposal for the words, if any.
    Steps(Box<(NewOptions, Option<Result<AssistantDraft, String>>)>),
}

/// `/requests/new`.
#[component]
pub fn NewRequestPage() -> impl IntoView {
    let query = use_query_map();
    let pick = |k: &str| query.read_untracked().get(k).unwrap_or_default();
    let (project, environment, module) = (pick("project"), pick("environment"), pick("module"));
    let from = pick("from");
    if !from.is_empty() {
        return view! { <ChangeRequest id=from/> }.into_any();
    }
    let text = pick("describe");
    let described = text.clone();
    let ask = AssistantAsk {
        text: text.clone(),
        project: Some(project.clone()).filter(|s| !s.is_empty()),
        environment: Some(environment.clone()).filter(|s| !s.is_empty()),
        module: Some(module.clone()).filter(|s| !s.is_empty()),
    };
    // The words first (when there are any): a question gets its answer;
    // a proposal presets the pickers and the module whose schema is loaded.
    let options = Resource::new(
        move || ask.clone(),
        |ask| async move {
            let proposal = match ask.text.trim().is_empty() {
                true => None,
                false => match describe(ask.clone()).await {
                    Ok(Described::Answer(a)) => return Ok(Shown::Answer(a)),
                    Ok(Described::Draft(d)) => Some(Ok(d)),
                    Err(e) => Some(Err(super::error_text(&e))),
                },
            };
            let proposed = proposal.as_ref().and_then(|p| p.as_ref().ok());
            let module = ask
                .module
                .clone()
                .or_else(|| proposed.and_then(|p| p.module.clone()))
                .unwrap_or_default();
            let options = request_choices(module).await?;
            Ok::<_, ServerFnError>(Shown::Steps(Box::new((options, proposal))))
        },
    );
    view! {
        <section aria-labelledby="new-title" class="new-request">
            <h1 id="new-title">"New request"</h1>
            <describe::Describe text=text.clone()/>
            <Suspense fallback=|| view! { <p class="loading">"Loading the catalogue…"</p> }>
                {move || {
                    let (project, environment, module) = (project.clone(), environment.clone(), module.clone());
                    let described = described.clone();
                    Suspend::new(async move {
                        match options.await {
                            Ok(Shown::Answer(a)) => view! { <describe::Answer answer=Ok(a)/> }.into_any(),
                            Ok(Shown::Steps(steps)) => {
                                let (o, proposal) = *steps;
                                let proposed = proposal.as_ref().and_then(|p| p.as_ref().ok()).cloned();
                                let or = |given: String, p: Option<String>| if given.is_empty() { p.unwrap_or_default() } else { given };
                                let project = or(project, proposed.as_ref().and_then(|p| p.project.clone()));
                                let environment = or(environment, proposed.as_ref().and_then(|p| p.environment.clone()));
                                let module = or(module, proposed.as_ref().and_then(|p| p.module.clone()));
                                let seed = proposed.as_ref().filter(|p| p.module.as_deref() == Some(module.as_str())).map(|p| p.config.clone());
                                let describe = described.clone();
                                view! {
                                    {proposal.map(|p| view! { <describe::Proposal proposal=p describe=describe.clone()/> })}
                                    <Steps o project environment module seed describe/>
                                }.into_any()
                            }
                            Err(e) => view! { <p class="error" role="alert">{super::error_text(&e)}</p> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
    .into_any()
}

/// `/requests/new?from=<id>`: the same chat, resumed with the request's
/// answers; submitting files a new revision.
#[component]
fn ChangeRequest(id: String) -> impl IntoView {
    let data = Resource::new(
        move || id.clone(),
        |id| async move {
            let draft = draft_of(id).await?;
            let options = request_choices(draft.module.clone()).await?;
            Ok::<_, ServerFnError>((draft, options))
        },
    );
    view! {
        <section aria-labelledby="new-title" class="new-request">
            <Suspense fallback=|| view! { <p class="loading">"Loading the request…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok((d, o)) => match o.module {
                            Some(schema) => view! {
                                <h1 id="new-title">{format!("Change {} {}", schema.title, d.id)}</h1>
                                <p class="muted">{format!("{} · {}", d.project, d.environment)}</p>
                                <Chat id=d.id ticket=String::new() project=d.project environment=d.environment module=schema prefill=Some(d.config) seed=None described=String::new()/>
                            }.into_any(),
                            None => view! { <p class="error" role="alert">"This request's module is no longer in the catalogue."</p> }.into_any(),
                        },
                        Err(e) => view! { <p class="error" role="alert">{super::error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Steps(
    o: NewOptions,
    project: String,
    environment: String,
    module: String,
    seed: Option<crate::domain::config::Config>,
    describe: String,
) -> impl IntoView {
    let NewOptions {
        projects,
        modules,
        module: schema,
        id,
        ticket,
    } = o;
    let chosen = projects
        .iter()
        .find(|p| p.key == project)
        .or(projects.first())
        .cloned();
    let envs = chosen
        .as_ref()
        .map(|p| p.environments.clone())
        .unwrap_or_default();
    let env_ok = envs.contains(&environment);
    let project_key = chosen.as_ref().map(|p| p.key.clone()).unwrap_or_default();
    let ready = schema.filter(|_| env_ok);
    let submit_on_change =
        "this.form.requestSubmit ? this.form.requestSubmit() : this.form.submit()";
    let pickers = view! {
        <form method="get" action="/requests/new" class="pickers" aria-label="Where and what">
            {(!describe.is_empty()).then(|| view! { <input type="hidden" name="describe" value=describe.clone()/> })}
            <fieldset>
                <legend>"1. Project"</legend>
                {projects.iter().map(|p| {
                    let checked = p.key == project_key;
                    view! {
                        <label class="pill">
                            <input type="radio" name="project" value=p.key.clone() checked=checked onchange=submit_on_change/>
                            {p.title.clone()}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <fieldset>
                <legend>"2. Environment"</legend>
                {envs.iter().map(|e| {
                    let checked = *e == environment;
                    view! {
                        <label class="pill" data-env=e.clone()>
                            <input type="radio" name="environment" value=e.clone() checked=checked required onchange=submit_on_change/>
                            {e.clone()}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <fieldset>
                <legend>"3. Module"</legend>
                <div class="cards">
                    {modules.into_iter().map(|m| {
                        let checked = m.module_type == module;
                        view! {
                            <label class="card pick" data-module=m.module_type.clone()>
                                <input type="radio" name="module" value=m.module_type.clone() checked=checked required onchange=submit_on_change/>
                                <span class="category">{m.category}</span>
                                <span class="title">{m.title}</span>
                                <span class="description">{m.description}</span>
                            </label>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
            <button type="submit">"Continue"</button>
        </form>
    }
    .into_any();
    view! {
        {pickers}
        {match ready {
            Some(schema) => view! {
                <Chat id ticket project=project_key environment module=schema prefill=None seed described=describe/>
            }.into_any(),
            None => view! {
                <p class="muted">"Choose an environment and a module to start."</p>
            }.into_any(),
        }}
    }
}
