//! The landing page: what tfpilot offers, from the registry.

use super::catalog::{ModuleCard, catalog};
use leptos::prelude::*;

/// `/`: the module catalogue.
#[component]
pub fn HomePage() -> impl IntoView {
    let modules = Resource::new(|| (), |_| catalog());
    view! {
        <section class="hero">
            <h1>"Self-service Terraform"</h1>
            <p>
                "Pick a module, answer a few questions, and tfpilot opens a reviewed, "
                "planned pull request in your infra repo."
            </p>
        </section>
        <section aria-labelledby="catalogue-title">
            <h2 id="catalogue-title">"Module catalogue"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading modules…"</p> }>
                {move || Suspend::new(async move {
                    match modules.await {
                        Ok(list) => view! { <ModuleGrid list/> }.into_any(),
                        Err(e) => view! {
                            <p class="error" role="alert">{format!("Could not load the catalogue: {e}")}</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The cards; selecting one says what it asks for (an island).
#[island]
fn ModuleGrid(list: Vec<ModuleCard>) -> impl IntoView {
    let selected = RwSignal::new(None::<String>);
    view! {
        <ul class="cards" data-ready=super::ready()>
            {list.into_iter().map(|m| {
                let ty = m.module_type.clone();
                let is_selected = {
                    let ty = ty.clone();
                    move || selected.get().as_deref() == Some(ty.as_str())
                };
                view! {
                    <li class="card" data-module=m.module_type.clone()>
                        <button
                            type="button"
                            class="card-button"
                            aria-pressed=move || is_selected().to_string()
                            on:click=move |_| selected.set(Some(ty.clone()))
                        >
                            <span class="category">{m.category}</span>
                            <span class="title">{m.title}</span>
                            <span class="description">{m.description}</span>
                            <span class="meta">
                                {format!("{} inputs", m.inputs)}
                                {(m.high_risk_inputs > 0).then(|| format!(" · {} high-risk", m.high_risk_inputs))}
                            </span>
                        </button>
                    </li>
                }
            }).collect_view()}
        </ul>
        <p class="selection" data-testid="selection">
            {move || match selected.get() {
                Some(m) => format!("Selected: {m}"),
                None => "Select a module to see what it asks for.".to_owned(),
            }}
        </p>
    }
}
