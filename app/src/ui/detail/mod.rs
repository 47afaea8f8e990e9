//! `/requests/{id}`: everything about one request on one page — status,
//! inputs, the caller's actions (and why others are not allowed), the plan,
//! PR and run links, the rendered block, and the timeline from the audit
//! log. The page renders on the server; only the action bar is an island.

mod actions;
mod plan;

use super::timeline::TimelineEntry;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

pub use actions::ActionBar;
pub use plan::{PlanChange, PlanGroup, PlanView};

/// One input as the page shows it (sensitive values are `(sensitive)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigItem {
    /// Input name.
    pub name: String,
    /// The value as text.
    pub value: String,
}

/// A PR or run, with its link when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkItem {
    /// `PR #3`, `plan attempt 2`.
    pub label: String,
    /// Where it lives (GitHub), if anywhere a browser can go.
    pub url: Option<String>,
    /// `open`, `merged`, `completed: success`…
    pub state: String,
}

/// One action and whether the caller may take it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionItem {
    /// `approve`.
    pub action: String,
    /// `Approve`.
    pub label: String,
    /// Why not, when not allowed.
    pub reason: Option<String>,
    /// Not allowed for this user (a rule), rather than not now (the state).
    pub forbidden: bool,
    /// The question to confirm before a destructive action.
    pub confirm: Option<String>,
    /// For `confirm`: exactly the blocked run's changes the page shows, as
    /// `<action> <address>` (sent back, so a newer blocked list is never
    /// confirmed unseen).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
}

/// The rendered Terraform block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockView {
    /// `envs/dev/tfpilot.s3.tf`.
    pub path: String,
    /// The block between (and with) its markers.
    pub text: String,
}

/// A request as its page shows it to one caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    /// Id.
    pub id: String,
    /// `S3 bucket logs-archive`.
    pub title: String,
    /// Derived status.
    pub status: String,
    /// The failing step, when failed.
    pub failed_step: Option<String>,
    /// Who filed it.
    pub requester: String,
    /// Project key.
    pub project: String,
    /// Environment.
    pub environment: String,
    /// Module title.
    pub module: String,
    /// Revision (updates add one).
    pub revision: u32,
    /// Filed at.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// Inputs, redacted.
    pub config: Vec<ConfigItem>,
    /// Approval, in words.
    pub approval: Option<String>,
    /// What qualifies the status (stale plan, blocked run, missing approval).
    pub note: Option<String>,
    /// A blocked run's changes outside its scope, one line each.
    pub blocked: Vec<String>,
    /// PRs and runs, newest last.
    pub links: Vec<LinkItem>,
    /// The caller's actions.
    pub actions: Vec<ActionItem>,
    /// The block, rendered with redacted inputs.
    pub block: Option<BlockView>,
    /// The plan of the newest attempt.
    pub plan: Option<PlanView>,
    /// Why there is no plan to show.
    pub plan_note: Option<String>,
    /// The server's last change number when this was read (see
    /// `Listing::since`).
    pub since: u64,
    /// The newest records of the request's audit log, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// How many older records the audit log holds beyond `timeline`.
    #[serde(default)]
    pub older: usize,
}

/// A request's page data (signed-in users).
#[server(prefix = "/sfn", endpoint = "request")]
pub async fn request_detail(id: String) -> Result<Detail, ServerFnError> {
    crate::services::services()?
        .detail(id)
        .await
        .map_err(crate::services::refuse)
}

/// Takes an action on a request as the signed-in user.
#[server(prefix = "/sfn", endpoint = "act", input = leptos::server_fn::codec::Json)]
pub async fn act(id: String, action: String, addresses: Vec<String>) -> Result<(), ServerFnError> {
    crate::services::services()?
        .act(id, action, addresses)
        .await
        .map_err(crate::services::refuse)
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
    let data = Resource::new(move || id.clone(), request_detail);
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
        revision,
        created_at,
        updated_at,
        config,
        approval,
        note,
        blocked,
        links,
        actions,
        block,
        plan,
        plan_note,
        since,
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
        </div>
        <dl class="facts">
            <div><dt>"Project"</dt><dd>{project}</dd></div>
            <div><dt>"Environment"</dt><dd data-testid="environment">{environment}</dd></div>
            <div><dt>"Module"</dt><dd>{module}</dd></div>
            <div><dt>"Requester"</dt><dd>{requester}</dd></div>
            <div><dt>"Revision"</dt><dd data-testid="revision">{revision}</dd></div>
            <div><dt>"Filed"</dt><dd><time datetime=created_at.clone()>{super::dashboard::short_time(&created_at)}</time></dd></div>
            <div><dt>"Updated"</dt><dd><time datetime=updated_at.clone()>{super::dashboard::short_time(&updated_at)}</time></dd></div>
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
                        let last = until.as_deref().map(super::dashboard::short_time).unwrap_or_default();
                        view! { <span class="repeat" data-testid="repeat">{format!(" ×{count}, last at {last}")}</span> }
                    });
                    view! {
                        <li data-action=kind data-count=count>
                            <time datetime=when>{super::dashboard::short_time(&at)}</time>
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
            <div class="columns">{plan}{inputs}</div>
            {block}
            {timeline}
        </article>
    }
}
