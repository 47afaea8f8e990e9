//! What is kept of proposed inputs: every value a description or a model
//! proposes goes through [`check_value`], the same check as a typed
//! answer. A value that fails is dropped and asked again with the reason;
//! a sensitive input is never taken from a proposal.

use super::{question, show};
use crate::domain::config::{Config, FieldError, check_value};
use crate::domain::registry::Module;
use serde_json::Value;

/// Proposed inputs after the check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settled {
    /// The values kept, checked and normalized.
    pub config: Config,
    /// Inputs still without a value, in registry order.
    pub missing: Vec<String>,
    /// The question for each missing input; a dropped value's question
    /// says why it was dropped.
    pub questions: Vec<String>,
    /// Values dropped, with the rule each broke.
    pub dropped: Vec<FieldError>,
}

/// Checks `proposed` against `module`: unknown names and empty values are
/// ignored, sensitive inputs are left to the requester, and each value is
/// checked like a typed answer.
pub fn settle(module: &Module, proposed: &Config) -> Settled {
    let mut out = Settled::default();
    for input in &module.inputs {
        let value = proposed.get(&input.name).filter(|v| {
            !matches!(v, Value::Null) && v.as_str().is_none_or(|s| !s.trim().is_empty())
        });
        let why = match value {
            None => None,
            Some(_) if input.sensitive => Some(
                "is sensitive, so it is never taken from a description: type it yourself"
                    .to_owned(),
            ),
            Some(v) => match check_value(input, v) {
                Ok(v) => {
                    out.config.insert(input.name.clone(), v);
                    continue;
                }
                Err(e) => Some(format!("{}: {e}", show(input, v))),
            },
        };
        out.missing.push(input.name.clone());
        match why {
            Some(why) => {
                out.questions
                    .push(format!("{} {why}. {}", input.name, question(input)));
                out.dropped.push(FieldError {
                    field: input.name.clone(),
                    message: why,
                });
            }
            None => out.questions.push(question(input)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::registry::Registry;
    use serde_json::json;

    fn bucket() -> Module {
        let text = include_str!("../../../../modules-registry.toml");
        let registry = Registry::from_toml("modules-registry.toml", text).expect("loads");
        registry
            .modules
            .into_values()
            .find(|m| m.module_type.as_str() == "s3-bucket")
            .expect("s3-bucket")
    }

    fn config(v: Value) -> Config {
        v.as_object().cloned().expect("an object")
    }

    #[test]
    fn good_values_are_kept_and_the_rest_is_asked() {
        let m = bucket();
        let s = settle(
            &m,
            &config(json!({"name": "team-logs", "expiration_days": 90})),
        );
        assert_eq!(s.config.get("name"), Some(&json!("team-logs")));
        assert_eq!(s.config.get("expiration_days"), Some(&json!(90)));
        assert!(s.dropped.is_empty());
        assert!(!s.missing.contains(&"name".to_owned()));
        assert_eq!(s.missing.len(), s.questions.len());
        assert_eq!(s.missing.len() + 2, m.inputs.len());
    }

    #[test]
    fn a_bad_value_is_dropped_and_asked_again_with_the_reason() {
        let m = bucket();
        let s = settle(
            &m,
            &config(json!({"name": "Not A Bucket!", "expiration_days": 90, "nope": 1})),
        );
        assert!(!s.config.contains_key("name"));
        assert!(!s.config.contains_key("nope"));
        assert_eq!(s.dropped.len(), 1);
        assert_eq!(s.dropped[0].field, "name");
        assert!(
            s.dropped[0].message.contains("must match"),
            "{:?}",
            s.dropped
        );
        let asked = &s.questions[s.missing.iter().position(|n| n == "name").expect("missing")];
        assert!(
            asked.starts_with("name Not A Bucket!: must match"),
            "{asked}"
        );
        let name = m.input("name").expect("name");
        assert!(asked.ends_with(&question(name)), "{asked}");
    }

    #[test]
    fn a_sensitive_input_is_never_taken_from_a_proposal() {
        let text = include_str!("../../../../modules-registry.toml");
        let registry = Registry::from_toml("modules-registry.toml", text).expect("loads");
        let m = registry
            .modules
            .into_values()
            .find(|m| m.inputs.iter().any(|i| i.sensitive))
            .expect("a module with a sensitive input");
        let secret = m.inputs.iter().find(|i| i.sensitive).expect("sensitive");
        let s = settle(&m, &config(json!({ secret.name.clone(): {"A": "x"} })));
        assert!(!s.config.contains_key(&secret.name));
        assert_eq!(s.dropped[0].field, secret.name);
        assert!(s.dropped[0].message.contains("sensitive"));
        assert!(!s.dropped[0].message.contains("A=x"), "{:?}", s.dropped);
    }

    #[test]
    fn a_seeded_chat_asks_only_what_is_left() {
        let m = bucket();
        let s = settle(
            &m,
            &config(json!({"name": "team-logs", "expiration_days": 90})),
        );
        let c = super::super::Conversation::seeded(&m, s.config.clone(), "a bucket team-logs");
        assert_eq!(c.kind(), crate::domain::request::Kind::Create);
        assert!(!c.asking_kind(), "the description said it: new");
        let adopting = super::super::Conversation::seeded(
            &m,
            s.config.clone(),
            "the existing bucket team-logs",
        );
        assert_eq!(adopting.kind(), crate::domain::request::Kind::Adopt);
        assert!(
            c.transcript[0].text.contains("name = team-logs"),
            "{:?}",
            c.transcript
        );
        let asking = c.asking.clone().expect("asks something");
        assert_eq!(asking, s.missing[0]);
        assert!(c.answers.contains_key("expiration_days"));
    }

    #[test]
    fn null_and_blank_values_count_as_not_given() {
        let m = bucket();
        let s = settle(&m, &config(json!({"name": null, "expiration_days": " "})));
        assert!(s.dropped.is_empty());
        assert!(s.missing.contains(&"name".to_owned()));
    }
}
