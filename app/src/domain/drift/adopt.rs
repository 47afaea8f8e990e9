//! Adopting drift: the request's inputs changed to match what is there,
//! where the module's inputs can say it — each input's registry
//! `attribute` names where it lands — or every reason they cannot.
//!
//! Only updates are adopted: a resource that is gone, or one the config
//! does not have, is no value of an input. A differing attribute no input
//! lands in, a sensitive attribute or input, an immutable input, a value
//! that breaks the input's rule, or one tfpilot would not keep as it is
//! (its computed tags) each stop the adoption with a sentence.

use super::{AttrChange, Drift, DriftChange};
use crate::domain::config::{self, Config};
use crate::domain::ids::Target;
use crate::domain::registry::{AttributePath, Input, Module};
use serde_json::Value;
use std::fmt;

/// One input the adoption changes.
#[derive(Debug, Clone, PartialEq)]
pub struct AdoptedInput {
    /// The input.
    pub name: String,
    /// Its value in the request's config.
    pub from: Value,
    /// What is there.
    pub to: Value,
}

/// A drift that inputs can express: the new config and what changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Adoption {
    /// The request's config with what is there, normalized.
    pub config: Config,
    /// The inputs that change, in the module's order.
    pub inputs: Vec<AdoptedInput>,
}

/// Why a drift cannot be adopted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Obstacle {
    /// The request has no drift, or none that changes an input.
    Nothing,
    /// The resource is gone (a plan would create it).
    Gone {
        /// Resource address.
        address: String,
    },
    /// The resource is there but the config has none (a plan would delete it).
    Unwanted {
        /// Resource address.
        address: String,
    },
    /// A sensitive attribute differs: its value is never read.
    Hidden {
        /// Resource address.
        address: String,
        /// The attribute.
        attribute: String,
    },
    /// Part of an attribute differs that no input lands in.
    Unexpressed {
        /// Resource address.
        address: String,
        /// The attribute, with the keys into it (`input.dlq_name`).
        attribute: String,
    },
    /// The input is sensitive: what is there is never copied.
    SensitiveInput {
        /// The input.
        input: String,
    },
    /// The input cannot change after creation.
    Immutable {
        /// The input.
        input: String,
    },
    /// What is there breaks the input's rule.
    Invalid {
        /// The input.
        input: String,
        /// The rule, in words.
        message: String,
    },
    /// tfpilot would not keep the value as it is there.
    NotKept {
        /// The input.
        input: String,
    },
}

impl fmt::Display for Obstacle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nothing => f.write_str("the drift changes no value an input of the module sets"),
            Self::Gone { address } => write!(
                f,
                "`{address}` is gone, and no input can say a resource should not exist (revert creates it again)"
            ),
            Self::Unwanted { address } => write!(
                f,
                "`{address}` is there but the config has no such resource, and no input can express it"
            ),
            Self::Hidden { address, attribute } => write!(
                f,
                "`{attribute}` of `{address}` is sensitive, so tfpilot never reads what is there"
            ),
            Self::Unexpressed { address, attribute } => write!(
                f,
                "`{attribute}` of `{address}` differs, and no input of the module sets it"
            ),
            Self::SensitiveInput { input } => write!(
                f,
                "input `{input}` is sensitive, and tfpilot never copies a secret from what is there"
            ),
            Self::Immutable { input } => write!(
                f,
                "input `{input}` cannot change after the request is created (it is immutable)"
            ),
            Self::Invalid { input, message } => {
                write!(f, "what is there for input `{input}` {message}")
            }
            Self::NotKept { input } => write!(
                f,
                "input `{input}` would not keep what is there as it is (tfpilot sets part of it itself)"
            ),
        }
    }
}

/// The obstacles as one sentence: `The drift cannot be adopted: …; ….`
pub fn sentence(obstacles: &[Obstacle]) -> String {
    let list: Vec<String> = obstacles.iter().map(ToString::to_string).collect();
    format!("The drift cannot be adopted: {}.", list.join("; "))
}

/// The value at `keys` inside `v` (null when absent).
fn at<'a>(v: &'a Value, keys: &[String]) -> &'a Value {
    keys.iter()
        .try_fold(v, |v, k| v.get(k))
        .unwrap_or(&Value::Null)
}

fn parse(text: &Option<String>) -> Value {
    text.as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

/// The parts of an attribute that differ and no input covers, as
/// `attribute.key…`.
fn uncovered(
    cur: &Value,
    des: &Value,
    at: &mut Vec<String>,
    covered: &[&[String]],
    out: &mut Vec<String>,
) {
    if cur == des || covered.iter().any(|c| at.starts_with(c)) {
        return;
    }
    let deeper = covered
        .iter()
        .any(|c| c.starts_with(at) && c.len() > at.len());
    match (cur, des) {
        (Value::Object(a), Value::Object(b)) if deeper => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                at.push(k.clone());
                let (x, y) = (
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                );
                uncovered(x, y, at, covered, out);
                at.pop();
            }
        }
        _ => out.push(at.join(".")),
    }
}

