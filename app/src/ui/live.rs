//! The browser's end of `/api/v1/events` (hydrate builds only): one
//! `EventSource`, which reconnects by itself after a network error.

use leptos::prelude::window;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// Calls `on_event(kind, data)` for every `request`, `removed` and `resync`
/// event after change number `since` (the page's, so nothing between its
/// render and the stream opening is missed), and `on_live(connected)` when
/// the stream opens or drops. The stream lives as long as the page
/// (navigation is a page load); a reconnect resumes from the last event.
pub fn subscribe(
    since: u64,
    on_event: impl Fn(&'static str, String) + 'static,
    on_live: impl Fn(bool) + 'static,
) {
    watch_leaving();
    let Ok(source) = web_sys::EventSource::new(&format!("/api/v1/events?after={since}")) else {
        on_live(false);
        return;
    };
    let on_event = std::rc::Rc::new(on_event);
    for kind in ["request", "removed", "resync"] {
        let on_event = on_event.clone();
        let listener =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                on_event(kind, e.data().as_string().unwrap_or_default());
            });
        let _ = source.add_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
        listener.forget();
    }
    let on_live = std::rc::Rc::new(on_live);
    let open = {
        let on_live = on_live.clone();
        Closure::<dyn Fn()>::new(move || on_live(true))
    };
    source.set_onopen(Some(open.as_ref().unchecked_ref()));
    open.forget();
    let error = Closure::<dyn Fn()>::new(move || on_live(false));
    source.set_onerror(Some(error.as_ref().unchecked_ref()));
    error.forget();
}

thread_local! {
    /// Set once the user navigates away: a refresh must not override that.
    static LEAVING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn watch_leaving() {
    let leaving = Closure::<dyn Fn()>::new(|| LEAVING.with(|l| l.set(true)));
    let _ =
        window().add_event_listener_with_callback("beforeunload", leaving.as_ref().unchecked_ref());
    leaving.forget();
}

/// Reloads the page (after an action, or when the stream says the page is
/// too far behind to patch) — unless the user is already leaving it.
pub fn reload() {
    if !LEAVING.with(std::cell::Cell::get) {
        let _ = window().location().reload();
    }
}
