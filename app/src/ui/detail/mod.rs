//! `/requests/{id}`: everything about one request on one page — status,
//! inputs, the caller's actions (and why others are not allowed), the
//! change in plain words above the plan,
//! PR and run links, the rendered block, the drift (with Revert and
//! Adopt) and the timeline from the audit log. The page renders on the server; only the action bar is an island.

mod actions;
mod drift;
mod plan;

use crate::api::{Detail, TimelineEntry, short_time};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

pub use actions::ActionBar;

/// A request's page data (signed-in users).
#[server(prefix = "/sfn", endpoint = "request")]
pub async fn request_detail(id: String) -> Result<Detail, ServerFnError> {
    use crate::services::{Refusal, refuse, services};
    let services = services()?;
    let id = Refusal::request_id(&id).map_err(refuse)?;
    services.detail(id).await.map_err(refuse)
}

/// Takes an action on a request as the signed-in user.
#[server(prefix = "/sfn", endpoint = "act", input = leptos::server_fn::codec::Json)]
pub async fn act(id: String, action: String, addresses: Vec<String>) -> Result<(), ServerFnError> {
    use crate::services::{Refusal, refuse, services};
    let services = services()?;
    let id = Refusal::posted_request_id(&id).map_err(refuse)?;
    let action = Refusal::posted_action(&action).map_err(refuse)?;
    services.act(id, action, addresses).await.map_err(refuse)
}

/// `/requests/{id}`.
#[component]
pub fn RequestPage() -> impl IntoView {
    let params = use_params_map();
    let id = params.read_untracked().get("id").unwrap_or_default();
    // A refusal of a form posted without JavaScript comes back in the URL.
    let error = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("error");
    // Blocking: the answer's status waits for it (404 when the request does
    // not exist or its project is hidden from the caller).
    let data = Resource::new_blocking(move || id.clone(), request_detail);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the request…"</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <Loaded d error/> }.into_any(),
                    Err(e) => view! {
                        <p class="error" role="alert">{super::error_text(&e)}</p>
                        <p><a href="/requests">"Back to the requests"</a></p>
                    }.into_any(),
                }
            })}}
        </Suspense>
    }
}

