//! Remediation policies: what tfpilot does when an alert arrives.
//!
//! A policy matches an alert by its labels (exactly, or `=~` a regular
//! expression, anchored like Alertmanager's) and status; the enabled
//! policy with the lowest priority number wins, one per alert. Its
//! action is never a script: it names a request and a pipeline step —
//! new input values (a new revision), a re-plan, a re-apply — or a
//! notice. Values come from the alert through `${label.x}` and
//! `${annotation.x}` and are then read and checked by the registry like
//! any input ([`apply_inputs`]).
//!
//! [`check`] reads a policy from JSON with every field error at once;
//! [`choose`] and [`plan`] decide what an alert leads to.

mod check;
mod condition;
mod inputs;
mod template;
#[cfg(test)]
mod tests;
pub mod webhook;

pub use check::{Context, check, valid_name};
pub use condition::{Condition, LabelMatch};
pub use inputs::apply_inputs;
pub use template::Template;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// An alert's state, as Alertmanager sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// The alert is active.
    Firing,
    /// The alert has ended.
    Resolved,
}

impl AlertStatus {
    /// `firing` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Firing => "firing",
            Self::Resolved => "resolved",
        }
    }
}

/// One alert of an Alertmanager notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Firing or resolved.
    pub status: AlertStatus,
    /// Identifying labels (`alertname`, `severity`, …).
    pub labels: BTreeMap<String, String>,
    /// Descriptive annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Alertmanager's fingerprint of the label set.
    pub fingerprint: String,
    /// When it started firing (RFC 3339, as sent).
    pub starts_at: String,
}

/// What a policy does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// A new revision of the request with some inputs changed.
    UpdateInputs,
    /// Plan the request again.
    Replan,
    /// Apply the request's current config again (reverts drift).
    Reapply,
    /// Tell people; change nothing.
    Notify,
}

impl ActionKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [ActionKind; 4] = [
        Self::UpdateInputs,
        Self::Replan,
        Self::Reapply,
        Self::Notify,
    ];

    /// The wire name (`update_inputs`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UpdateInputs => "update_inputs",
            Self::Replan => "replan",
            Self::Reapply => "reapply",
            Self::Notify => "notify",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the action acts on a request (all but `notify`, where one
    /// is optional).
    pub fn needs_request(self) -> bool {
        self != Self::Notify
    }
}

/// A policy's action, its values still templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemediationAction {
    /// What to do.
    pub kind: ActionKind,
    /// The request acted on (a template giving its id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Template>,
    /// The module the request is of, when the policy says (its inputs are
    /// then checked against that module when the policy is saved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// `update_inputs`: input name → template of its new value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, Template>,
    /// `notify` (and optionally the others): what people are told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Template>,
}

/// A remediation policy, as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    /// Unique name (`queue-backlog`).
    pub name: String,
    /// Lower numbers win when several policies match.
    pub priority: i64,
    /// Disabled policies match nothing.
    pub enabled: bool,
    /// Which alerts it answers.
    pub condition: Condition,
    /// What it does.
    pub action: RemediationAction,
    /// Environments where its changes are approved and applied without a
    /// person (never a production one).
    #[serde(default)]
    pub auto_approve_environments: BTreeSet<String>,
}

/// The policy that answers `alert`: the enabled one with the lowest
/// priority number whose condition matches (ties broken by name).
pub fn choose<'a>(policies: &'a [Remediation], alert: &Alert) -> Option<&'a Remediation> {
    policies
        .iter()
        .filter(|p| p.enabled && p.condition.matches(alert))
        .min_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)))
}

/// A policy's action for one alert, every template filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planned {
    /// What to do.
    pub kind: ActionKind,
    /// The request's id, as the alert gave it (parsed by the caller).
    pub request: Option<String>,
    /// Input name → its new value as text (read by the input's type in
    /// [`apply_inputs`]).
    pub inputs: BTreeMap<String, String>,
    /// What people are told.
    pub message: Option<String>,
}

/// Why a policy's action cannot be filled in for an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PlanError {
    /// The policy field (`action.inputs.max_receive_count`).
    pub field: String,
    /// What is missing.
    pub message: String,
}

/// Fills in `policy`'s action for `alert`.
pub fn plan(policy: &Remediation, alert: &Alert) -> Result<Planned, PlanError> {
    let fill = |field: String, t: &Template| {
        t.fill(alert)
            .map_err(|message| PlanError { field, message })
    };
    let action = &policy.action;
    let request = match &action.request {
        Some(t) => {
            let id = fill("action.request".into(), t)?;
            let id = id.trim();
            if id.is_empty() {
                return Err(PlanError {
                    field: "action.request".into(),
                    message: "is empty for this alert".into(),
                });
            }
            Some(id.to_owned())
        }
        None => None,
    };
    let mut inputs = BTreeMap::new();
    for (name, t) in &action.inputs {
        inputs.insert(name.clone(), fill(format!("action.inputs.{name}"), t)?);
    }
    let message = match &action.message {
        Some(t) => Some(fill("action.message".into(), t)?),
        None => None,
    };
    Ok(Planned {
        kind: action.kind,
        request,
        inputs,
        message,
    })
}
