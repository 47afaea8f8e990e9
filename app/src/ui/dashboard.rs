//! `/requests`: the requests dashboard.
//!
//! The page is a server-rendered GET form and table, so filters live in the
//! URL (shareable, the back button works) and everything works before the
//! wasm loads. The table is an island that listens to `/api/v1/events` and
//! patches only the rows that changed.

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
        let q = self.q.trim().to_lowercase();
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
                || row.title.to_lowercase().contains(&q)
                || row.requester.to_lowercase().contains(&q))
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
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        if query.is_empty() {
            "/requests".to_owned()
        } else {
            format!("/requests?{}", query.join("&"))
        }
    }
}

/// Percent-encodes a query value.
fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
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
    view! {
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
        <LiveTable rows counts filters first_page/>
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

/// A row held by the live table: its id and its own signal, so a change
/// repaints that row only.
#[derive(Clone)]
struct Slot {
    id: String,
    row: RwSignal<Row>,
}

/// Counts and rows, kept live over server-sent events (an island).
#[island]
fn LiveTable(
    rows: Vec<Row>,
    counts: Vec<(String, usize)>,
    filters: Filters,
    first_page: bool,
) -> impl IntoView {
    let slots = RwSignal::new(
        rows.into_iter()
            .map(|r| Slot {
                id: r.id.clone(),
                row: RwSignal::new(r),
            })
            .collect::<Vec<_>>(),
    );
    let counts = RwSignal::new(counts);
    let live = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    live::connect(live::Target {
        slots,
        counts,
        live,
        filters: filters.clone(),
        first_page,
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = first_page;
    let chip_filters = filters.clone();
    view! {
        <div class="live-table" data-ready=super::ready()>
            <ul class="counts" aria-label="Requests per status">
                {move || counts.get().into_iter().map(|(status, n)| {
                    let current = chip_filters.status == status;
                    let href = chip_filters.href_with("status", if current { "" } else { &status });
                    view! {
                        <li>
                            <a href=href class="chip" data-status=status.clone() aria-current=current.then_some("true")>
                                <span class="label">{status_label(&status)}</span>
                                " "<strong data-testid="count">{n}</strong>
                            </a>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <p class="live-state" data-live=move || live.get().to_string() aria-live="polite">
                {move || if live.get() { "Live" } else { "Not live: showing the page as loaded" }}
            </p>
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
                    <tbody>
                        <For each=move || slots.get() key=|s| s.id.clone() let:slot>
                            <RowView row=slot.row/>
                        </For>
                    </tbody>
                </table>
                {move || slots.with(Vec::is_empty).then(|| view! {
                    <p class="empty">"No requests match these filters."</p>
                })}
            </div>
        </div>
    }
}

#[component]
fn RowView(row: RwSignal<Row>) -> impl IntoView {
    let r = row.get_untracked();
    let href = format!("/requests/{}", r.id);
    view! {
        <tr data-id=r.id.clone() data-status=move || row.with(|r| r.status.clone())>
            <td><a href=href.clone()><code>{r.id.clone()}</code></a></td>
            <td><a href=href>{move || row.with(|r| r.title.clone())}</a></td>
            <td>{r.project}</td>
            <td>{r.environment}</td>
            <td>{r.module}</td>
            <td>
                <span class="badge" data-status=move || row.with(|r| r.status.clone())>
                    {move || row.with(|r| status_label(&r.status))}
                </span>
            </td>
            <td>{r.requester}</td>
            <td>
                <time datetime=move || row.with(|r| r.updated_at.clone())>
                    {move || row.with(|r| short_time(&r.updated_at))}
                </time>
            </td>
        </tr>
    }
}

#[cfg(feature = "hydrate")]
mod live {
    //! The browser side: rows patched from `/api/v1/events`.

    use super::{Filters, Row, Slot};
    use leptos::prelude::*;
    use serde::Deserialize;

    pub struct Target {
        pub slots: RwSignal<Vec<Slot>>,
        pub counts: RwSignal<Vec<(String, usize)>>,
        pub live: RwSignal<bool>,
        pub filters: Filters,
        pub first_page: bool,
    }

    #[derive(Deserialize)]
    struct Payload {
        row: Option<Row>,
        id: Option<String>,
        counts: std::collections::BTreeMap<String, usize>,
    }

    impl Target {
        fn apply(&self, kind: &str, data: &str) {
            let Ok(p) = serde_json::from_str::<Payload>(data) else {
                return;
            };
            self.counts.update(|counts| {
                for (status, n) in counts.iter_mut() {
                    *n = p.counts.get(status).copied().unwrap_or(0);
                }
            });
            match (kind, p.row, p.id) {
                ("request", Some(row), _) => {
                    let existing = self
                        .slots
                        .with_untracked(|s| s.iter().find(|s| s.id == row.id).map(|s| s.row));
                    match existing {
                        Some(signal) => signal.set(row),
                        None if self.first_page && self.filters.matches(&row) => {
                            self.slots.update(|s| {
                                let at = s.iter().position(|s| s.id < row.id).unwrap_or(s.len());
                                s.insert(
                                    at,
                                    Slot {
                                        id: row.id.clone(),
                                        row: RwSignal::new(row),
                                    },
                                );
                            })
                        }
                        None => {}
                    }
                }
                ("removed", _, Some(id)) => self.slots.update(|s| s.retain(|s| s.id != id)),
                _ => {}
            }
        }
    }

    pub fn connect(target: Target) {
        let live = target.live;
        super::super::live::subscribe(
            move |kind, data| match kind {
                "resync" => super::super::live::reload(),
                _ => target.apply(kind, &data),
            },
            move |on| live.set(on),
        );
    }
}
