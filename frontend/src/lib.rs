//! The wasm entry point: hydrates the interactive islands of the
//! server-rendered page, nothing else.

// The islands are `#[island]` components of `app::ui`; linking the crate
// exports their hydration functions from this module.
#[allow(unused_imports)]
use app as _;
use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the hydration script the server embeds in every page, before
/// it hydrates each island.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
