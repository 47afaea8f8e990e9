//! The plan view: counts, destructive changes first and in red, resources
//! grouped by module, the raw log folded away. Values are never part of it
//! (the server keeps addresses and actions only), so nothing sensitive can
//! show; the log is Terraform's own output, which prints `(sensitive value)`.
//! Rendered on the server as plain HTML, so 1,000+ resources cost the
//! browser no script at all.

use crate::api::detail::is_destructive;
use crate::api::{CheckItem, PlanView};
use leptos::prelude::*;

fn symbol(action: &str) -> &'static str {
    match action {
        "create" => "+",
        "update" => "~",
        "delete" => "−",
        "replace" => "±",
        "import" => "⇣",
        _ => "·",
    }
}

#[component]
pub(super) fn Plan(p: PlanView) -> impl IntoView {
    let PlanView {
        label,
        import,
        add,
        change,
        destroy,
        replace,
        groups,
        log,
    } = p;
    let total: usize = groups.iter().map(|g| g.changes.len()).sum();
    let open_all = total <= 200;
    view! {
        <p class="muted">{label}</p>
        <ul class="plan-counts" data-testid="plan-counts">
            {(import > 0).then(|| view! { <li class="import"><strong data-testid="plan-import">{import}</strong>" to import"</li> })}
            <li class="add"><strong data-testid="plan-add">{add}</strong>" to add"</li>
            <li class="change"><strong data-testid="plan-change">{change}</strong>" to change"</li>
            <li class="destroy" data-nonzero=(destroy > 0).to_string()>
                <strong data-testid="plan-destroy">{destroy}</strong>" to destroy"
            </li>
            {(replace > 0).then(|| view! { <li class="destroy" data-nonzero="true"><strong>{replace}</strong>" to replace"</li> })}
        </ul>
        {(import > 0 && add == 0).then(|| view! { <p class="note" data-testid="plan-adopts">"Nothing is created: the existing resource is imported into Terraform's state."</p> })}
        {(total == 0).then(|| view! { <p class="muted">"No changes: the infrastructure matches the configuration."</p> })}
        {groups.into_iter().enumerate().map(|(i, g)| {
            let n = g.changes.len();
            let destructive = g.changes.iter().filter(|c| is_destructive(&c.action)).count();
            view! {
                <details class="plan-group" open=open_all || i == 0>
                    <summary>
                        <code>{g.module}</code>
                        " · "{format!("{n} change{}", if n == 1 { "" } else { "s" })}
                        {(destructive > 0).then(|| view! { <span class="danger-text">{format!(" · {destructive} destructive")}</span> })}
                    </summary>
                    <ul class="plan-changes">
                        {g.changes.into_iter().map(|c| {
                            let destructive = is_destructive(&c.action);
                            let sym = symbol(&c.action);
                            let kind = c.action.clone();
                            view! {
                                <li data-action=kind class:destructive=destructive>
                                    <span class="sym" aria-hidden="true">{sym}</span>
                                    <code>{c.address}</code>
                                    <span class="act">{c.action}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </details>
            }
        }).collect_view()}
        <details class="raw-log">
            <summary>"Raw plan output"</summary>
            <pre class="code" data-testid="plan-log">{log}</pre>
        </details>
    }
}

/// Cost estimates and policy checks the executor ran beside the plan.
#[component]
pub fn Checks(checks: Vec<CheckItem>) -> impl IntoView {
    view! {
        <h3>"Checks"</h3>
        <ul class="checks" data-testid="checks">
            {checks.into_iter().map(|c| {
                let label = match c.kind.as_str() {
                    "cost" => "Cost estimate",
                    _ => "Policy",
                };
                let warn = c.blocking.then_some("warn");
                let (kind, outcome) = (c.kind.clone(), c.outcome.clone());
                view! {
                    <li data-kind=kind data-outcome=outcome class=warn>
                        <strong>{label}</strong>" "{c.name}" — "
                        <span class="badge">{c.outcome}</span>
                        {(!c.detail.is_empty()).then(|| view! { " "<span>{c.detail}</span> })}
                        " "<span class="muted">{format!("({})", c.run)}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
