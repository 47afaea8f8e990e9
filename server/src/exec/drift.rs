//! Drift checks: a plan of the tip of the default branch with nothing to
//! change, run under the environment's apply serialization. Exit code 2 of
//! `terraform plan -detailed-exitcode` is drift; its changes are read from
//! `terraform show -json`: each resource's address, action and, for an
//! update, the top-level attributes that differ (what is there, `before`,
//! and what the config says, `after`), a sensitive one never kept.

use app::domain::drift::{AttrChange, DriftChange};
use app::domain::ids::{EnvName, ProjectKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A drift check of one project + environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftSpec {
    /// Project.
    pub project: ProjectKey,
    /// Environment (`envs/<env>`).
    pub environment: EnvName,
    /// The drift run's id (`drift-<project>-<env>-<n>`), recorded before it
    /// runs: an executor finds its run again by it, never starting two.
    pub run_id: String,
}

impl DriftSpec {
    /// The `run-name` of the drift workflow and the message of a TFC run:
    /// `tfpilot drift <project> <env> <run id>`.
    pub fn run_name(&self) -> String {
        format!(
            "tfpilot drift {} {} {}",
            self.project, self.environment, self.run_id
        )
    }
}

/// What a drift check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftReport {
    /// The drift run's id.
    pub run_id: String,
    /// The tip of the default branch it planned.
    pub sha: String,
    /// The resources that differ from the config (none: no drift).
    pub changes: Vec<DriftChange>,
    /// A link to the run, when the executor has one.
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Deserialize)]
struct ShowJson {
    #[serde(default)]
    resource_changes: Vec<RawChange>,
}

#[derive(Deserialize)]
struct RawChange {
    address: String,
    change: RawValues,
}

#[derive(Deserialize)]
struct RawValues {
    actions: Vec<String>,
    #[serde(default)]
    before: Value,
    #[serde(default)]
    after: Value,
    #[serde(default)]
    after_unknown: Value,
    #[serde(default)]
    before_sensitive: Value,
    #[serde(default)]
    after_sensitive: Value,
}

/// Whether a sensitivity marker (`true`, or an object/array holding one)
/// marks anything.
fn marks(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Array(a) => a.iter().any(marks),
        Value::Object(o) => o.values().any(marks),
        _ => false,
    }
}

fn field<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

/// Parses `terraform show -json <planfile>` of a drift check into the
/// resources that differ, in address order.
pub fn parse_drift_json(json: &[u8]) -> Result<Vec<DriftChange>, serde_json::Error> {
    let show: ShowJson = serde_json::from_slice(json)?;
    let mut out = Vec::new();
    for rc in show.resource_changes {
        let acts: Vec<&str> = rc.change.actions.iter().map(String::as_str).collect();
        let action = match acts.as_slice() {
            ["create"] => "create",
            ["update"] => "update",
            ["delete"] => "delete",
            ["delete", "create"] | ["create", "delete"] => "replace",
            _ => continue, // no-op, read
        };
        let mut attributes = Vec::new();
        if matches!(action, "update" | "replace") {
            let c = &rc.change;
            let mut keys: Vec<&String> = c
                .before
                .as_object()
                .into_iter()
                .chain(c.after.as_object())
                .flat_map(|o| o.keys())
                .collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let (before, after) = (field(&c.before, key), field(&c.after, key));
                if before == after {
                    continue;
                }
                // Computed after apply (an `id`, an `output`): a consequence,
                // not what differs.
                if after.is_null() && marks(field(&c.after_unknown, key)) {
                    continue;
                }
                let sensitive =
                    marks(field(&c.before_sensitive, key)) || marks(field(&c.after_sensitive, key));
                let text = |v: &Value| (!sensitive && !v.is_null()).then(|| v.to_string());
                attributes.push(AttrChange {
                    name: key.clone(),
                    current: text(before),
                    desired: text(after),
                    sensitive,
                });
            }
        }
        out.push(DriftChange {
            address: rc.address,
            action: action.to_owned(),
            attributes,
        });
    }
    out.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(out)
}

#[cfg(test)]
mod tests;
