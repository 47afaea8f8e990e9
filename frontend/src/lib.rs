//! The wasm entry point: hydrates the server-rendered page, nothing else.

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the hydration script the server embeds in every page.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::ui::App);
}
