//! `${label.x}` and `${annotation.x}` in a policy's values: parsed once,
//! when the policy is read, so a typo is refused then and not at 3 a.m.

use super::Alert;
use serde::{Deserialize, Serialize};

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Label(String),
    Annotation(String),
}

/// A value with `${label.x}` / `${annotation.x}` references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Template {
    /// Parses `source`, or says what is wrong with it.
    pub fn parse(source: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(at) = rest.find("${") {
            if at > 0 {
                parts.push(Part::Text(rest[..at].to_owned()));
            }
            let after = &rest[at + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| "has a `${` without its closing `}`".to_owned())?;
            let reference = &after[..end];
            let part = match reference.split_once('.') {
                Some(("label", name)) if is_name(name) => Part::Label(name.to_owned()),
                Some(("annotation", name)) if is_name(name) => Part::Annotation(name.to_owned()),
                _ => {
                    return Err(format!(
                        "refers to `${{{reference}}}`; only `${{label.<name>}}` and `${{annotation.<name>}}` are filled in"
                    ));
                }
            };
            parts.push(part);
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Self {
            source: source.to_owned(),
            parts,
        })
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The labels and annotations it reads, as `label.x` / `annotation.x`.
    pub fn references(&self) -> impl Iterator<Item = String> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Label(n) => Some(format!("label.{n}")),
            Part::Annotation(n) => Some(format!("annotation.{n}")),
            Part::Text(_) => None,
        })
    }

    /// The text with every reference replaced by the alert's value, or
    /// which one the alert lacks.
    pub fn fill(&self, alert: &Alert) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Label(n) => out.push_str(
                    alert
                        .labels
                        .get(n)
                        .ok_or_else(|| format!("the alert has no label `{n}`"))?,
                ),
                Part::Annotation(n) => out.push_str(
                    alert
                        .annotations
                        .get(n)
                        .ok_or_else(|| format!("the alert has no annotation `{n}`"))?,
                ),
            }
        }
        Ok(out)
    }
}

impl Serialize for Template {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let src = String::deserialize(d)?;
        Template::parse(&src).map_err(serde::de::Error::custom)
    }
}
