//! Which alerts a policy answers: every label it names, exactly or by an
//! anchored regular expression (`=~`), and the alert's status.

use super::{Alert, AlertStatus};
use crate::domain::registry::Pattern;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How one label is matched.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelMatch {
    /// The value, exactly.
    Exact(String),
    /// `=~<regex>`: the whole value matches (anchored, as in Alertmanager).
    Regex {
        /// The expression as written (without `=~`).
        source: String,
        /// Compiled as `^(?:source)$`.
        pattern: Pattern,
    },
}

impl Eq for LabelMatch {}

impl LabelMatch {
    /// Reads a condition value: `=~<regex>`, else an exact value.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.strip_prefix("=~") {
            Some(source) => {
                let pattern = Pattern::new(&format!("^(?:{source})$"))
                    .map_err(|e| format!("is not a valid regular expression: {e}"))?;
                Ok(Self::Regex {
                    source: source.to_owned(),
                    pattern,
                })
            }
            None => Ok(Self::Exact(text.to_owned())),
        }
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(v) => v == value,
            Self::Regex { pattern, .. } => pattern.is_match(value),
        }
    }

    fn text(&self) -> String {
        match self {
            Self::Exact(v) => v.clone(),
            Self::Regex { source, .. } => format!("=~{source}"),
        }
    }
}

impl Serialize for LabelMatch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

impl<'de> Deserialize<'de> for LabelMatch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        LabelMatch::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A policy's condition (stored in its `labels` form; the single-label
/// form `{"label", "value"}` is read by `check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// Every one must match; a label the alert lacks never does.
    pub labels: BTreeMap<String, LabelMatch>,
    /// The alert status it answers (`None`: both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AlertStatus>,
}

impl Condition {
    /// Whether `alert` meets the condition.
    pub fn matches(&self, alert: &Alert) -> bool {
        self.status.is_none_or(|s| s == alert.status)
            && self
                .labels
                .iter()
                .all(|(name, m)| alert.labels.get(name).is_some_and(|v| m.matches(v)))
    }
}
