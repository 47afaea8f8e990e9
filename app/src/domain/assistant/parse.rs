//! One free answer, read by the type of the input it answers: yes/no for
//! booleans, numbers with separators and units ("1,000", "30 days",
//! "2 GB"), enum values with a "did you mean", comma lists and
//! `key=value` maps. Every value is then checked by the registry's rules.

use crate::domain::config::check_value;
use crate::domain::registry::{Input, InputType};
use serde_json::{Map, Value};

/// What an answer means for its input.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A valid value.
    Value(Value),
    /// Leave it to the module's default (or empty, when optional).
    Default,
    /// Close to a valid value: ask whether this one was meant.
    Suggest(Value),
    /// Not usable; the sentence says why and what would be.
    Invalid(String),
}

const SKIP: [&str; 12] = [
    "skip",
    "default",
    "the default",
    "none",
    "no",
    "nope",
    "n/a",
    "-",
    "nothing",
    "leave empty",
    "leave it empty",
    "empty",
];
const YES: [&str; 12] = [
    "yes",
    "y",
    "yeah",
    "yep",
    "sure",
    "true",
    "on",
    "enable",
    "enabled",
    "please",
    "ok",
    "of course",
];
const NO: [&str; 9] = [
    "no",
    "n",
    "nope",
    "false",
    "off",
    "disable",
    "disabled",
    "not needed",
    "none",
];

fn clean(text: &str) -> &str {
    text.trim()
        .trim_end_matches(['.', '!'])
        .trim_matches(['"', '\'', '`'])
        .trim()
}

/// Whether a reply accepts a suggestion or a yes/no question.
pub fn is_yes(text: &str) -> Option<bool> {
    let t = clean(text).to_ascii_lowercase();
    if YES.contains(&t.as_str()) || t.starts_with("yes") {
        Some(true)
    } else if NO.contains(&t.as_str()) || t.starts_with("no ") {
        Some(false)
    } else {
        None
    }
}

/// Reads `text` as an answer to `input`.
pub fn parse_answer(input: &Input, text: &str) -> Answer {
    let t = clean(text);
    let lower = t.to_ascii_lowercase();
    if input.ty != InputType::Bool && (t.is_empty() || SKIP.contains(&lower.as_str())) {
        return if input.required {
            Answer::Invalid(format!("{} is required: {}", input.name, input.question))
        } else {
            Answer::Default
        };
    }
    let value = match input.ty {
        InputType::Bool => match is_yes(t) {
            Some(b) => Value::Bool(b),
            None if t.is_empty() && !input.required => return Answer::Default,
            None => return Answer::Invalid("Please answer yes or no.".into()),
        },
        InputType::Number => match number(input, t) {
            Ok(n) => json_number(n),
            Err(e) => return Answer::Invalid(e),
        },
        InputType::Enum => return choice(input, t),
        InputType::List => Value::Array(list(t).into_iter().map(Value::String).collect()),
        InputType::Map => match map(t) {
            Ok(m) => Value::Object(m),
            Err(e) => return Answer::Invalid(e),
        },
        InputType::String => Value::String(t.to_owned()),
    };
    checked(input, value)
}

/// The value after the registry's rules, or why not.
pub fn checked(input: &Input, value: Value) -> Answer {
    match check_value(input, &value) {
        Ok(v) => Answer::Value(v),
        Err(e) => Answer::Invalid(format!(
            "{}{} {}.",
            input.name,
            e.item.unwrap_or_default(),
            e.text
        )),
    }
}

/// A whole number as an integer, anything else as a float.
pub fn json_number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// The unit an input is measured in, from its name or question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Unit {
    /// A duration, in this many seconds per unit.
    Time(f64),
    /// A size, in this many MiB per unit.
    Size(f64),
    /// A plain count.
    None,
}

pub(super) fn unit_of(input: &Input) -> Unit {
    let name = input.name.as_str();
    let text = format!("{} {}", input.question, input.description).to_ascii_lowercase();
    if name.ends_with("_seconds") {
        Unit::Time(1.0)
    } else if name.ends_with("_minutes") {
        Unit::Time(60.0)
    } else if name.ends_with("_hours") {
        Unit::Time(3600.0)
    } else if name.ends_with("_days") || text.contains("how many days") {
        Unit::Time(86_400.0)
    } else if text.contains("mib") || text.contains(" mb") {
        Unit::Size(1.0)
    } else if text.contains("gib") || text.contains(" gb") {
        Unit::Size(1024.0)
    } else {
        Unit::None
    }
}

/// The unit a word names: seconds per time unit, or MiB per size unit.
pub(super) fn unit_word(word: &str) -> Option<Unit> {
    let w = word.trim_end_matches(['.', ',', ';']).to_ascii_lowercase();
    Some(match w.as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => Unit::Time(1.0),
        "m" | "min" | "mins" | "minute" | "minutes" => Unit::Time(60.0),
        "h" | "hr" | "hrs" | "hour" | "hours" => Unit::Time(3600.0),
        "d" | "day" | "days" => Unit::Time(86_400.0),
        "w" | "wk" | "week" | "weeks" => Unit::Time(604_800.0),
        "month" | "months" => Unit::Time(2_592_000.0),
        "y" | "yr" | "year" | "years" => Unit::Time(31_536_000.0),
        "kb" | "kib" => Unit::Size(1.0 / 1024.0),
        "mb" | "mib" => Unit::Size(1.0),
        "gb" | "gib" | "g" => Unit::Size(1024.0),
        "tb" | "tib" => Unit::Size(1024.0 * 1024.0),
        _ => return None,
    })
}

