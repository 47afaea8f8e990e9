//! Several inputs from one sentence: "a versioned bucket called
//! logs-archive with 90 day retention" sets `versioning`, `name` and
//! `expiration_days`. Deterministic rules, each value then checked by the
//! registry; anything unsure is left for its question.

use super::parse::{Answer, Unit, checked, convert, json_number, number_token, unit_of, unit_word};
use crate::domain::registry::{Input, InputType, Module};
use serde_json::Value;

const NEGATIONS: [&str; 6] = ["no", "not", "without", "non", "never", "disable"];
const NAMING: [&str; 4] = ["called", "named", "name", "name:"];

/// One word of the sentence: as typed, and lowercased without punctuation.
struct Word<'a> {
    raw: &'a str,
    low: String,
}

fn words(text: &str) -> Vec<Word<'_>> {
    text.split_whitespace()
        .map(|raw| Word {
            raw: raw
                .trim_matches(|c: char| matches!(c, ',' | ';' | '"' | '\'' | '`' | '(' | ')'))
                .trim_end_matches('.'),
            low: raw
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/'))
                .map(|c| c.to_ascii_lowercase())
                .collect::<String>()
                .trim_end_matches(['.', ':'])
                .to_owned(),
        })
        .collect()
}

/// The significant parts of an input's name (`force_destroy` → force, destr).
fn stems(input: &Input) -> Vec<String> {
    input
        .name
        .split('_')
        .filter(|p| p.len() >= 3 && !matches!(*p, "ids" | "arn" | "in" | "the"))
        .map(|p| p.chars().take(5).collect())
        .collect()
}

fn mentions(word: &str, stem: &str) -> bool {
    let stem = stem.trim_end_matches('s');
    let bare = negative_prefix(word).unwrap_or(word);
    bare.starts_with(stem) || (stem.len() > 3 && stem.starts_with(bare) && bare.len() >= 3)
}

/// `unversioned` → `versioned`.
fn negative_prefix(word: &str) -> Option<&str> {
    word.strip_prefix("non-")
        .or_else(|| word.strip_prefix("non"))
        .or_else(|| word.strip_prefix("un"))
        .filter(|rest| rest.len() >= 4)
}

/// Where the input's name is mentioned: the index of each stem's first word.
fn mentioned(input: &Input, words: &[Word<'_>]) -> Option<Vec<usize>> {
    let stems = stems(input);
    if stems.is_empty() {
        return None;
    }
    stems
        .iter()
        .map(|s| words.iter().position(|w| mentions(&w.low, s)))
        .collect()
}

/// Every input the sentence sets, with its checked value.
pub fn extract(module: &Module, text: &str) -> Vec<(String, Value)> {
    let words = words(text);
    let mut found: Vec<(String, Value)> = Vec::new();
    let mut used: Vec<usize> = Vec::new();
    let mut keep = |input: &Input, value: Value, at: &[usize], found: &mut Vec<(String, Value)>| {
        if let Answer::Value(v) = checked(input, value) {
            found.push((input.name.clone(), v));
            used.extend_from_slice(at);
        }
    };
    for input in &module.inputs {
        match input.ty {
            InputType::String if input.name == "name" => {
                if let Some(i) = words.iter().position(|w| NAMING.contains(&w.low.as_str()))
                    && let Some(w) = words.get(i + 1)
                {
                    keep(input, Value::String(w.raw.to_owned()), &[i + 1], &mut found);
                }
            }
            InputType::Bool => {
                if let Some(at) = mentioned(input, &words) {
                    let first = at.iter().copied().min().unwrap_or(0);
                    let negated = words[first.saturating_sub(3)..first]
                        .iter()
                        .any(|w| NEGATIONS.contains(&w.low.as_str()))
                        || negative_prefix(&words[first].low).is_some();
                    keep(input, Value::Bool(!negated), &at, &mut found);
                }
            }
            InputType::Enum if input.values.iter().any(|v| v.parse::<f64>().is_err()) => {
                let hit = words.iter().enumerate().find_map(|(i, w)| {
                    input
                        .values
                        .iter()
                        .find(|v| v.len() >= 3 && v.to_ascii_lowercase() == w.low)
                        .map(|v| (i, v))
                });
                if let Some((i, v)) = hit {
                    keep(input, Value::String(v.clone()), &[i], &mut found);
                }
            }
            _ => {}
        }
    }
    numbers(module, &words, &mut found, &used);
    found
}

/// A number in the sentence, with the unit after it, if any.
struct Quantity {
    at: usize,
    value: f64,
    unit: Option<Unit>,
}

/// Numbers go to the number input named next to them; a duration or size
/// with no name nearby goes to the only input measured that way.
fn numbers(module: &Module, words: &[Word<'_>], found: &mut Vec<(String, Value)>, used: &[usize]) {
    let quantities: Vec<Quantity> = words
        .iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .filter_map(|(i, w)| {
            let n = number_token(&w.low)?;
            Some(Quantity {
                at: i,
                value: n,
                unit: words.get(i + 1).and_then(|w| unit_word(&w.low)),
            })
        })
        .collect();
    let numeric = |i: &&Input| {
        i.ty == InputType::Number
            || (i.ty == InputType::Enum && i.values.iter().all(|v| v.parse::<f64>().is_ok()))
    };
    let candidates: Vec<&Input> = module.inputs.iter().filter(numeric).collect();
    for q in quantities {
        let near = |input: &&Input| {
            let lo = q.at.saturating_sub(3);
            let hi = (q.at + 4).min(words.len());
            stems(input)
                .iter()
                .any(|s| words[lo..hi].iter().any(|w| mentions(&w.low, s)))
        };
        let same_unit = |input: &&Input| match (q.unit, unit_of(input)) {
            (Some(Unit::Time(_)), Unit::Time(_)) | (Some(Unit::Size(_)), Unit::Size(_)) => true,
            (None, _) => false,
            _ => false,
        };
        let open = |i: &&&Input| !found.iter().any(|(n, _)| *n == i.name);
        let named: Vec<&&Input> = candidates.iter().filter(open).filter(|i| near(i)).collect();
        let by_unit: Vec<&&Input> = candidates
            .iter()
            .filter(open)
            .filter(|i| same_unit(i))
            .collect();
        let target = match (named.as_slice(), by_unit.as_slice()) {
            ([one], _) => Some(**one),
            ([], [one]) => Some(**one),
            (many, _) if many.len() > 1 => many.iter().find(|i| same_unit(i)).map(|i| **i),
            _ => None,
        };
        let Some(input) = target else {
            continue;
        };
        let Ok(n) = convert(input, q.value, q.unit) else {
            continue;
        };
        let value = if input.ty == InputType::Enum {
            Value::String(json_number(n).to_string())
        } else {
            json_number(n)
        };
        if let Answer::Value(v) = checked(input, value) {
            found.push((input.name.clone(), v));
        }
    }
}
