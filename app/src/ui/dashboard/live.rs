//! The dashboard's live part: an island that follows `/api/v1/events` and
//! patches the changed row and the counts in the DOM.

use crate::api::Filters;
use leptos::prelude::*;

/// Keeps the table live (an island): each change from `/api/v1/events`
/// patches its own row and the counts in place; nothing else repaints.
#[island]
pub(super) fn Live(filters: Filters, first_page: bool, since: u64) -> impl IntoView {
    let live = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    patch::connect(filters, first_page, since, live);
    #[cfg(not(feature = "hydrate"))]
    let _ = (filters, first_page, since);
    view! {
        <p class="live-state" data-live=move || live.get().to_string() aria-live="polite" data-ready=crate::ui::ready()>
            {move || if live.get() { "Live" } else { "Not live: showing the page as loaded" }}
        </p>
    }
}

#[cfg(feature = "hydrate")]
mod patch {
    //! The browser side: rows and counts patched in the DOM.

    use super::super::{row_html, status_label};
    use crate::api::{Change, Event, Filters, Row, short_time};
    use crate::ui::esc;
    use leptos::prelude::*;

    fn find(selector: &str) -> Option<web_sys::Element> {
        document().query_selector(selector).ok().flatten()
    }

    fn apply(filters: &Filters, first_page: bool, data: &str) {
        let Ok(event) = serde_json::from_str::<Event>(data) else {
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
                    &event.counts.get(&status).copied().unwrap_or(0).to_string(),
                ));
            }
        }
        match event.change {
            Change::Request { row } => {
                let selector = format!("tr[data-id=\"{}\"]", esc(&row.id));
                match find(&selector) {
                    Some(tr) => update(&tr, &row),
                    None if first_page && filters.matches(&row) => insert(&row),
                    None => {}
                }
            }
            Change::Removed { id, .. } => {
                if let Some(tr) = find(&format!("tr[data-id=\"{}\"]", esc(&id))) {
                    tr.remove();
                }
            }
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
                _ => apply(&filters, first_page, &data),
            },
            move |on| live.set(on),
        );
    }
}
