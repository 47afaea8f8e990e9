//! The JSON:API documents tfpilot reads and writes: runs, configuration
//! versions, workspaces, plans and applies, cost estimates and policy
//! checks — only the attributes it uses.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;

/// `{"data": …}`.
#[derive(Debug, Deserialize)]
pub struct Doc<T> {
    /// The primary data.
    pub data: T,
    /// Pagination, on lists.
    #[serde(default)]
    pub meta: Option<Meta>,
}

/// `meta` of a list.
#[derive(Debug, Default, Deserialize)]
pub struct Meta {
    /// Pages.
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

/// `meta.pagination`.
#[derive(Debug, Default, Deserialize)]
pub struct Pagination {
    /// The next page's number, if there is one.
    #[serde(rename = "next-page", default)]
    pub next_page: Option<u32>,
}

/// One resource object.
#[derive(Debug, Deserialize)]
pub struct Resource<A> {
    /// Its id (`run-…`, `ws-…`).
    pub id: String,
    /// Its attributes.
    pub attributes: A,
    /// Its relationships.
    #[serde(default)]
    pub relationships: HashMap<String, Relationship>,
}

/// One relationship: a resource identifier (or a list, or null).
#[derive(Debug, Default, Deserialize)]
pub struct Relationship {
    /// `{"id", "type"}`, a list of them, or null.
    #[serde(default)]
    pub data: Value,
}

impl<A> Resource<A> {
    /// The id the to-one relationship `name` points at.
    pub fn related(&self, name: &str) -> Option<&str> {
        self.relationships.get(name)?.data.get("id")?.as_str()
    }
}

/// A workspace.
#[derive(Debug, Deserialize)]
pub struct WorkspaceAttrs {
    /// Locked by a person or a run.
    #[serde(default)]
    pub locked: bool,
}

/// A configuration version.
#[derive(Debug, Deserialize)]
pub struct ConfigVersionAttrs {
    /// `pending`, `uploaded`, `errored`, `archived`…
    pub status: String,
    /// Where the archive goes (creation only).
    #[serde(rename = "upload-url", default)]
    pub upload_url: Option<String>,
    /// Why it errored.
    #[serde(rename = "error-message", default)]
    pub error_message: Option<String>,
}

/// A run.
#[derive(Debug, Clone, Deserialize)]
pub struct RunAttrs {
    /// The run state machine's status.
    pub status: String,
    /// tfpilot's run name (and, for applies, the commit).
    #[serde(default)]
    pub message: String,
    /// What the run may do next (absent on old installations).
    #[serde(default)]
    pub actions: Option<RunActions>,
    /// Runs waiting ahead of it in the workspace's queue.
    #[serde(rename = "position-in-queue", default)]
    pub position_in_queue: Option<u32>,
    /// Whether its plan changes anything (known once planned).
    #[serde(rename = "has-changes", default)]
    pub has_changes: Option<bool>,
}

/// `attributes.actions` of a run.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RunActions {
    /// Waiting for `actions/apply`.
    #[serde(rename = "is-confirmable", default)]
    pub is_confirmable: bool,
}

/// A plan or an apply.
#[derive(Debug, Deserialize)]
pub struct PhaseAttrs {
    /// `pending`, `running`, `finished`, `errored`…
    pub status: String,
    /// Its log, readable without the token.
    #[serde(rename = "log-read-url", default)]
    pub log_read_url: Option<String>,
}

/// A cost estimate.
#[derive(Debug, Deserialize)]
pub struct CostAttrs {
    /// `pending`, `queued`, `finished`, `errored`, `canceled`,
    /// `skipped_due_to_targeting`.
    pub status: String,
    /// Monthly cost with the change, in dollars.
    #[serde(rename = "proposed-monthly-cost", default)]
    pub proposed: Option<String>,
    /// Its difference from now.
    #[serde(rename = "delta-monthly-cost", default)]
    pub delta: Option<String>,
}

/// A policy check (Sentinel).
#[derive(Debug, Deserialize)]
pub struct PolicyAttrs {
    /// `passed`, `soft_failed`, `hard_failed`, `overridden`, `errored`…
    pub status: String,
    /// Counts.
    #[serde(default)]
    pub result: Option<PolicyResult>,
}

/// A policy evaluation of a task stage (OPA, or Sentinel in the newer
/// policy framework).
#[derive(Debug, Deserialize)]
pub struct EvaluationAttrs {
    /// `passed`, `failed`, `errored`, `overridden`, `pending`…
    pub status: String,
    /// `opa` or `sentinel`.
    #[serde(rename = "policy-kind", default)]
    pub policy_kind: String,
    /// Counts.
    #[serde(rename = "result-count", default)]
    pub result_count: Option<EvaluationCount>,
}

/// `attributes.result-count` of a policy evaluation.
#[derive(Debug, Default, Deserialize)]
pub struct EvaluationCount {
    /// Policies that passed.
    #[serde(default)]
    pub passed: u32,
    /// Advisory failures.
    #[serde(rename = "advisory-failed", default)]
    pub advisory_failed: u32,
    /// Mandatory failures.
    #[serde(rename = "mandatory-failed", default)]
    pub mandatory_failed: u32,
    /// Policies that could not be evaluated.
    #[serde(default)]
    pub errored: u32,
}

/// `attributes.result` of a policy check.
#[derive(Debug, Default, Deserialize)]
pub struct PolicyResult {
    /// Policies that passed.
    #[serde(default)]
    pub passed: u32,
    /// Hard-mandatory failures.
    #[serde(rename = "hard-failed", default)]
    pub hard_failed: u32,
    /// Soft-mandatory failures.
    #[serde(rename = "soft-failed", default)]
    pub soft_failed: u32,
    /// Advisory failures.
    #[serde(rename = "advisory-failed", default)]
    pub advisory_failed: u32,
}

/// A body as `T`, the error worded for `what`.
pub fn parse<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, super::TfcError> {
    serde_json::from_slice(bytes).map_err(|e| super::TfcError::Decode {
        what: what.to_owned(),
        message: e.to_string(),
    })
}

/// The creation of a configuration version.
pub fn new_config_version(speculative: bool) -> Value {
    json!({ "data": {
        "type": "configuration-versions",
        "attributes": { "auto-queue-runs": false, "speculative": speculative },
    }})
}

/// The creation of a run.
pub fn new_run(
    workspace: &str,
    config_version: &str,
    message: &str,
    plan_only: bool,
    targets: &[String],
) -> Value {
    let mut attributes = json!({
        "message": message,
        "plan-only": plan_only,
        "auto-apply": false,
        "is-destroy": false,
    });
    if !targets.is_empty() {
        attributes["target-addrs"] = json!(targets);
    }
    json!({ "data": {
        "type": "runs",
        "attributes": attributes,
        "relationships": {
            "workspace": { "data": { "type": "workspaces", "id": workspace } },
            "configuration-version": {
                "data": { "type": "configuration-versions", "id": config_version }
            },
        },
    }})
}

/// The body of `actions/apply` and `actions/discard`.
pub fn comment(text: &str) -> Value {
    json!({ "comment": text })
}
