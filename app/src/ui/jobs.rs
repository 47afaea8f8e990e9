//! `/jobs`: the remediation job log, newest first, a page at a time —
//! each job's alert, policy, action, request, status, attempts, times and
//! result. Plain server-rendered HTML, no island: the filters are a GET
//! form and "Older jobs" a link carrying the cursor.

use super::error_text;
use crate::api::{JobFilters, JobLog, JobRow, short_time};
use crate::domain::jobs::JobStatus;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_router::hooks::use_query_map;

/// A page of the job log for the caller.
#[server(prefix = "/sfn", endpoint = "jobs", input = Json)]
pub async fn load_jobs(filters: JobFilters) -> Result<JobLog, ServerFnError> {
    crate::services::services()?
        .jobs(filters)
        .await
        .map_err(crate::services::refuse)
}

/// `/jobs`.
#[component]
pub fn JobsPage() -> impl IntoView {
    let query = use_query_map().read_untracked();
    let field = |k: &str| query.get(k).unwrap_or_default();
    let filters = JobFilters {
        status: field("status"),
        policy: field("policy"),
        request: field("request"),
        limit: field("limit"),
        cursor: field("cursor"),
    };
    let form = filters.clone();
    let page = Resource::new(move || filters.clone(), load_jobs);
    view! {
        <section aria-labelledby="jobs-title" class="jobs">
            <h1 id="jobs-title">"Remediation jobs"</h1>
            <p>"One job per alert Alertmanager sent, newest first: the policy that matched it and what it did to its request through the normal pipeline. Policies are at " <a href="/admin/policies">"/admin/policies"</a> "."</p>
            <FilterForm filters=form/>
            <Suspense fallback=|| view! { <p class="loading">"Loading jobs…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(log) => view! { <Log log/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert" data-testid="jobs-error">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn FilterForm(filters: JobFilters) -> impl IntoView {
    let current = filters.status.clone();
    view! {
        <form class="form filters" method="get" action="/jobs" data-testid="job-filters">
            <label>"Status "
                <select name="status">
                    <option value="" selected=current.is_empty()>"any"</option>
                    {JobStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=current == s.as_str()>{s.words()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Policy " <input type="text" name="policy" value=filters.policy/></label>
            <label>"Request " <input type="text" name="request" value=filters.request placeholder="request id"/></label>
            {(!filters.limit.is_empty()).then(|| view! { <input type="hidden" name="limit" value=filters.limit.clone()/> })}
            <button type="submit">"Filter"</button>
            " " <a href="/jobs">"Clear"</a>
        </form>
    }
}

#[component]
fn Log(log: JobLog) -> impl IntoView {
    view! {
        {if log.rows.is_empty() {
            view! { <p class="empty" data-testid="no-jobs">"No jobs here: no alert has arrived yet, or none matches the filters."</p> }.into_any()
        } else {
            view! {
                <table class="table" data-testid="jobs">
                    <thead><tr>
                        <th>"Alert"</th><th>"Policy and action"</th><th>"Request"</th>
                        <th>"Status"</th><th>"Attempts"</th><th>"Created / updated"</th><th>"Result"</th>
                    </tr></thead>
                    <tbody>{log.rows.into_iter().map(|row| view! { <Job row/> }).collect_view()}</tbody>
                </table>
            }.into_any()
        }}
        <p class="pager">
            {log.newest.map(|href| view! { <a href=href data-testid="newest-jobs">"← Newest jobs"</a> " " })}
            {log.older.map(|href| view! { <a href=href rel="next" data-testid="older-jobs">"Older jobs →"</a> })}
        </p>
    }
}

#[component]
fn Job(row: JobRow) -> impl IntoView {
    let request = match row.request.clone() {
        Some(r) => {
            let href = format!("/requests/{}", crate::api::url_encode(&r));
            view! { <a href=href>{r}</a> }.into_any()
        }
        None => "-".into_any(),
    };
    let (id, status, badge) = (row.id.clone(), row.status.clone(), row.status.clone());
    view! {
        <tr data-job=id data-status=status>
            <td>
                <strong>{row.alert_name}</strong>" "<span class="muted">{row.alert_status}</span>
                <ul class="labels">
                    {row.labels.into_iter().map(|(k, v)| view! { <li><code>{format!("{k}={v}")}</code></li> }).collect_view()}
                </ul>
                <span class="muted">{format!("since {}", short_time(&row.starts_at))}</span>
            </td>
            <td>
                {match row.policy {
                    Some(p) => view! { <strong>{p}</strong> }.into_any(),
                    None => view! { <em>"no policy matched"</em> }.into_any(),
                }}
                {row.action.map(|a| view! { <br/><code>{a}</code> })}
            </td>
            <td>{request}</td>
            <td><span class="badge" data-status=badge>{row.status_words}</span></td>
            <td>{row.attempts}</td>
            <td>{short_time(&row.created_at)}<br/><span class="muted">{short_time(&row.updated_at)}</span></td>
            <td>{row.result.unwrap_or_default()}</td>
        </tr>
    }
}
