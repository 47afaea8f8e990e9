//! A request's drift on its page: what differs (address, action, the
//! attribute or the key inside it, what is there and what the config
//! says; a sensitive value never), and the two answers, Revert and Adopt.

use crate::domain::config::REDACTED;
use crate::domain::drift::DriftChange;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One difference as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftRow {
    /// Resource address.
    pub address: String,
    /// `create` (gone), `update`, `delete`, `replace`.
    pub action: String,
    /// The attribute, with the keys into it (`input.max_receive_count`);
    /// empty for a resource that is gone or not in the config.
    pub attribute: String,
    /// What is there (JSON text, `(sensitive)`, or `—` when absent).
    pub current: String,
    /// What the config says.
    pub desired: String,
}

/// One input Adopt would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdoptRow {
    /// Input name.
    pub input: String,
    /// Its value now (JSON text).
    pub from: String,
    /// What is there (JSON text).
    pub to: String,
}

/// The drift section of the request page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftView {
    /// When the drift run found it.
    pub detected_at: String,
    /// The drift run's id.
    pub run: String,
    /// What differs, one row per attribute (or key inside one).
    pub rows: Vec<DriftRow>,
    /// Why the caller cannot revert now, if not.
    pub revert_refused: Option<String>,
    /// The inputs Adopt would change (empty when it cannot).
    pub adopt: Vec<AdoptRow>,
    /// Why Adopt is not offered: the drift cannot be adopted, or the
    /// caller may not change the inputs now.
    pub adopt_refused: Option<String>,
}

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".to_owned(),
        Some(v) => v.to_string(),
    }
}

/// Every difference of two values under `at`: objects on both sides are
/// opened key by key, anything else is one row.
fn diff(
    at: &mut Vec<String>,
    cur: Option<&Value>,
    des: Option<&Value>,
    out: &mut Vec<(String, String, String)>,
) {
    if cur == des {
        return;
    }
    if let (Some(Value::Object(a)), Some(Value::Object(b))) = (cur, des) {
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            at.push(k.clone());
            diff(at, a.get(k), b.get(k), out);
            at.pop();
        }
        return;
    }
    out.push((at.join("."), text(cur), text(des)));
}

/// The page's rows of a drift: each attribute that differs, opened down to
/// the keys that differ inside an object (`input.max_receive_count`).
pub fn rows(changes: &[DriftChange]) -> Vec<DriftRow> {
    let mut out = Vec::new();
    for c in changes {
        let row = |attribute: String, current: String, desired: String| DriftRow {
            address: c.address.clone(),
            action: c.action.clone(),
            attribute,
            current,
            desired,
        };
        if c.attributes.is_empty() {
            let (current, desired) = match c.action.as_str() {
                "create" => ("(gone)", "(exists)"),
                "delete" => ("(exists)", "(not in the config)"),
                _ => ("—", "—"),
            };
            out.push(row(String::new(), current.into(), desired.into()));
            continue;
        }
        for a in &c.attributes {
            if a.sensitive {
                out.push(row(a.name.clone(), REDACTED.into(), REDACTED.into()));
                continue;
            }
            let parse = |t: &Option<String>| {
                t.as_deref()
                    .and_then(|t| serde_json::from_str::<Value>(t).ok())
            };
            let mut found = Vec::new();
            diff(
                &mut vec![a.name.clone()],
                parse(&a.current).as_ref(),
                parse(&a.desired).as_ref(),
                &mut found,
            );
            out.extend(
                found
                    .into_iter()
                    .map(|(attr, cur, des)| row(attr, cur, des)),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::drift::AttrChange;

    fn attr(
        name: &str,
        current: Option<&str>,
        desired: Option<&str>,
        sensitive: bool,
    ) -> AttrChange {
        AttrChange {
            name: name.into(),
            current: current.map(str::to_owned),
            desired: desired.map(str::to_owned),
            sensitive,
        }
    }

    #[test]
    fn rows_open_objects_down_to_the_keys_that_differ_and_hide_secrets() {
        let changes = [
            DriftChange {
                address: "module.a.terraform_data.this".into(),
                action: "update".into(),
                attributes: vec![
                    attr(
                        "input",
                        Some(r#"{"n":5,"name":"q","tags":{"a":"1","b":"2"}}"#),
                        Some(r#"{"n":3,"name":"q","tags":{"a":"1"}}"#),
                        false,
                    ),
                    attr("password", None, None, true),
                ],
            },
            DriftChange {
                address: "module.b.aws_sqs_queue.this".into(),
                action: "update".into(),
                attributes: vec![attr("delay_seconds", Some("10"), None, false)],
            },
            DriftChange {
                address: "module.c.terraform_data.this".into(),
                action: "create".into(),
                attributes: vec![],
            },
        ];
        let got: Vec<(String, String, String)> = rows(&changes)
            .into_iter()
            .map(|r| (r.attribute, r.current, r.desired))
            .collect();
        let want = [
            ("input.n", "5", "3"),
            ("input.tags.b", "\"2\"", "—"),
            ("password", "(sensitive)", "(sensitive)"),
            ("delay_seconds", "10", "—"),
            ("", "(gone)", "(exists)"),
        ];
        let want: Vec<(String, String, String)> = want
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        assert_eq!(got, want);
    }
}