/// The address inside the module's block (`terraform_data.this`), without
/// indexes; `None` outside it.
fn inside(module: &Module, target: Target<'_>, address: &str) -> Option<String> {
    let prefix = format!("module.{}_{}.", module.module_type, target.request_id);
    let rest = address.strip_prefix(&prefix)?;
    let mut out = String::with_capacity(rest.len());
    let mut depth = 0;
    for c in rest.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    Some(out)
}

/// Reads one differing attribute: the inputs it gives new values to, or
/// the obstacles.
fn attribute(
    module: &Module,
    change: &DriftChange,
    resource: Option<&str>,
    attr: &AttrChange,
    found: &mut Vec<(usize, Value)>,
    obstacles: &mut Vec<Obstacle>,
) {
    let address = change.address.clone();
    if attr.sensitive {
        obstacles.push(Obstacle::Hidden {
            address,
            attribute: attr.name.clone(),
        });
        return;
    }
    let (cur, des) = (parse(&attr.current), parse(&attr.desired));
    let here: Vec<(usize, &Input, &AttributePath)> = module
        .inputs
        .iter()
        .enumerate()
        .filter_map(|(n, i)| Some((n, i, i.attribute.as_ref()?)))
        .filter(|(_, _, p)| Some(p.resource.as_str()) == resource && p.attribute == attr.name)
        .collect();
    let mut rest = Vec::new();
    let with_name: Vec<Vec<String>> = here
        .iter()
        .map(|(_, _, p)| {
            std::iter::once(attr.name.clone())
                .chain(p.keys.iter().cloned())
                .collect()
        })
        .collect();
    let with_name: Vec<&[String]> = with_name.iter().map(Vec::as_slice).collect();
    uncovered(
        &cur,
        &des,
        &mut vec![attr.name.clone()],
        &with_name,
        &mut rest,
    );
    obstacles.extend(rest.into_iter().map(|attribute| Obstacle::Unexpressed {
        address: address.clone(),
        attribute,
    }));
    for (n, input, path) in here {
        let (c, d) = (at(&cur, &path.keys), at(&des, &path.keys));
        if c == d {
            continue;
        }
        if input.sensitive {
            obstacles.push(Obstacle::SensitiveInput {
                input: input.name.clone(),
            });
        } else if input.immutable {
            obstacles.push(Obstacle::Immutable {
                input: input.name.clone(),
            });
        } else {
            found.push((n, c.clone()));
        }
    }
}

/// The new inputs that make request `target`'s config (`config`, of
/// `module`) say what `drift` found there, or every reason it cannot.
pub fn new_inputs(
    module: &Module,
    target: Target<'_>,
    current: &Config,
    drift: &Drift,
) -> Result<Adoption, Vec<Obstacle>> {
    let mut found: Vec<(usize, Value)> = Vec::new();
    let mut obstacles = Vec::new();
    for change in &drift.changes {
        match change.action.as_str() {
            "create" => {
                obstacles.push(Obstacle::Gone {
                    address: change.address.clone(),
                });
                continue;
            }
            "delete" => {
                obstacles.push(Obstacle::Unwanted {
                    address: change.address.clone(),
                });
                continue;
            }
            _ => {}
        }
        let resource = inside(module, target, &change.address);
        for attr in &change.attributes {
            attribute(
                module,
                change,
                resource.as_deref(),
                attr,
                &mut found,
                &mut obstacles,
            );
        }
    }
    let mut raw = config::user_answers(module, current);
    let mut read = Vec::new();
    for (n, value) in found {
        let input = &module.inputs[n];
        let value = if value.is_null() {
            if input.required {
                obstacles.push(Obstacle::Invalid {
                    input: input.name.clone(),
                    message: "is empty, and the input is required".into(),
                });
                continue;
            }
            value
        } else {
            match config::check_value(input, &value) {
                Ok(v) => v,
                Err(e) => {
                    obstacles.push(Obstacle::Invalid {
                        input: input.name.clone(),
                        message: e.to_string(),
                    });
                    continue;
                }
            }
        };
        raw.insert(input.name.clone(), value.clone());
        read.push((n, value));
    }
    if !obstacles.is_empty() {
        return Err(obstacles);
    }
    let config = config::normalize(module, &raw, target).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| Obstacle::Invalid {
                input: e.field,
                message: e.message,
            })
            .collect::<Vec<_>>()
    })?;
    let mut inputs = Vec::new();
    read.sort_by_key(|(n, _)| *n);
    for (n, value) in read {
        let name = &module.inputs[n].name;
        let kept = config.get(name).unwrap_or(&Value::Null);
        if *kept != value {
            obstacles.push(Obstacle::NotKept {
                input: name.clone(),
            });
            continue;
        }
        let from = current.get(name).cloned().unwrap_or(Value::Null);
        if from != value {
            inputs.push(AdoptedInput {
                name: name.clone(),
                from,
                to: value,
            });
        }
    }
    if !obstacles.is_empty() {
        return Err(obstacles);
    }
    if inputs.is_empty() {
        return Err(vec![Obstacle::Nothing]);
    }
    Ok(Adoption { config, inputs })
}

#[cfg(test)]
mod tests;
