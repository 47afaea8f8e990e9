//! The landing page: what tfpilot offers, from the registry.

use super::catalog::catalog;
use crate::api::ModuleCard;
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

/// The cards; each starts a request for its module.
#[component]
fn ModuleGrid(list: Vec<ModuleCard>) -> impl IntoView {
    view! {
        <ul class="cards">
            {list.into_iter().map(|m| {
                let href = format!("/requests/new?module={}", m.module_type);
                view! {
                    <li class="card" data-module=m.module_type.clone()>
                        <a class="card-button" href=href>
                            <span class="category">{m.category}</span>
                            <span class="title">{m.title}</span>
                            <span class="description">{m.description}</span>
                            <span class="meta">
                                {format!("{} inputs", m.inputs)}
                                {(m.high_risk_inputs > 0).then(|| format!(" · {} high-risk", m.high_risk_inputs))}
                            </span>
                        </a>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
