//! tfpilot's shared crate: the pure domain (`domain`), the wire types
//! between server and browser (`api`) and the Leptos UI (`ui`).
//!
//! Everything here builds for the server (`ssr`) and for the browser
//! (`hydrate`). `domain` and `api` do no I/O at all, so the browser validates and
//! previews with exactly the code the server trusts.

// Leptos views are nested types; the larger islands need more room than the
// default when release builds compute their layout.
#![recursion_limit = "256"]

pub mod api;
pub mod domain;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod services;