#[component]
fn Loaded(d: Detail, error: Option<String>) -> impl IntoView {
    let Detail {
        id,
        title,
        status,
        failed_step,
        requester,
        project,
        environment,
        module,
        adopts,
        revision,
        created_at,
        updated_at,
        config,
        approval,
        note,
        blocked,
        checks,
        links,
        actions,
        block,
        explanation,
        plan,
        plan_note,
        since,
        drift,
        timeline,
        older,
    } = d;
    let status_text = match &failed_step {
        Some(step) => format!("failed at {step}"),
        None => super::dashboard::status_label(&status),
    };
    let head = view! {
        <p class="crumbs"><a href="/requests">"Requests"</a>" / "<code>{id.clone()}</code></p>
        <div class="page-head">
            <h1 id="request-title">{title}</h1>
            <span class="badge big" data-status=status.clone() data-testid="status">{status_text}</span>
            {adopts.then(|| view! { <span class="badge big adopt" data-testid="adopts">"adopts an existing resource"</span> })}
            {drift.is_some().then(|| view! {
                <span class="badge big drifted" data-testid="drifted" title="The newest drift run found its resources different from its config">"drifted"</span>
            })}
        </div>
        <dl class="facts">
            <div><dt>"Project"</dt><dd>{project}</dd></div>
            <div><dt>"Environment"</dt><dd data-testid="environment">{environment}</dd></div>
            <div><dt>"Module"</dt><dd>{module}</dd></div>
            <div><dt>"Requester"</dt><dd>{requester}</dd></div>
            <div><dt>"Revision"</dt><dd data-testid="revision">{revision}</dd></div>
            <div><dt>"Filed"</dt><dd><time datetime=created_at.clone()>{short_time(&created_at)}</time></dd></div>
            <div><dt>"Updated"</dt><dd><time datetime=updated_at.clone()>{short_time(&updated_at)}</time></dd></div>
        </dl>
        {approval.map(|a| view! { <p class="notice" data-testid="approval">{a}</p> })}
        {note.map(|n| view! { <p class="notice warn" data-testid="status-note">{n}</p> })}
        {(!blocked.is_empty()).then(|| view! {
            <section class="panel wide" aria-labelledby="blocked-title" data-testid="blocked">
                <h2 id="blocked-title">"Blocked before anything was applied"</h2>
                <p>"The saved plan on the tip of main changes resources outside what was approved. Fix the cause and retry, or an approver may confirm exactly these changes:"</p>
                <ul>{blocked.into_iter().map(|b| view! { <li><code>{b}</code></li> }).collect_view()}</ul>
            </section>
        })}
    }
    .into_any();
    let plan = view! {
        <section aria-labelledby="plan-title" class="panel wide">
            <h2 id="plan-title">"Plan"</h2>
            {plan_note.map(|n| view! { <p class="muted" data-testid="plan-note">{n}</p> })}
            {plan.map(|p| view! { <plan::Plan p/> })}
            {(!checks.is_empty()).then(|| view! { <plan::Checks checks/> })}
        </section>
    }
    .into_any();
    let inputs = view! {
        <section aria-labelledby="inputs-title" class="panel">
            <h2 id="inputs-title">"Inputs"</h2>
            <dl class="config">
                {config.into_iter().map(|c| view! {
                    <div><dt>{c.name}</dt><dd><code>{c.value}</code></dd></div>
                }).collect_view()}
            </dl>
            <h2>"Pull requests and runs"</h2>
            <ul class="links" data-testid="links">
                {links.into_iter().map(|l| view! {
                    <li>
                        {match l.url {
                            Some(url) => view! { <a href=url rel="noopener" target="_blank">{l.label}</a> }.into_any(),
                            None => view! { <span>{l.label}</span> }.into_any(),
                        }}
                        " — "<span class="muted">{l.state}</span>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any();
    let block = block.map(|b| {
        view! {
            <section aria-labelledby="block-title" class="panel">
                <h2 id="block-title">"Terraform block"</h2>
                <p class="muted"><code>{b.path}</code></p>
                <pre class="code" data-testid="block">{b.text}</pre>
            </section>
        }
        .into_any()
    });
    let timeline = view! {
        <section aria-labelledby="timeline-title">
            <h2 id="timeline-title">"Timeline"</h2>
            {(older > 0).then(|| view! {
                <p class="muted" data-testid="timeline-older">
                    {format!("{older} older entries are in the audit log (")}
                    <code>{format!("GET /api/v1/audit?request={id}")}</code>")."
                </p>
            })}
            <ol class="timeline" data-testid="timeline">
                {timeline.into_iter().map(|e| {
                    let TimelineEntry { at, actor, action, detail, count, until } = e;
                    let (kind, when) = (action.clone(), at.clone());
                    let repeated = (count > 1).then(|| {
                        let last = until.as_deref().map(short_time).unwrap_or_default();
                        view! { <span class="repeat" data-testid="repeat">{format!(" ×{count}, last at {last}")}</span> }
                    });
                    view! {
                        <li data-action=kind data-count=count>
                            <time datetime=when>{short_time(&at)}</time>
                            " · "<strong>{actor}</strong>
                            " · "<span class="action">{action}</span>
                            " — "{detail}
                            {repeated}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
    .into_any();
    view! {
        <article class="detail" aria-labelledby="request-title" data-id=id.clone() data-status=status.clone()>
            {head}
            <ActionBar id=id.clone() status=status.clone() since actions error/>
            {explanation.map(|e| view! { <p class="explanation" data-testid="explanation">{e}</p> })}
            {drift.map(|d| view! { <drift::DriftSection id=id.clone() d/> })}
            <div class="columns">{plan}{inputs}</div>
            {block}
            {timeline}
        </article>
    }
}
