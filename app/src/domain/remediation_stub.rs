//! Stand-in for `domain::remediation` until it lands: the same
//! signatures, the simplest behaviour. Removed at the merge.
#![allow(missing_docs)]

use super::config::{Config, FieldError, check_value};
use super::registry::{InputType, Module};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub status: AlertStatus,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub fingerprint: String,
    pub starts_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub status: Option<AlertStatus>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    UpdateInputs,
    Replan,
    Reapply,
    Notify,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemediationAction {
    pub kind: ActionKind,
    #[serde(default)]
    pub request: Option<String>,
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    pub name: String,
    pub priority: i64,
    pub enabled: bool,
    pub condition: Condition,
    pub action: RemediationAction,
    #[serde(default)]
    pub auto_approve_environments: BTreeSet<String>,
}

pub fn choose<'a>(policies: &'a [Remediation], alert: &Alert) -> Option<&'a Remediation> {
    let mut matching: Vec<&Remediation> = policies
        .iter()
        .filter(|p| p.enabled)
        .filter(|p| p.condition.status.is_none_or(|s| s == alert.status))
        .filter(|p| {
            p.condition
                .labels
                .iter()
                .all(|(k, v)| alert.labels.get(k) == Some(v))
        })
        .collect();
    matching.sort_by(|a, b| a.priority.cmp(&b.priority).then(a.name.cmp(&b.name)));
    matching.first().copied()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planned {
    pub kind: ActionKind,
    pub request: Option<String>,
    pub inputs: BTreeMap<String, String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub field: String,
    pub message: String,
}

fn interpolate(text: &str, alert: &Alert, field: &str) -> Result<String, PlanError> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').ok_or_else(|| PlanError {
            field: field.into(),
            message: "unclosed ${".into(),
        })? + start;
        let name = &rest[start + 2..end];
        let value = match name.split_once('.') {
            Some(("label", k)) => alert.labels.get(k),
            Some(("annotation", k)) => alert.annotations.get(k),
            _ => None,
        }
        .ok_or_else(|| PlanError {
            field: field.into(),
            message: format!("the alert has no {name}"),
        })?;
        out.push_str(value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

pub fn plan(policy: &Remediation, alert: &Alert) -> Result<Planned, PlanError> {
    let a = &policy.action;
    Ok(Planned {
        kind: a.kind,
        request: a
            .request
            .as_deref()
            .map(|r| interpolate(r, alert, "action.request"))
            .transpose()?,
        inputs: a
            .inputs
            .iter()
            .map(|(k, v)| {
                Ok((
                    k.clone(),
                    interpolate(v, alert, &format!("action.inputs.{k}"))?,
                ))
            })
            .collect::<Result<_, PlanError>>()?,
        message: a
            .message
            .as_deref()
            .map(|m| interpolate(m, alert, "action.message"))
            .transpose()?,
    })
}

pub fn apply_inputs(
    module: &Module,
    current: &Config,
    inputs: &BTreeMap<String, String>,
) -> Result<Config, FieldError> {
    let mut next = current.clone();
    for (name, text) in inputs {
        let input = module
            .inputs
            .iter()
            .find(|i| &i.name == name)
            .ok_or_else(|| FieldError {
                field: name.clone(),
                message: "is not an input of the module".into(),
            })?;
        let value = match input.ty {
            InputType::Number => text
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|n| {
                    if n.fract() == 0.0 && n.abs() < 9.0e15 {
                        Some(serde_json::Number::from(n as i64))
                    } else {
                        serde_json::Number::from_f64(n)
                    }
                })
                .map(Value::Number)
                .ok_or_else(|| FieldError {
                    field: name.clone(),
                    message: format!("must be a number, not `{text}`"),
                })?,
            InputType::Bool => Value::Bool(text.trim() == "true"),
            _ => Value::String(text.clone()),
        };
        let value = check_value(input, &value).map_err(|e| FieldError {
            field: name.clone(),
            message: e.to_string(),
        })?;
        next.insert(name.clone(), value);
    }
    Ok(next)
}
