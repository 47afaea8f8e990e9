//! Browser tests: the embedded product in headless Chromium.
//!
//! Run through `cargo xtask test`, which builds the wasm bundle, installs
//! the Playwright driver and Chromium, and sets `TFPILOT_SITE_ROOT`.

mod admin;
mod adopt;
mod describe;
mod flow;
mod home;
mod hurry;
mod projects;
mod support;
