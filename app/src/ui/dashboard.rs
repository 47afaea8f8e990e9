//! `/requests`: the requests dashboard.
//!
//! The page is a server-rendered GET form and table, so filters live in the
//! URL (shareable, the back button works) and everything works before the
//! wasm loads. The table is an island that listens to `/api/v1/events` and
//! patches only the rows that changed.

use super::esc;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
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

/// Keeps the table live (an island): each change from `/api/v1/events`
/// patches its own row and the counts in place; nothing else repaints.
#[island]
fn Live(filters: Filters, first_page: bool, since: u64) -> impl IntoView {
    let live = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    patch::connect(filters, first_page, since, live);
    #[cfg(not(feature = "hydrate"))]
    let _ = (filters, first_page, since);
    view! {
        <p class="live-state" data-live=move || live.get().to_string() aria-live="polite" data-ready=super::ready()>
            {move || if live.get() { "Live" } else { "Not live: showing the page as loaded" }}
        </p>
    }
}

#[cfg(feature = "hydrate")]
mod patch {
    //! The browser side: rows and counts patched in the DOM.

    use super::{Filters, Row, row_html, short_time, status_label};
    use crate::ui::esc;
    use leptos::prelude::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Payload {
        row: Option<Row>,
        id: Option<String>,
        counts: std::collections::BTreeMap<String, usize>,
    }

    fn find(selector: &str) -> Option<web_sys::Element> {
        document().query_selector(selector).ok().flatten()
    }

    fn apply(filters: &Filters, first_page: bool, kind: &str, data: &str) {
        let Ok(p) = serde_json::from_str::<Payload>(data) else {
            return;
        };
        if let Ok(list) = document().query_selector_all("[data-count-for]") {
            for i in 0..list.length() {
                let Some(el) = list
                    .item(i)
                    .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok())
                else {
                    continue;
                };
                let status = el.get_attribute("data-count-for").unwrap_or_default();
                el.set_text_content(Some(
                    &p.counts.get(&status).copied().unwrap_or(0).to_string(),
                ));
            }
        }
        match (kind, p.row, p.id) {
            ("request", Some(row), _) => {
                let selector = format!("tr[data-id=\"{}\"]", esc(&row.id));
                match find(&selector) {
                    Some(tr) => update(&tr, &row),
                    None if first_page && filters.matches(&row) => insert(&row),
                    None => {}
                }
            }
            ("removed", _, Some(id)) => {
                if let Some(tr) = find(&format!("tr[data-id=\"{}\"]", esc(&id))) {
                    tr.remove();
                }
            }
            _ => {}
        }
    }

    fn update(tr: &web_sys::Element, row: &Row) {
        let _ = tr.set_attribute("data-status", &row.status);
        if let Ok(Some(badge)) = tr.query_selector(".badge") {
            let _ = badge.set_attribute("data-status", &row.status);
            badge.set_text_content(Some(&status_label(&row.status)));
        }
        if let Ok(Some(title)) = tr.query_selector(".title a") {
            title.set_text_content(Some(&row.title));
        }
        if let Ok(Some(time)) = tr.query_selector("time") {
            let _ = time.set_attribute("datetime", &row.updated_at);
            time.set_text_content(Some(&short_time(&row.updated_at)));
        }
    }

    fn insert(row: &Row) {
        let Some(body) = find("table.requests tbody") else {
            return;
        };
        let html = row_html(row);
        let mut before = None;
        if let Ok(rows) = body.query_selector_all("tr[data-id]") {
            for i in 0..rows.length() {
                let Some(tr) = rows
                    .item(i)
                    .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok())
                else {
                    continue;
                };
                if tr.get_attribute("data-id").unwrap_or_default() < row.id {
                    before = Some(tr);
                    break;
                }
            }
        }
        let _ = match before {
            Some(tr) => tr.insert_adjacent_html("beforebegin", &html),
            None => body.insert_adjacent_html("beforeend", &html),
        };
        if let Some(empty) = find(".live-table .empty") {
            let _ = empty.set_attribute("hidden", "");
        }
    }

    pub fn connect(filters: Filters, first_page: bool, since: u64, live: RwSignal<bool>) {
        crate::ui::live::subscribe(
            since,
            move |kind, data| match kind {
                "resync" => crate::ui::live::reload(),
                _ => apply(&filters, first_page, kind, &data),
            },
            move |on| live.set(on),
        );
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
