//! New input values from an alert, read by each input's type and checked
//! by the registry's rules like any answer, before any revision is filed.

use crate::domain::assistant::{Answer, parse_answer};
use crate::domain::config::{Config, FieldError};
use crate::domain::registry::Module;
use std::collections::BTreeMap;

/// `current` with `inputs` set, each read from its text by the input's
/// type (`"5"` for a number, `"true"` for a bool, `"a,b"` for a list,
/// `"k=v"` for a map) and checked; the first input that fails is named.
/// Sensitive inputs are never set from an alert.
pub fn apply_inputs(
    module: &Module,
    current: &Config,
    inputs: &BTreeMap<String, String>,
) -> Result<Config, FieldError> {
    let mut next = current.clone();
    for (name, text) in inputs {
        let fail = |message: String| FieldError {
            field: name.clone(),
            message,
        };
        let input = module.input(name).ok_or_else(|| {
            fail(format!(
                "is not an input of module {}",
                module.module_type.as_str()
            ))
        })?;
        if input.sensitive {
            return Err(fail("is sensitive and is never set from an alert".into()));
        }
        let value = match parse_answer(input, text) {
            Answer::Value(v) => v,
            Answer::Suggest(v) => {
                return Err(fail(format!(
                    "got {text:?}, which is not one of: {} (did you mean {v}?)",
                    input.values.join(", ")
                )));
            }
            Answer::Default => {
                return Err(fail(format!("got {text:?}, which leaves it empty")));
            }
            Answer::Invalid(why) => return Err(fail(format!("got {text:?}: {why}"))),
        };
        next.insert(name.clone(), value);
    }
    Ok(next)
}
