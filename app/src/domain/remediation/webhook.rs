//! The Alertmanager webhook payload (version 4), read with the field at
//! fault named: `{"version": "4", "groupKey", "status", "receiver",
//! "alerts": [{"status", "labels", "annotations", "fingerprint",
//! "startsAt", …}]}`.

use super::{Alert, AlertStatus};
use crate::domain::config::FieldError;
use serde_json::Value;
use std::collections::BTreeMap;

/// One webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Alertmanager's group key.
    pub group_key: String,
    /// The group's status.
    pub status: AlertStatus,
    /// The receiver's name in `alertmanager.yml`.
    pub receiver: String,
    /// The alerts, in the order sent.
    pub alerts: Vec<Alert>,
}

/// The most alerts one delivery may carry.
pub const MAX_ALERTS: usize = 1000;

fn bad(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

fn text<'a>(
    obj: &'a serde_json::Map<String, Value>,
    at: &str,
    name: &str,
) -> Result<&'a str, FieldError> {
    match obj.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(bad(format!("{at}{name}"), "is required: non-empty text")),
    }
}

fn read_status(obj: &serde_json::Map<String, Value>, at: &str) -> Result<AlertStatus, FieldError> {
    match obj.get("status").and_then(Value::as_str) {
        Some("firing") => Ok(AlertStatus::Firing),
        Some("resolved") => Ok(AlertStatus::Resolved),
        _ => Err(bad(format!("{at}status"), "must be firing or resolved")),
    }
}

fn strings(
    obj: &serde_json::Map<String, Value>,
    at: &str,
    name: &str,
    required: bool,
) -> Result<BTreeMap<String, String>, FieldError> {
    match obj.get(name) {
        None if !required => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(bad(format!("{at}{name}.{k}"), "must be text")),
            })
            .collect(),
        _ => Err(bad(
            format!("{at}{name}"),
            "must be an object of name → text",
        )),
    }
}

/// Reads a delivery, or names the first field that is wrong.
pub fn read(raw: &Value) -> Result<Notification, FieldError> {
    let obj = raw.as_object().ok_or_else(|| {
        bad(
            "body",
            "must be an Alertmanager webhook payload (a JSON object)",
        )
    })?;
    match obj.get("version").and_then(Value::as_str) {
        Some("4") => {}
        _ => {
            return Err(bad(
                "version",
                "must be \"4\", the Alertmanager webhook payload version",
            ));
        }
    }
    let group_key = text(obj, "", "groupKey")?.to_owned();
    let status = read_status(obj, "")?;
    let receiver = match obj.get("receiver") {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(bad("receiver", "must be text, the receiver's name")),
    };
    let items = obj
        .get("alerts")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("alerts", "is required: a list of alerts"))?;
    if items.len() > MAX_ALERTS {
        return Err(bad(
            "alerts",
            format!(
                "has {} alerts; at most {MAX_ALERTS} per delivery (set max_alerts in alertmanager.yml)",
                items.len()
            ),
        ));
    }
    let mut alerts = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("alerts[{i}].");
        let a = item
            .as_object()
            .ok_or_else(|| bad(format!("alerts[{i}]"), "must be an object"))?;
        let labels = strings(a, &at, "labels", true)?;
        if labels.is_empty() {
            return Err(bad(format!("{at}labels"), "must name at least one label"));
        }
        alerts.push(Alert {
            status: read_status(a, &at)?,
            labels,
            annotations: strings(a, &at, "annotations", false)?,
            fingerprint: text(a, &at, "fingerprint")?.to_owned(),
            starts_at: text(a, &at, "startsAt")?.to_owned(),
        });
    }
    Ok(Notification {
        group_key,
        status,
        receiver,
        alerts,
    })
}