/// A number token: digits with `,` or `_` separators and one `.`.
pub(super) fn number_token(word: &str) -> Option<f64> {
    let w = word
        .trim_end_matches(['.', ',', ';', ')'])
        .trim_start_matches('(');
    if w.is_empty() || !w.chars().next()?.is_ascii_digit() {
        return None;
    }
    let digits: String = w.chars().filter(|c| *c != ',' && *c != '_').collect();
    digits.parse().ok()
}

/// Splits `30days`, `2GB` into the number and the unit word.
fn split_glued(word: &str) -> (&str, &str) {
    let at = word
        .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '_' || c == '.'))
        .unwrap_or(word.len());
    word.split_at(at)
}

/// Converts `n` given in `given` into the input's unit.
pub(super) fn convert(input: &Input, n: f64, given: Option<Unit>) -> Result<f64, String> {
    let want = unit_of(input);
    match (given, want) {
        (None, _) => Ok(n),
        (Some(Unit::Time(g)), Unit::Time(w)) | (Some(Unit::Size(g)), Unit::Size(w)) => {
            Ok(n * g / w)
        }
        (Some(_), Unit::None) => Err(format!("{} is a plain number, without a unit.", input.name)),
        (Some(_), _) => Err(format!(
            "{} is measured in {}; that unit does not fit.",
            input.name,
            unit_name(want)
        )),
    }
}

fn unit_name(u: Unit) -> &'static str {
    match u {
        Unit::Time(1.0) => "seconds",
        Unit::Time(60.0) => "minutes",
        Unit::Time(3600.0) => "hours",
        Unit::Time(_) => "days",
        Unit::Size(1.0) => "MiB",
        Unit::Size(_) => "GiB",
        Unit::None => "a plain number",
    }
}

/// "1,000", "30 days", "2 GB", "30days" → the number in the input's unit.
fn number(input: &Input, t: &str) -> Result<f64, String> {
    let words: Vec<&str> = t.split_whitespace().collect();
    for (i, word) in words.iter().enumerate() {
        let (num, glued) = split_glued(word);
        let Some(n) = number_token(num) else {
            continue;
        };
        let unit = if glued.is_empty() {
            words.get(i + 1).and_then(|w| unit_word(w))
        } else {
            unit_word(glued)
        };
        return convert(input, n, unit);
    }
    Err(format!(
        "{} needs a number{}.",
        input.name,
        match unit_of(input) {
            Unit::None => String::new(),
            u => format!(" (in {}, or with a unit such as \"30 days\")", unit_name(u)),
        }
    ))
}

fn normalized(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// An enum value: exact, then ignoring case and punctuation, then numbers
/// with units for numeric choices, then the closest value as a question.
fn choice(input: &Input, t: &str) -> Answer {
    let wanted = normalized(t);
    if let Some(v) = input.values.iter().find(|v| normalized(v) == wanted) {
        return Answer::Value(Value::String(v.clone()));
    }
    let numeric = input.values.iter().all(|v| v.parse::<f64>().is_ok());
    if numeric && let Ok(n) = number(input, t) {
        let text = json_number(n).to_string();
        if input.values.contains(&text) {
            return Answer::Value(Value::String(text));
        }
        let closest = input.values.iter().min_by(|a, b| {
            let d = |v: &String| (v.parse::<f64>().unwrap_or(f64::MAX) - n).abs();
            d(a).total_cmp(&d(b))
        });
        return match closest {
            Some(c) => Answer::Suggest(Value::String(c.clone())),
            None => Answer::Invalid(format!("{} has no choices.", input.name)),
        };
    }
    let close: Vec<&String> = input
        .values
        .iter()
        .filter(|v| {
            let n = normalized(v);
            n.starts_with(&wanted) && wanted.len() >= 2 || distance(&n, &wanted) <= 2
        })
        .collect();
    match close.as_slice() {
        [one] => Answer::Suggest(Value::String((*one).clone())),
        _ => Answer::Invalid(format!(
            "{} must be one of: {}.",
            input.name,
            input.values.join(", ")
        )),
    }
}

/// "a, b and c" or "a b c" → items.
fn list(t: &str) -> Vec<String> {
    let parts: Vec<String> = t
        .split([',', ';', '\n'])
        .flat_map(|p| p.split(" and "))
        .map(|p| clean(p).to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() == 1 && parts[0].contains(' ') {
        return parts[0].split_whitespace().map(str::to_owned).collect();
    }
    parts
}

/// "team=data, owner: ana" → a map.
fn map(t: &str) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for entry in t
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        let Some((k, v)) = entry.split_once('=').or_else(|| entry.split_once(':')) else {
            return Err(format!(
                "Write each entry as key=value, separated by commas (`{entry}` has no `=`)."
            ));
        };
        out.insert(clean(k).to_owned(), Value::String(clean(v).to_owned()));
    }
    Ok(out)
}
