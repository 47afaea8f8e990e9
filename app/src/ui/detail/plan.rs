//! The plan view: counts, destructive changes first and in red, resources
//! grouped by module, the raw log folded away. Values are never part of it
//! (the server keeps addresses and actions only), so nothing sensitive can
//! show; the log is Terraform's own output, which prints `(sensitive value)`.
//! Rendered on the server as plain HTML, so 1,000+ resources cost the
//! browser no script at all.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One resource change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChange {
    /// Address.
    pub address: String,
    /// `create`, `update`, `delete`, `replace`, `read`.
    pub action: String,
}

/// The changes of one module (or the root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanGroup {
    /// `module.s3-bucket_x`, or `(root)`.
    pub module: String,
    /// Destructive first.
    pub changes: Vec<PlanChange>,
}

/// A plan as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    /// `plan attempt 2 at 1a2b3c4d5e`.
    pub label: String,
    /// To create.
    pub add: u32,
    /// To update in place.
    pub change: u32,
    /// To destroy.
    pub destroy: u32,
    /// To replace (counted in add and destroy too).
    pub replace: u32,
    /// Groups with destructive changes first.
    pub groups: Vec<PlanGroup>,
    /// Terraform's output.
    pub log: String,
}

impl PlanView {
    /// Groups changes by module, groups with destructive changes first,
    /// destructive changes first within each group.
    pub fn group(changes: Vec<(String, Option<String>, String)>) -> Vec<PlanGroup> {
        let mut groups: Vec<PlanGroup> = Vec::new();
        for (address, module, action) in changes {
            let module = module.unwrap_or_else(|| "(root)".to_owned());
            let change = PlanChange { address, action };
            match groups.iter_mut().find(|g| g.module == module) {
                Some(g) => g.changes.push(change),
                None => groups.push(PlanGroup {
                    module,
                    changes: vec![change],
                }),
            }
        }
        for g in &mut groups {
            g.changes.sort_by_key(|c| !is_destructive(&c.action));
        }
        groups.sort_by_key(|g| !g.changes.iter().any(|c| is_destructive(&c.action)));
        groups
    }
}

/// Whether an action removes something.
pub fn is_destructive(action: &str) -> bool {
    matches!(action, "delete" | "replace")
}

fn symbol(action: &str) -> &'static str {
    match action {
        "create" => "+",
        "update" => "~",
        "delete" => "−",
        "replace" => "±",
        _ => "·",
    }
}

#[component]
pub(super) fn Plan(p: PlanView) -> impl IntoView {
    let PlanView {
        label,
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
            <li class="add"><strong data-testid="plan-add">{add}</strong>" to add"</li>
            <li class="change"><strong data-testid="plan-change">{change}</strong>" to change"</li>
            <li class="destroy" data-nonzero=(destroy > 0).to_string()>
                <strong data-testid="plan-destroy">{destroy}</strong>" to destroy"
            </li>
            {(replace > 0).then(|| view! { <li class="destroy" data-nonzero="true"><strong>{replace}</strong>" to replace"</li> })}
        </ul>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_put_destructive_changes_first() {
        let c = |a: &str, m: Option<&str>, act: &str| {
            (a.to_owned(), m.map(str::to_owned), act.to_owned())
        };
        let groups = PlanView::group(vec![
            c("module.a.x", Some("module.a"), "create"),
            c("root_thing", None, "update"),
            c("module.b.y", Some("module.b"), "create"),
            c("module.b.z", Some("module.b"), "delete"),
        ]);
        let order: Vec<(&str, Vec<&str>)> = groups
            .iter()
            .map(|g| {
                (
                    g.module.as_str(),
                    g.changes.iter().map(|c| c.action.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                ("module.b", vec!["delete", "create"]),
                ("module.a", vec!["create"]),
                ("(root)", vec!["update"]),
            ]
        );
    }
}
