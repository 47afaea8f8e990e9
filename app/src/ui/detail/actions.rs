//! The action bar (an island). Each allowed action is a form that posts to
//! `/requests/{id}/act`, so it works before the wasm loads; once live, it
//! calls the `act` server function instead,
//! destructive actions ask first, a refused or failed call shows its reason
//! instead of spinning, and the page refreshes when the request moves on.

use super::act;
use crate::api::ActionItem;
use leptos::prelude::*;

/// The caller's actions on request `id`, currently in `status`.
#[island]
pub fn ActionBar(
    id: String,
    status: String,
    since: u64,
    actions: Vec<ActionItem>,
    error: Option<String>,
) -> impl IntoView {
    let busy = RwSignal::new(None::<String>);
    let error = RwSignal::new(error);
    let asking = RwSignal::new(None::<ActionItem>);
    #[cfg(feature = "hydrate")]
    watch(id.clone(), status, since, busy, asking);
    #[cfg(not(feature = "hydrate"))]
    let _ = (status, since);
    let run = {
        let id = id.clone();
        move |action: String, addresses: Vec<String>| {
            asking.set(None);
            error.set(None);
            busy.set(Some(action.clone()));
            let id = id.clone();
            leptos::task::spawn_local(async move {
                match act(id, action, addresses).await {
                    Ok(()) => {
                        #[cfg(feature = "hydrate")]
                        crate::ui::live::reload();
                    }
                    Err(e) => {
                        error.set(Some(crate::ui::error_text(&e)));
                        busy.set(None);
                    }
                }
            });
        }
    };
    let (allowed, refused): (Vec<ActionItem>, Vec<ActionItem>) =
        actions.into_iter().partition(|a| a.reason.is_none());
    let (forbidden, not_now): (Vec<ActionItem>, Vec<ActionItem>) =
        refused.into_iter().partition(|a| a.forbidden);
    let update = allowed.iter().any(|a| a.action == "update");
    let confirm_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if asking.with(Option::is_some)
            && let Some(b) = confirm_button.get()
        {
            let _ = b.focus();
        }
    });
    view! {
        <section class="actions panel" aria-labelledby="actions-title" data-ready=crate::ui::ready()>
            <h2 id="actions-title">"Actions"</h2>
            <div class="buttons">
                {allowed.into_iter().filter(|a| a.action != "update").map(|item| {
                    let run = run.clone();
                    let action = item.action.clone();
                    let danger = item.confirm.is_some();
                    let label = item.label.clone();
                    let addresses = item.addresses.join("\n");
                    let submit = move |ev: leptos::ev::SubmitEvent| {
                        ev.prevent_default();
                        if item.confirm.is_some() {
                            asking.set(Some(item.clone()));
                        } else {
                            run(item.action.clone(), item.addresses.clone());
                        }
                    };
                    let pending = {
                        let action = action.clone();
                        Signal::derive(move || busy.with(|b| b.as_deref() == Some(action.as_str())))
                    };
                    view! {
                        <form method="post" action=format!("/requests/{id}/act") on:submit=submit>
                            <input type="hidden" name="action" value=action.clone()/>
                            {(!addresses.is_empty()).then(|| view! { <input type="hidden" name="addresses" value=addresses/> })}
                            <button
                                type="submit"
                                data-action=action
                                class:danger=danger
                                disabled=move || busy.with(Option::is_some)
                                aria-busy=move || pending.get().to_string()
                            >
                                {label}
                                {move || pending.get().then_some("…")}
                            </button>
                        </form>
                    }
                }).collect_view()}
                {update.then(|| view! {
                    <a class="button secondary" href=format!("/requests/new?from={id}")>"Change inputs"</a>
                })}
            </div>
            {move || asking.get().map(|item| {
                let run = run.clone();
                let action = item.action.clone();
                let addresses = item.addresses.clone();
                view! {
                    <div class="confirm" role="alertdialog" aria-labelledby="confirm-text" data-testid="confirm">
                        <p id="confirm-text">{item.confirm.clone()}</p>
                        <button type="button" class="danger solid" node_ref=confirm_button on:click=move |_| run(action.clone(), addresses.clone())>
                            {format!("Yes, {}", item.label.to_lowercase())}
                        </button>
                        <button type="button" class="link" on:click=move |_| asking.set(None)>"Cancel"</button>
                    </div>
                }
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="action-error">{e}</p> })}
            <div inner_html=refusals(&forbidden, &not_now)></div>
        </section>
    }
}

/// The actions the caller may not take, with the reasons: rules that
/// refuse this user in plain sight, state conditions folded away.
fn refusals(forbidden: &[ActionItem], not_now: &[ActionItem]) -> String {
    use crate::ui::esc;
    let mut html = String::new();
    if !forbidden.is_empty() {
        html.push_str(
            "<ul class=\"forbidden\" data-testid=\"forbidden\" aria-label=\"Not allowed for you\">",
        );
        for a in forbidden {
            html.push_str(&format!(
                "<li data-action=\"{}\"><button type=\"button\" disabled>{}</button> <span class=\"reason\">{}</span></li>",
                esc(&a.action),
                esc(&a.label),
                esc(a.reason.as_deref().unwrap_or_default())
            ));
        }
        html.push_str("</ul>");
    }
    if !not_now.is_empty() {
        html.push_str("<details class=\"refused\"><summary>Why other actions are not available now</summary><ul data-testid=\"not-now\">");
        for a in not_now {
            html.push_str(&format!(
                "<li data-action=\"{}\"><strong>{}</strong>: {}</li>",
                esc(&a.action),
                esc(&a.label),
                esc(a.reason.as_deref().unwrap_or_default())
            ));
        }
        html.push_str("</ul></details>");
    }
    html
}

/// Refreshes the page when this request moves on (unless the user is in
/// the middle of something).
#[cfg(feature = "hydrate")]
fn watch(
    id: String,
    status: String,
    since: u64,
    busy: RwSignal<Option<String>>,
    asking: RwSignal<Option<ActionItem>>,
) {
    use crate::api::{Change, Event};
    crate::ui::live::subscribe(
        since,
        move |kind, data| {
            // `resync`: the page's change number cannot be followed.
            let moved = kind == "resync"
                || kind == "request"
                    && serde_json::from_str::<Event>(&data).is_ok_and(|e| {
                        matches!(e.change, Change::Request { row } if row.id == id && row.status != status)
                    });
            let idle =
                busy.with_untracked(Option::is_none) && asking.with_untracked(Option::is_none);
            if moved && idle {
                crate::ui::live::reload();
            }
        },
        |_| {},
    );
}
