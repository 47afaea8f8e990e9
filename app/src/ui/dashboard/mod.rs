//! `/requests`: the requests dashboard.
//!
//! The page is a server-rendered GET form and table, so filters live in the
//! URL (shareable, the back button works) and everything works before the
//! wasm loads. The table is an island that listens to `/api/v1/events` and
//! patches only the rows that changed.

mod live;

use super::esc;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use live::Live;
use serde::{Deserialize, Serialize};

/// One row of the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// Request id.
    pub id: String,
    /// Module title and the request's name.
    pub title: String,
    /// Project key.
    pub project: String,
    /// Environment.
    pub environment: String,
    /// Module type.
    pub module: String,
    /// Derived status.
    pub status: String,
    /// Requester login.
    pub requester: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
    /// What qualifies the status (stale plan, blocked run).
    #[serde(default)]
    pub note: String,
}

/// The dashboard's filters, as in the URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    /// Status name.
    pub status: String,
    /// Environment.
    pub environment: String,
    /// Module type.
    pub module: String,
    /// Project key.
    pub project: String,
    /// Free text (id, title, requester).
    pub q: String,
    /// Continue after this id.
    pub cursor: String,
}

impl Filters {
    /// Whether a row belongs in the filtered list (the cursor aside).
    pub fn matches(&self, row: &Row) -> bool {
        let q = self.q.trim().to_ascii_lowercase();
        [
            (&self.status, &row.status),
            (&self.environment, &row.environment),
            (&self.module, &row.module),
            (&self.project, &row.project),
        ]
        .iter()
        .all(|(want, have)| want.is_empty() || want == have)
            && (q.is_empty()
                || row.id.contains(&q)
                || row.title.to_ascii_lowercase().contains(&q)
                || row.requester.to_ascii_lowercase().contains(&q))
    }

    /// How many filters are set (the cursor aside).
    pub fn active(&self) -> usize {
        [
            &self.status,
            &self.environment,
            &self.module,
            &self.project,
            &self.q,
        ]
        .iter()
        .filter(|v| !v.is_empty())
        .count()
    }

    /// The query string of these filters with one field replaced
    /// (`status`, `cursor`); empty values are left out.
    pub fn href_with(&self, field: &str, value: &str) -> String {
        let pairs = [
            ("status", &self.status),
            ("environment", &self.environment),
            ("module", &self.module),
            ("project", &self.project),
            ("q", &self.q),
            ("cursor", &self.cursor),
        ];
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| (*k, if *k == field { value } else { v.as_str() }))
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", super::url_encode(v)))
            .collect();
        if query.is_empty() {
            "/requests".to_owned()
        } else {
            format!("/requests?{}", query.join("&"))
        }
    }
}

/// A choice in a filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Value in the URL.
    pub value: String,
    /// Label.
    pub label: String,
}

/// One page of the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// Matching rows, newest first.
    pub rows: Vec<Row>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
    /// The number of the server's last change when this page was read: the
    /// live stream replays what came after it.
    pub since: u64,
    /// Requests per status, in lifecycle order.
    pub counts: Vec<(String, usize)>,
    /// Projects to filter by.
    pub projects: Vec<Choice>,
    /// Environments to filter by.
    pub environments: Vec<Choice>,
    /// Modules to filter by.
    pub modules: Vec<Choice>,
}

/// A page of requests (signed-in users).
#[server(prefix = "/sfn", endpoint = "dashboard")]
pub async fn dashboard(filters: Filters) -> Result<Listing, ServerFnError> {
    crate::services::services()?
        .dashboard(filters)
        .await
        .map_err(crate::services::refuse)
}

/// `2026-11-22T05:50:01Z` → `2026-11-22 05:50`.
pub fn short_time(at: &str) -> String {
    at.get(..16).unwrap_or(at).replacen('T', " ", 1)
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
         <td class=\"status\"><span class=\"badge\" data-status=\"{status}\">{label}</span>{note}</td>\
         <td class=\"requester\" data-label=\"By\">{requester}</td>\
         <td class=\"updated\"><time datetime=\"{at}\">{short}</time></td></tr>",
        title = esc(&r.title),
        project = esc(&r.project),
        env = esc(&r.environment),
        module = esc(&r.module),
        label = esc(&status_label(&r.status)),
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

    #[test]
    fn filters_match_rows_and_keep_the_url() {
        let f = Filters {
            environment: "dev".into(),
            q: "ANA".into(),
            ..Default::default()
        };
        assert!(f.matches(&row()));
        let prod = Filters {
            environment: "prod".into(),
            ..Default::default()
        };
        assert!(!prod.matches(&row()));
        assert_eq!(
            f.href_with("status", "failed"),
            "/requests?status=failed&environment=dev&q=ANA"
        );
        assert_eq!(
            f.href_with("q", "a b&c"),
            "/requests?environment=dev&q=a%20b%26c"
        );
        assert_eq!(Filters::default().href_with("cursor", ""), "/requests");
    }
}
