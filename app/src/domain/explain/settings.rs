//! The inputs in words: each input's registry `explain` phrase with its
//! value ("objects expire after 90 days"), in the module's order. Inputs
//! without a phrase, without a value, or sensitive are not mentioned.

use crate::domain::config::Config;
use crate::domain::registry::{Input, InputType, Module};
use serde_json::Value;

/// The phrases of the inputs `config` sets, in input order.
pub fn phrases(module: &Module, config: &Config) -> Vec<String> {
    module
        .inputs
        .iter()
        .filter(|i| !i.sensitive)
        .filter_map(|i| phrase(i, config.get(&i.name)?))
        .collect()
}

fn phrase(input: &Input, value: &Value) -> Option<String> {
    if input.ty == InputType::Bool {
        return match value.as_bool()? {
            true => input.explain.clone(),
            false => input.explain_off.clone(),
        };
    }
    let text = shown(value)?;
    Some(input.explain.as_ref()?.replacen("{value}", &text, 1))
}

/// A value as the phrase shows it; `None` when there is nothing to say
/// (null, empty). A map shows its keys only.
fn shown(value: &Value) -> Option<String> {
    let text = match value {
        Value::Null | Value::Bool(_) => return None,
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => u.to_string(),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Array(items) => super::words::list(
            &items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect::<Vec<_>>(),
        ),
        Value::Object(map) => super::words::list(&map.keys().cloned().collect::<Vec<_>>()),
    };
    (!text.is_empty()).then_some(text)
}
