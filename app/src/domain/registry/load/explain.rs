//! The checks of an input's `explain` and `explain_off` phrases: short
//! single lines, `{value}` exactly where the type has a value to show, and
//! nothing at all on a sensitive input (its value is never said).

use super::Errors;
use crate::domain::registry::{Input, InputType};
use toml::Spanned;

/// The longest phrase, in characters.
pub(super) const MAX_PHRASE: usize = 120;

/// Checks the phrases of `input` (module `m`) and keeps the good ones on it.
pub(super) fn check(
    m: &str,
    explain: &Option<Spanned<String>>,
    explain_off: &Option<Spanned<String>>,
    input: &mut Input,
    errors: &mut Errors,
) {
    let name = input.name.clone();
    let field = |f: &str| Some(format!("inputs.{name}.{f}"));
    let is_bool = input.ty == InputType::Bool;
    if let Some(off) = explain_off
        && !is_bool
    {
        errors.push(
            off.span().start,
            m,
            field("explain_off"),
            "`explain_off` applies to bool inputs only (the phrase when it is false)".into(),
        );
    }
    for (key, phrase) in [("explain", explain), ("explain_off", explain_off)] {
        let Some(phrase) = phrase else { continue };
        let at = phrase.span().start;
        if input.sensitive {
            errors.push(
                at,
                m,
                field(key),
                "a sensitive input is never explained: its value must not be said".into(),
            );
            continue;
        }
        let wants_value = key == "explain" && !is_bool;
        if let Err(rule) = phrase_rule(phrase.get_ref(), wants_value) {
            errors.push(at, m, field(key), rule);
        }
    }
    input.explain = explain.as_ref().map(|p| p.get_ref().clone());
    input.explain_off = explain_off.as_ref().map(|p| p.get_ref().clone());
}

/// Why `phrase` is not a good phrase, if it is not. `wants_value`: it must
/// hold `{value}` once; otherwise it must hold no placeholder at all.
fn phrase_rule(phrase: &str, wants_value: bool) -> Result<(), String> {
    let len = phrase.chars().count();
    if phrase.trim().is_empty() || phrase.trim() != phrase || len > MAX_PHRASE {
        return Err(format!(
            "a phrase is 1-{MAX_PHRASE} characters without surrounding spaces"
        ));
    }
    if phrase.chars().any(char::is_control) {
        return Err("a phrase is one line without control characters".into());
    }
    let rest = phrase.replacen("{value}", "", 1);
    let has_value = rest.len() != phrase.len();
    if rest.contains(['{', '}']) {
        return Err(if wants_value {
            "use `{value}` once and no other braces".into()
        } else {
            "a bool's phrase is plain text: no `{value}` or braces".into()
        });
    }
    if wants_value && !has_value {
        return Err("the phrase must say where the value goes with `{value}`".into());
    }
    if !wants_value && has_value {
        return Err("a bool's phrase is plain text: no `{value}` or braces".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::phrase_rule;

    #[test]
    fn the_phrase_rules() {
        let cases: [(&str, bool, bool); 10] = [
            ("objects expire after {value} days", true, true),
            ("versioning on", false, true),
            ("expire after 90 days", true, false),
            ("versioning {value}", false, false),
            ("{value} and {value}", true, false),
            ("{value} {other}", true, false),
            (" padded {value}", true, false),
            ("", false, false),
            ("two\nlines {value}", true, false),
            ("{value}", true, true),
        ];
        for (phrase, wants_value, ok) in cases {
            assert_eq!(
                phrase_rule(phrase, wants_value).is_ok(),
                ok,
                "{phrase:?} wants_value={wants_value}"
            );
        }
        let long = format!("{} {{value}}", "x".repeat(super::MAX_PHRASE));
        assert!(phrase_rule(&long, true).is_err());
    }
}
