//! Drift: what a plan of the tip of main, run with nothing to change, finds
//! different between what is there (the refreshed state) and what the
//! config says, mapped to the requests whose blocks own it.
//!
//! A change owned by no request's block (`module.<module>_<request id>`)
//! is *unmanaged*. Values are kept as JSON text, top-level attributes
//! only, and a sensitive one is never kept at all.

pub mod adopt;

use super::ids::RequestId;
use super::scope::owner;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One top-level attribute that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AttrChange {
    /// The attribute's name (`input`, `bucket`, `retention_in_days`).
    pub name: String,
    /// What is there (the refreshed state, `before`) as JSON text; `None`
    /// when absent or hidden.
    #[serde(default)]
    pub current: Option<String>,
    /// What the config says (`after`) as JSON text; `None` when absent or
    /// hidden.
    #[serde(default)]
    pub desired: Option<String>,
    /// Whether either side is sensitive (then neither value is kept).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

/// One resource that drifted: its address, what a plan would do to bring
/// it back to the config, and (updates) the attributes that differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DriftChange {
    /// Resource address.
    pub address: String,
    /// `create` (gone), `update`, `delete`, `replace`.
    pub action: String,
    /// Updates: the top-level attributes that differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<AttrChange>,
}

/// The drift found on one request, stored on its document until a later
/// drift run finds it clean or it is applied again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Drift {
    /// When the drift run found it (RFC 3339, as the server's clock writes it).
    pub detected_at: String,
    /// The drift run's id.
    pub run: String,
    /// The request's resources that differ.
    pub changes: Vec<DriftChange>,
}

/// The changes of a drift run, by owner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ownership {
    /// Changes to each request's block.
    pub by_request: BTreeMap<RequestId, Vec<DriftChange>>,
    /// Changes no request owns.
    pub unmanaged: Vec<DriftChange>,
}

/// Sorts `changes` by the request whose block holds each resource.
pub fn ownership(changes: &[DriftChange]) -> Ownership {
    let mut out = Ownership::default();
    for change in changes {
        match owner(&change.address) {
            Some(id) => out.by_request.entry(id).or_default().push(change.clone()),
            None => out.unmanaged.push(change.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests;
