//! `/admin/policies`: the remediation policies in the order they are
//! tried, each editable as JSON (admins), a form for a new one, and a
//! "try an alert" form that shows which policy an Alertmanager payload
//! matches and what it would do, doing nothing. Plain forms, no island:
//! saving posts to `/admin/policies`, deleting to
//! `/admin/policies/{name}/delete`, trying is a GET (`?alert=`).

use super::error_text;
use crate::api::{PolicyPage, PolicyRow, TriedAlert, short_time, url_encode};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_router::hooks::use_query_map;

/// The page's data for the caller, with `alert` tried when given.
#[server(prefix = "/sfn", endpoint = "policies", input = Json)]
pub async fn load_policies(alert: Option<String>) -> Result<PolicyPage, ServerFnError> {
    crate::services::services()?
        .policies(alert)
        .await
        .map_err(crate::services::refuse)
}

const EXAMPLE: &str = r#"{
  "name": "queue-backlog",
  "priority": 10,
  "enabled": true,
  "condition": {"labels": {"alertname": "QueueBacklog", "severity": "critical"}, "status": "firing"},
  "action": {"kind": "update_inputs", "request": "${label.tfpilot_request}",
             "inputs": {"dlq_max_receive_count": "${annotation.new_max}"}},
  "auto_approve_environments": ["dev"]
}"#;

const ALERT_EXAMPLE: &str = r#"{"version": "4", "groupKey": "g", "status": "firing", "receiver": "tfpilot",
 "alerts": [{"status": "firing", "fingerprint": "1a2b", "startsAt": "2026-12-05T10:00:00Z",
   "labels": {"alertname": "QueueBacklog", "severity": "critical", "tfpilot_request": "<request id>"},
   "annotations": {"new_max": "25"}}]}"#;

/// `/admin/policies`.
#[component]
pub fn PoliciesPage() -> impl IntoView {
    let query = use_query_map().read_untracked();
    let alert = query.get("alert");
    let done = query.get("done");
    let error = query.get("error");
    let tried_text = alert.clone().unwrap_or_else(|| ALERT_EXAMPLE.to_owned());
    let page = Resource::new(move || alert.clone(), load_policies);
    view! {
        <section aria-labelledby="policies-title" class="policies-admin">
            <h1 id="policies-title">"Remediation policies"</h1>
            <p>"When an alert arrives, the enabled policy with the lowest priority number whose labels match runs: a new revision, a re-plan, a re-apply or a notice — always through the normal pipeline. See the job log at " <a href="/jobs">"/jobs"</a> "."</p>
            {done.map(|d| view! { <p class="notice" role="status" data-testid="done">{d}</p> })}
            {error.map(|e| view! { <p class="error" role="alert" data-testid="form-error">{e}</p> })}
            <Suspense fallback=|| view! { <p class="loading">"Loading policies…"</p> }>
                {move || {
                    let tried_text = tried_text.clone();
                    Suspend::new(async move {
                        match page.await {
                            Ok(p) => view! { <Policies page=p tried_text/> }.into_any(),
                            Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn Policies(page: PolicyPage, tried_text: String) -> impl IntoView {
    let manage = page.can_manage;
    view! {
        {if page.rows.is_empty() {
            view! { <p class="empty" data-testid="no-policies">"No policies yet: every alert is recorded as “no policy matched”."</p> }.into_any()
        } else {
            view! { <PolicyTable rows=page.rows manage/> }.into_any()
        }}
        {manage.then(|| view! {
            <h2>"New policy"</h2>
            <form class="form" method="post" action="/admin/policies" data-testid="new-policy">
                <label>"Policy (JSON)"
                    <textarea name="policy" rows="12" cols="80" spellcheck="false">{EXAMPLE}</textarea>
                </label>
                <button type="submit">"Save policy"</button>
            </form>
        })}
        <h2>"Try an alert"</h2>
        <form class="form" method="get" action="/admin/policies" data-testid="try-alert">
            <label>"Alertmanager payload (JSON)"
                <textarea name="alert" rows="8" cols="80" spellcheck="false">{tried_text}</textarea>
            </label>
            <button type="submit">"Try it (does nothing)"</button>
        </form>
        {page.tried.map(|t| match t {
            Ok(results) => view! { <Tried results/> }.into_any(),
            Err(e) => view! { <p class="error" role="alert" data-testid="tried-error">{e}</p> }.into_any(),
        })}
    }
}

#[component]
fn PolicyTable(rows: Vec<PolicyRow>, manage: bool) -> impl IntoView {
    view! {
        <table class="table" data-testid="policies">
            <thead><tr>
                <th>"Priority"</th><th>"Name"</th><th>"When"</th><th>"Does"</th>
                <th>"Without a person in"</th><th>"Changed"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|p| {
                    let delete = format!("/admin/policies/{}/delete", url_encode(&p.name));
                    let auto = if p.auto_approve.is_empty() { "-".to_owned() } else { p.auto_approve.join(", ") };
                    let changed = format!("v{} by {}, {}", p.version, p.updated_by, short_time(&p.updated_at));
                    view! {
                        <tr data-policy=p.name.clone() class:disabled=!p.enabled>
                            <td>{p.priority}</td>
                            <td><strong>{p.name.clone()}</strong>{(!p.enabled).then_some(" (disabled)")}</td>
                            <td><code>{p.condition}</code></td>
                            <td><code>{p.action}</code></td>
                            <td>{auto}</td>
                            <td>{changed}</td>
                        </tr>
                        {manage.then(|| view! {
                            <tr class="edit"><td colspan="6">
                                <details>
                                    <summary>{format!("Edit {}", p.name)}</summary>
                                    <form class="form" method="post" action="/admin/policies">
                                        <label>"Policy (JSON)"
                                            <textarea name="policy" rows="12" cols="80" spellcheck="false">{p.json}</textarea>
                                        </label>
                                        <button type="submit">"Save policy"</button>
                                    </form>
                                    <form class="inline" method="post" action=delete>
                                        <button type="submit" class="danger">{format!("Delete {}", p.name)}</button>
                                    </form>
                                </details>
                            </td></tr>
                        })}
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn Tried(results: Vec<TriedAlert>) -> impl IntoView {
    view! {
        <table class="table" data-testid="tried">
            <thead><tr><th>"Alert"</th><th>"Policy"</th><th>"Would"</th></tr></thead>
            <tbody>
                {results.into_iter().map(|r| view! {
                    <tr>
                        <td><code>{r.alert}</code></td>
                        <td>{r.policy.unwrap_or_else(|| "-".into())}</td>
                        <td>{r.outcome}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
