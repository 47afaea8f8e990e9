//! `/requests`: the requests dashboard.
//!
//! The page is a server-rendered GET form and table, so filters live in the
//! URL (shareable, the back button works) and everything works before the
//! wasm loads. The table is an island that listens to `/api/v1/events` and
//! patches only the rows that changed.

mod live;

use super::esc;
use crate::api::{Choice, Filters, Listing, Row, short_time};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use live::Live;

/// A page of requests (signed-in users).
#[server(prefix = "/sfn", endpoint = "dashboard")]
pub async fn dashboard(filters: Filters) -> Result<Listing, ServerFnError> {
    crate::services::services()?
        .dashboard(filters)
        .await
        .map_err(crate::services::refuse)
}

/// A status for people: `plan_ready` → `plan ready`.
pub fn status_label(status: &str) -> String {
    status.replace('_', " ")
}

fn filters_from_url() -> Filters {
    let query = use_query_map();
    let q = query.read_untracked();
    let get = |k: &str| q.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    Filters {
        status: get("status"),
        environment: get("environment"),
        module: get("module"),
        project: get("project"),
        q: get("q"),
        drift: get("drift"),
        cursor: get("cursor"),
    }
}

/// `/requests`.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let filters = filters_from_url();
    let page = Resource::new(
        {
            let f = filters.clone();
            move || f.clone()
        },
        dashboard,
    );
    view! {
        <section aria-labelledby="dashboard-title" class="dashboard">
            <div class="page-head">
                <h1 id="dashboard-title">"Requests"</h1>
                <a class="button" href="/requests/new">"New request"</a>
            </div>
            <Suspense fallback=|| view! { <p class="loading">"Loading requests…"</p> }>
                {move || {
                    let filters = filters.clone();
                    Suspend::new(async move {
                        match page.await {
                            Ok(p) => view! { <Loaded page=p filters/> }.into_any(),
                            Err(e) => view! {
                                <p class="error" role="alert">{super::error_text(&e)}</p>
                                <p><a href="/requests">"Show all requests"</a></p>
                            }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn Loaded(page: Listing, filters: Filters) -> impl IntoView {
    let Listing {
        rows,
        next_cursor,
        since,
        counts,
        projects,
        environments,
        modules,
    } = page;
    let statuses: Vec<Choice> = counts
        .iter()
        .map(|(s, _)| Choice {
            value: s.clone(),
            label: status_label(s),
        })
        .collect();
    let first_page = filters.cursor.is_empty();
    let next = next_cursor.map(|c| filters.href_with("cursor", &c));
    let first = (!first_page).then(|| filters.href_with("cursor", ""));
    let active = filters.active();
    let active_note = (active > 0).then(|| format!(" · {active} active"));
    view! {
        // Folded under "Filters" on narrow screens (a plain `<details>`, so
        // it works before the wasm loads); always open on wide ones (CSS).
        <details class="filter-box">
            <summary>"Filters"{active_note}</summary>
            <form method="get" action="/requests" class="filters" role="search" aria-label="Filter requests">
                <Select name="status" label="Status" choices=statuses selected=filters.status.clone()/>
                <Select name="environment" label="Environment" choices=environments selected=filters.environment.clone()/>
                <Select name="module" label="Module" choices=modules selected=filters.module.clone()/>
                <Select name="project" label="Project" choices=projects selected=filters.project.clone()/>
                <Select name="drift" label="Drift" choices=drift_choices() selected=filters.drift.clone()/>
                <label class="grow">
                    "Search"
                    <input type="search" name="q" value=filters.q.clone() placeholder="id, title or requester"/>
                </label>
                <button type="submit">"Filter"</button>
                <a href="/requests" class="reset">"Clear"</a>
            </form>
        </details>
        <LiveTable rows counts filters first_page since/>
        <nav class="pager" aria-label="Pages">
            {first.map(|href| view! { <a href=href>"← Newest"</a> })}
            {next.map(|href| view! { <a href=href rel="next" data-testid="next-page">"Older →"</a> })}
        </nav>
    }
}

#[component]
fn Select(
    name: &'static str,
    label: &'static str,
    choices: Vec<Choice>,
    selected: String,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <select name=name>
                <option value="" selected=selected.is_empty()>"Any"</option>
                {choices.into_iter().map(|c| {
                    let is = c.value == selected;
                    view! { <option value=c.value selected=is>{c.label}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

/// The drift filter's choices (`drift=yes`, `drift=no`).
fn drift_choices() -> Vec<Choice> {
    [("yes", "drifted"), ("no", "not drifted")]
        .map(|(value, label)| Choice {
            value: value.into(),
            label: label.into(),
        })
        .to_vec()
}

/// One table row as HTML: the server renders the page with it and the
/// browser inserts new rows with it, so both always agree. Cells carry
/// their column as a class and a label, so a narrow screen shows each row
/// as a card (CSS only).
pub fn row_html(r: &Row) -> String {
    let id = esc(&r.id);
    let status = esc(&r.status);
    format!(
        "<tr data-id=\"{id}\" data-status=\"{status}\">\
         <td class=\"id\"><a href=\"/requests/{id}\"><code>{id}</code></a></td>\
         <td class=\"title\"><a href=\"/requests/{id}\">{title}</a></td>\
         <td class=\"project\" data-label=\"Project\">{project}</td>\
         <td class=\"env\" data-label=\"Env\">{env}</td>\
         <td class=\"module\" data-label=\"Module\">{module}</td>\
         <td class=\"status\"><span class=\"badge\" data-status=\"{status}\">{label}</span>{drift}{note}</td>\
         <td class=\"requester\" data-label=\"By\">{requester}</td>\
         <td class=\"updated\"><time datetime=\"{at}\">{short}</time></td></tr>",
        title = esc(&r.title),
        project = esc(&r.project),
        env = esc(&r.environment),
        module = esc(&r.module),
        label = esc(&status_label(&r.status)),
        drift = if r.drifted {
            " <span class=\"badge drifted\" data-drift=\"yes\" title=\"The newest drift run found its resources different from its config\">drifted</span>"
        } else {
            ""
        },
        note = if r.note.is_empty() {
            String::new()
        } else {
            format!(" <small class=\"note\">{}</small>", esc(&r.note))
        },
        requester = esc(&r.requester),
        at = esc(&r.updated_at),
        short = esc(&short_time(&r.updated_at)),
    )
}

/// Counts and rows, rendered on the server.
#[component]
fn LiveTable(
    rows: Vec<Row>,
    counts: Vec<(String, usize)>,
    filters: Filters,
    first_page: bool,
    since: u64,
) -> impl IntoView {
    let body: String = rows.iter().map(row_html).collect();
    let empty = rows.is_empty();
    view! {
        <div class="live-table">
            <ul class="counts" aria-label="Requests per status">
                {counts.into_iter().map(|(status, n)| {
                    let current = filters.status == status;
                    let href = filters.href_with("status", if current { "" } else { &status });
                    let label = status_label(&status);
                    let key = status.clone();
                    view! {
                        <li>
                            <a href=href class="chip" data-status=status aria-current=current.then_some("true")>
                                <span class="label">{label}</span>
                                " "<strong data-testid="count" data-count-for=key>{n}</strong>
                            </a>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <Live filters first_page since/>
            <div class="table-wrap">
                <table class="table requests" data-testid="requests">
                    <thead>
                        <tr>
                            <th scope="col">"Id"</th>
                            <th scope="col">"Title"</th>
                            <th scope="col">"Project"</th>
                            <th scope="col">"Env"</th>
                            <th scope="col">"Module"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Requester"</th>
                            <th scope="col">"Updated"</th>
                        </tr>
                    </thead>
                    <tbody inner_html=body></tbody>
                </table>
                <p class="empty" hidden=!empty>"No requests match these filters."</p>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        Row {
            id: "01m8abc".into(),
            title: "S3 bucket <logs> & \"more\"".into(),
            project: "sandbox".into(),
            environment: "dev".into(),
            module: "s3-bucket".into(),
            status: "plan_ready".into(),
            requester: "Ana".into(),
            updated_at: "2026-11-22T05:50:01Z".into(),
            note: String::new(),
            etag: String::new(),
            drifted: false,
        }
    }

    #[test]
    fn rows_render_escaped_with_their_status() {
        let html = row_html(&row());
        assert!(html.starts_with("<tr data-id=\"01m8abc\" data-status=\"plan_ready\">"));
        assert!(html.contains("S3 bucket &lt;logs&gt; &amp; &quot;more&quot;"));
        assert!(html.contains(">plan ready</span>"));
        assert!(html.contains(">2026-11-22 05:50</time>"));
    }
}
