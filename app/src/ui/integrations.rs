//! `/admin/integrations`: the integration credentials (admins). A row per
//! stored integration — its clear fields, the names of its secret fields,
//! "set on … by …, key …" or "unreadable (wrong key?)" — an edit form and
//! a delete button each, and a form per kind for a new one. Secrets are
//! password inputs that are never filled in: left empty, the stored value
//! is kept. Plain forms, no island: saving posts to `/admin/integrations`,
//! deleting to `/admin/integrations/{kind}/{name}/delete`.

use super::error_text;
use crate::api::{IntegrationView, IntegrationsPage, KindForm, url_encode};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_router::hooks::use_query_map;

/// The kinds with a "Test connection" button.
const TESTABLE: [&str; 4] = ["slack", "github_app", "github_token", "tfc"];

/// The page's data for the caller.
#[server(prefix = "/sfn", endpoint = "integrations", input = Json)]
pub async fn load_integrations() -> Result<IntegrationsPage, ServerFnError> {
    crate::services::services()?
        .integrations()
        .await
        .map_err(crate::services::refuse)
}

/// `/admin/integrations`.
#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let query = use_query_map().read_untracked();
    let done = query.get("done");
    let error = query.get("error");
    let page = Resource::new(|| (), |_| load_integrations());
    view! {
        <section aria-labelledby="integrations-title" class="integrations-admin">
            <h1 id="integrations-title">"Integrations"</h1>
            <p>"Credentials of GitHub, Slack, HCP Terraform, the model, SMTP and webhooks, stored encrypted with the master key. Secrets are write-only: they are never shown again; leave a secret empty to keep the stored one."</p>
            {done.map(|d| view! { <p class="notice" role="status" data-testid="done">{d}</p> })}
            {error.map(|e| view! { <p class="error" role="alert" data-testid="form-error">{e}</p> })}
            <Suspense fallback=|| view! { <p class="loading">"Loading integrations…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! { <Integrations page=p/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Integrations(page: IntegrationsPage) -> impl IntoView {
    if let Some(why) = page.unavailable {
        return view! { <p class="error" role="alert" data-testid="unavailable">{why}</p> }
            .into_any();
    }
    let kinds = page.kinds;
    let key = page.key_id.unwrap_or_default();
    let env_wins = page.env_wins;
    view! {
        <p data-testid="current-key">{format!("New secrets are sealed with key {key}.")}</p>
        {(!env_wins.is_empty()).then(|| view! {
            <ul class="notice" data-testid="env-wins">
                {env_wins.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}
            </ul>
        })}
        {if page.rows.is_empty() {
            view! { <p class="empty" data-testid="no-integrations">"No integrations yet."</p> }.into_any()
        } else {
            let rows = page.rows.clone();
            let kinds = kinds.clone();
            view! { <Rows rows kinds/> }.into_any()
        }}
        <h2>"New integration"</h2>
        {kinds.into_iter().map(|k| {
            let (id, title) = (k.kind.clone(), k.title.clone());
            view! {
                <details class="new-integration" data-kind=id>
                    <summary>{title}</summary>
                    <KindFields kind=k existing=None/>
                </details>
            }
        }).collect_view()}
    }
    .into_any()
}

#[component]
fn Rows(rows: Vec<IntegrationView>, kinds: Vec<KindForm>) -> impl IntoView {
    view! {
        <table class="table" data-testid="integrations">
            <thead><tr>
                <th>"Kind"</th><th>"Name"</th><th>"Settings"</th><th>"Secrets"</th><th>"State"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let delete = format!("/admin/integrations/{}/{}/delete", url_encode(&r.kind), url_encode(&r.name));
                    let test = format!("/admin/integrations/{}/{}/test", url_encode(&r.kind), url_encode(&r.name));
                    let testable = TESTABLE.contains(&r.kind.as_str());
                    let settings: Vec<String> = r.metadata.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                    let unreadable = r.state != crate::api::integrations::STATE_OK;
                    let form = kinds.iter().find(|k| k.kind == r.kind).cloned();
                    let label = format!("{}/{}", r.kind, r.name);
                    view! {
                        <tr data-integration=label.clone() class:unreadable=unreadable>
                            <td>{r.kind.clone()}</td>
                            <td><strong>{r.name.clone()}</strong></td>
                            <td>{if settings.is_empty() { "-".to_owned() } else { settings.join(", ") }}</td>
                            <td>{r.secret_fields.join(", ")}</td>
                            <td data-testid="state" title=r.problem.clone().unwrap_or_default()>{r.summary()}{r.env_wins.clone().map(|w| format!(" — not used: {w}"))}</td>
                        </tr>
                        <tr class="edit"><td colspan="5">
                            <details>
                                <summary>{format!("Edit {label}")}</summary>
                                {form.map(|k| view! { <KindFields kind=k existing=Some(r.clone())/> })}
                                {testable.then(|| view! {
                                    <form class="inline" method="post" action=test>
                                        <button type="submit">{format!("Test connection of {label}")}</button>
                                    </form>
                                })}
                                <form class="inline" method="post" action=delete>
                                    <button type="submit" class="danger">{format!("Delete {label}")}</button>
                                </form>
                            </details>
                        </td></tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// A kind's form: a new one (a name to choose) or an existing one (its
/// clear fields filled in, its secrets never).
#[component]
fn KindFields(kind: KindForm, existing: Option<IntegrationView>) -> impl IntoView {
    let name = existing.as_ref().map(|e| e.name.clone());
    let metadata = existing
        .as_ref()
        .map(|e| e.metadata.clone())
        .unwrap_or_default();
    let is_new = existing.is_none();
    view! {
        <form class="form" method="post" action="/admin/integrations" data-form=kind.kind.clone()>
            <input type="hidden" name="kind" value=kind.kind.clone()/>
            {match name {
                Some(n) => view! { <input type="hidden" name="name" value=n/> }.into_any(),
                None => view! {
                    <label>"Name"
                        <input name="name" value="default" required pattern="[a-z0-9][a-z0-9-]{0,62}"/>
                    </label>
                }.into_any(),
            }}
            {kind.fields.into_iter().map(|f| {
                let label = if f.secret && !is_new {
                    format!("{} (leave empty to keep)", f.name)
                } else {
                    f.name.clone()
                };
                let required = f.required && (is_new || !f.secret);
                if f.secret {
                    view! {
                        <label>{label}
                            <input type="password" name=f.name.clone() autocomplete="new-password" required=required/>
                        </label>
                    }.into_any()
                } else {
                    let value = metadata.get(&f.name).cloned().unwrap_or_default();
                    view! {
                        <label>{label}
                            <input name=f.name.clone() value=value required=required/>
                        </label>
                    }.into_any()
                }
            }).collect_view()}
            <button type="submit">{if is_new { "Add" } else { "Save" }}</button>
        </form>
    }
}
