//! Validation and normalization of a request's inputs against its module.
//!
//! [`normalize`] returns every field error at once, so a form can show them
//! all; on success the config has every input (absent optional ones as
//! `null`), defaults filled in, unknown keys stripped and computed tags
//! merged.

use super::ids::Target;
use super::registry::{Input, InputType, Module};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The name of the map input that receives tfpilot's computed tags.
pub const TAGS_INPUT: &str = "tags";
/// What a sensitive value looks like anywhere it is shown.
pub const REDACTED: &str = "(sensitive)";

/// A normalized config: input name → value.
pub type Config = Map<String, Value>;

/// One field's problem, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The input (`name`, or `subnet_ids[2]` for a list item).
    pub field: String,
    /// What is wrong ("must match ^[a-z]+$").
    pub message: String,
}

/// Validates `raw` against `module` and returns the normalized config, or
/// every field error.
pub fn normalize(
    module: &Module,
    raw: &Config,
    ctx: Target<'_>,
) -> Result<Config, Vec<FieldError>> {
    let mut out = Config::new();
    let mut errors = Vec::new();
    for input in &module.inputs {
        let given = raw.get(&input.name).filter(|v| !is_blank(v));
        let value = match (given, &input.default) {
            (Some(v), _) => match check_value(input, v) {
                Ok(v) => v,
                Err(message) => {
                    errors.push(FieldError {
                        field: error_field(input, &message),
                        message: message.text,
                    });
                    continue;
                }
            },
            (None, Some(default)) => default.clone(),
            (None, None) if input.required => {
                errors.push(FieldError {
                    field: input.name.clone(),
                    message: "is required".into(),
                });
                continue;
            }
            (None, None) => Value::Null,
        };
        out.insert(input.name.clone(), value);
    }
    if let Some(tags) = module.input(TAGS_INPUT) {
        let mut merged = match out.remove(&tags.name) {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let computed = [
            "tfpilot",
            ctx.request_id.as_str(),
            ctx.project.as_str(),
            ctx.environment.as_str(),
        ];
        for (k, v) in COMPUTED_TAGS.into_iter().zip(computed) {
            merged.insert(k.to_owned(), Value::String(v.to_owned()));
        }
        out.insert(tags.name.clone(), Value::Object(merged));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The tags tfpilot computes and merges into [`TAGS_INPUT`] (they win over
/// a user's tag of the same key).
pub const COMPUTED_TAGS: [&str; 4] = ["ManagedBy", "TfPilotRequestId", "Project", "Environment"];

/// A normalized config as the user's answers: the computed tags taken out
/// of [`TAGS_INPUT`] (normalizing again puts them back), so changing a
/// request shows and edits only what its requester chose.
pub fn user_answers(module: &Module, config: &Config) -> Config {
    let mut out = config.clone();
    if module.input(TAGS_INPUT).is_some()
        && let Some(Value::Object(tags)) = out.get_mut(TAGS_INPUT)
    {
        for key in COMPUTED_TAGS {
            tags.remove(key);
        }
    }
    out
}

/// Refuses changes of immutable inputs between two normalized configs.
pub fn check_update(module: &Module, old: &Config, new: &Config) -> Result<(), Vec<FieldError>> {
    let errors: Vec<_> = module
        .inputs
        .iter()
        .filter(|i| i.immutable && old.get(&i.name) != new.get(&i.name))
        .map(|i| FieldError {
            field: i.name.clone(),
            message: "cannot be changed after the request is created (it is immutable)".into(),
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A copy of `config` with every sensitive input replaced by [`REDACTED`].
pub fn redact(module: &Module, config: &Config) -> Config {
    let mut out = config.clone();
    for input in module.inputs.iter().filter(|i| i.sensitive) {
        if let Some(v) = out.get_mut(&input.name)
            && !v.is_null()
        {
            *v = Value::String(REDACTED.into());
        }
    }
    out
}

/// A sensitive input sent back as `(sensitive)` (as every reader sees it)
/// keeps its stored value: an update never has to know a secret to leave it
/// alone.
pub fn keep_redacted(module: &Module, current: &Config, raw: &Config) -> Config {
    let mut out = raw.clone();
    for input in module.inputs.iter().filter(|i| i.sensitive) {
        if out.get(&input.name).and_then(Value::as_str) == Some(REDACTED)
            && let Some(old) = current.get(&input.name)
        {
            out.insert(input.name.clone(), old.clone());
        }
    }
    out
}

/// Why a single value was refused; `item` points into a list or map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// The list index or map key at fault, if any.
    pub item: Option<String>,
    /// The rule, in words.
    pub text: String,
}

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.item {
            Some(item) => write!(f, "{item}: {}", self.text),
            None => f.write_str(&self.text),
        }
    }
}

fn error_field(input: &Input, e: &ValueError) -> String {
    match &e.item {
        Some(item) => format!("{}{item}", input.name),
        None => input.name.clone(),
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// A number as people write it (`90`, `0.5`), without the float formatter
/// (which would double the size of the browser bundle's number code).
fn num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        (n as i64).to_string()
    } else {
        serde_json::Number::from_f64(n).map_or_else(|| "NaN".to_owned(), |x| x.to_string())
    }
}

fn err(text: impl Into<String>) -> ValueError {
    ValueError {
        item: None,
        text: text.into(),
    }
}

/// Checks one value against its input and returns it normalized (an enum
/// given as a number becomes its string).
pub fn check_value(input: &Input, value: &Value) -> Result<Value, ValueError> {
    match input.ty {
        InputType::String => {
            let s = value.as_str().ok_or_else(|| err("must be text"))?;
            check_len(input, s.chars().count(), "characters")?;
            check_pattern(input, s)?;
            Ok(value.clone())
        }
        InputType::Number => {
            let n = value.as_f64().ok_or_else(|| err("must be a number"))?;
            if input.integer && n.fract() != 0.0 {
                return Err(err("must be a whole number"));
            }
            if let Some(min) = input.min
                && n < min
            {
                return Err(err(format!("must be at least {}", num(min))));
            }
            if let Some(max) = input.max
                && n > max
            {
                return Err(err(format!("must be at most {}", num(max))));
            }
            Ok(value.clone())
        }
        InputType::Bool => match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => Err(err("must be true or false")),
        },
        InputType::Enum => {
            let s = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err(err(format!("must be one of: {}", input.values.join(", ")))),
            };
            if input.values.contains(&s) {
                Ok(Value::String(s))
            } else {
                Err(err(format!("must be one of: {}", input.values.join(", "))))
            }
        }
        InputType::List => {
            let items = value
                .as_array()
                .ok_or_else(|| err("must be a list of text values"))?;
            check_len(input, items.len(), "items")?;
            for (i, item) in items.iter().enumerate() {
                let at = |e: ValueError| ValueError {
                    item: Some(format!("[{i}]")),
                    text: e.text,
                };
                let s = item.as_str().ok_or_else(|| at(err("must be text")))?;
                check_pattern(input, s).map_err(at)?;
            }
            Ok(value.clone())
        }
        InputType::Map => {
            let map = value
                .as_object()
                .ok_or_else(|| err("must be a map of text keys to text values"))?;
            check_len(input, map.len(), "entries")?;
            for (k, v) in map {
                let at = |text: &str| ValueError {
                    item: Some(format!(".{k}")),
                    text: text.to_owned(),
                };
                if k.trim().is_empty() || k.chars().count() > 128 {
                    return Err(at("keys must be 1 to 128 characters"));
                }
                if !v.is_string() {
                    return Err(at("must be text"));
                }
            }
            Ok(value.clone())
        }
    }
}

fn check_len(input: &Input, len: usize, unit: &str) -> Result<(), ValueError> {
    let len = len as f64;
    if let Some(min) = input.min
        && len < min
    {
        return Err(err(format!("must have at least {} {unit}", num(min))));
    }
    if let Some(max) = input.max
        && len > max
    {
        return Err(err(format!("must have at most {} {unit}", num(max))));
    }
    Ok(())
}

fn check_pattern(input: &Input, s: &str) -> Result<(), ValueError> {
    match &input.pattern {
        Some(p) if !p.is_match(s) => Err(err(format!("must match {}", p.as_str()))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
