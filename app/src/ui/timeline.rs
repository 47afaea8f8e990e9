//! `/requests/{id}`: the request's status and its timeline, read from the
//! append-only audit log (every change, every refusal, who and when).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

/// One audit record as the timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What (`request.approve`, `auth.denied`…).
    pub action: String,
    /// Details.
    pub detail: String,
}

/// A request's heading and timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// Request id.
    pub id: String,
    /// `S3 bucket in dev (sandbox)`.
    pub title: String,
    /// Derived status.
    pub status: String,
    /// Oldest first.
    pub entries: Vec<TimelineEntry>,
}

/// The timeline of a request (signed-in users).
#[server(prefix = "/sfn", endpoint = "timeline")]
pub async fn request_timeline(id: String) -> Result<Timeline, ServerFnError> {
    crate::services::services()?
        .timeline(id)
        .await
        .map_err(ServerFnError::new)
}

/// `/requests/{id}`.
#[component]
pub fn RequestPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        request_timeline,
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the request…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(t) => view! {
                        <section aria-labelledby="request-title">
                            <h1 id="request-title">{t.title.clone()}</h1>
                            <p>
                                <code>{t.id.clone()}</code>
                                " "
                                <span class="badge" data-status=t.status.clone()>{t.status.clone()}</span>
                            </p>
                            <h2>"Timeline"</h2>
                            <ol class="timeline" data-testid="timeline">
                                {t.entries.into_iter().map(|e| {
                                    let TimelineEntry { at, actor, action, detail } = e;
                                    let (kind, when) = (action.clone(), at.clone());
                                    view! {
                                        <li data-action=kind>
                                            <time datetime=when>{at}</time>
                                            " · "<strong>{actor}</strong>
                                            " · "<span class="action">{action}</span>
                                            " — "{detail}
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                        </section>
                    }.into_any(),
                    Err(e) => view! {
                        <p class="error" role="alert">{match e {
                            ServerFnError::ServerError(m) => m,
                            other => other.to_string(),
                        }}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
