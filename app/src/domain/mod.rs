//! The pure domain: no I/O, no clocks, no randomness — callers pass them in.
//!
//! - [`adopt`]: the import block of a request that adopts an existing resource;
//! - [`assistant`]: the deterministic chat that collects a module's inputs;
//! - [`ids`]: the newtypes that parse (`RequestId`, `ProjectKey`, `EnvName`, `ModuleType`);
//! - [`registry`]: the module registry, its strict loader and the input schema;
//! - [`config`]: validation and normalization of a request's inputs;
//! - [`request`]: the stored request document;
//! - [`drift`]: what a drift run found, and which request owns it;
//! - [`status`]: the status derived from a request's facts;
//! - [`policy`]: who may do what, and why not;
//! - [`remediation`]: alert remediation policies (match, fill in, check);
//! - [`scope`]: what an apply may change, and the check of its saved plan;
//! - [`transitions`]: the workflow's edits of a request (approve, retry,
//!   a new revision, …), pure and with their refusals;
//! - [`explain`]: a request's change in plain words (page, Slack, PR);
//! - [`hcl`], [`render`], [`blocks`]: the literal encoder, the block renderer
//!   and the bounded-block editor.

pub mod adopt;
pub mod assistant;
pub mod blocks;
pub mod config;
pub mod drift;
pub mod explain;
pub mod hcl;
pub mod ids;
pub mod jobs;
pub mod policy;
pub mod registry;
pub mod remediation;
pub mod render;
pub mod request;
pub mod scope;
pub mod status;
pub mod transitions;
