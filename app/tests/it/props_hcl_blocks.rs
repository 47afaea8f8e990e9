//! Property tests for the HCL literal encoder and the bounded-block editor.
//!
//! Encoded values are read back with `hcl-edit`, whose string decoding follows
//! Terraform's: escapes are decoded and `$${` / `%%{` read as literal `${` / `%{`
//! wherever they start (so `$$${` is `$` followed by a literal `${`).

use app::domain::{blocks, hcl};
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::Structure;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Number, Value};

const MARKER_PREFIX: &str = "# --- tfpilot:";

/// Fragments that have broken string encoders or block editors before.
const NASTY: &[&str] = &[
    "\"",
    "\\",
    "\\\\",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "${",
    "%{",
    "$${",
    "$$${",
    "%%{",
    "%%%{",
    "$",
    "%",
    "{",
    "}",
    "~",
    "${~",
    "~}",
    "#",
    "//",
    "/*",
    "*/",
    "<<EOF",
    "<<-EOF\n",
    "EOF",
    "\u{0}",
    "\u{1b}",
    "\u{7f}",
    "\u{85}",
    "\u{9f}",
    "\u{a0}",
    "\u{2028}",
    "\u{2029}",
    "\u{feff}",
    "\\u0041",
    "\\n",
    "\\$",
    "é",
    "🌍",
    "x = 1",
    " ",
    "a",
    "abc",
    "# --- tfpilot:begin:a ---",
    "# --- tfpilot:end:a ---",
    "# --- tfpilot:",
    "  # --- tfpilot:begin:a ---",
];

/// Strings built from nasty fragments and arbitrary chars.
fn nasty_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        select(NASTY).prop_map(str::to_owned),
        any::<char>().prop_map(String::from),
    ];
    vec(piece, 0..10).prop_map(|pieces| pieces.concat())
}

/// Any Unicode string (`any::<String>()`), half of the time biased toward nasty input.
pub(crate) fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), nasty_string()]
}

/// Like [`any_text`], but several times cheaper to generate than
/// `any::<String>()`: for properties that need many strings per case.
fn cheap_text() -> impl Strategy<Value = String> {
    let chars = vec(any::<char>(), 0..24).prop_map(String::from_iter);
    prop_oneof![chars, nasty_string()]
}

/// Defuses marker lines by indenting them, so the text has no marker line.
fn unmark(text: String) -> String {
    if !text.split('\n').any(|line| line.starts_with(MARKER_PREFIX)) {
        return text;
    }
    text.split_inclusive('\n')
        .map(|line| match line.starts_with(MARKER_PREFIX) {
            true => format!(" {line}"),
            false => line.to_owned(),
        })
        .collect()
}

/// Arbitrary text without marker lines: LF and CRLF lines, with or without a
/// final line ending, or an arbitrary string, or nothing.
fn plain_text() -> impl Strategy<Value = String> {
    let lines = (
        vec((cheap_text(), select(&["\n", "\r\n"][..])), 0..5),
        any::<bool>(),
    )
        .prop_map(|(lines, terminated)| {
            let mut text: String = lines.iter().map(|(l, end)| format!("{l}{end}")).collect();
            if !terminated && text.ends_with('\n') {
                text.pop();
            }
            text
        });
    prop_oneof![Just(String::new()), cheap_text(), lines].prop_map(unmark)
}

fn block_id() -> impl Strategy<Value = String> {
    "[0-9a-z]{1,40}"
}

/// What `insert`/`replace` store for `body`.
fn normalized(body: &str) -> String {
    match body.is_empty() || body.ends_with('\n') {
        true => body.to_owned(),
        false => format!("{body}\n"),
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        cheap_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(cheap_text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Parses `x = <literal>\n` and returns the value of `x`, checking the file
/// has exactly that one attribute and no block.
fn parse_single_attribute(literal: &str) -> Result<Value, TestCaseError> {
    let unsafe_char = |c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}';
    prop_assert!(
        !literal.contains(unsafe_char),
        "raw control or line separator in {literal:?}"
    );
    let src = format!("x = {literal}\n");
    let body = hcl_edit::parser::parse_body(&src)
        .map_err(|e| TestCaseError::fail(format!("{src:?} does not parse: {e}")))?;
    prop_assert_eq!(body.len(), 1, "{:?}", src);
    let Some(Structure::Attribute(attr)) = body.get(0) else {
        return Err(TestCaseError::fail(format!("{src:?} is not one attribute")));
    };
    prop_assert_eq!(attr.key.as_str(), "x");
    decode(&attr.value)
}

/// Turns a literal HCL expression into JSON; anything else (a template, a
/// variable, an operation...) fails the test.
pub(crate) fn decode(expr: &Expression) -> Result<Value, TestCaseError> {
    Ok(match expr {
        Expression::Null(_) => Value::Null,
        Expression::Bool(b) => Value::Bool(*b.value()),
        Expression::String(s) => Value::String(s.value().clone()),
        Expression::Number(n) => {
            let n = n.value();
            let number = match (n.as_u64(), n.as_i64()) {
                _ if n.is_f64() => n.as_f64().and_then(Number::from_f64),
                (Some(u), _) => Some(u.into()),
                (_, Some(i)) => Some(i.into()),
                _ => None,
            };
            Value::Number(number.ok_or_else(|| TestCaseError::fail(format!("bad number {n}")))?)
        }
        Expression::Array(items) => {
            Value::Array(items.iter().map(decode).collect::<Result<_, _>>()?)
        }
        Expression::Object(object) => {
            let mut map = serde_json::Map::new();
            for (key, value) in object.iter() {
                let key = match key {
                    ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                    other => return Err(TestCaseError::fail(format!("non-string key {other:?}"))),
                };
                prop_assert!(
                    map.insert(key, decode(value.expr())?).is_none(),
                    "duplicate key"
                );
            }
            Value::Object(map)
        }
        other => return Err(TestCaseError::fail(format!("not a literal: {other:?}"))),
    })
}

/// JSON equality where numbers compare by value (HCL reads `1.0` as the integer 1).
fn same(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) if e.is_f64() => e.as_f64() == a.as_f64(),
        (Value::Number(e), Value::Number(a)) => {
            e.as_i64() == a.as_i64() && e.as_u64() == a.as_u64()
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| same(e, a))
        }
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len() && e.iter().all(|(k, e)| a.get(k).is_some_and(|a| same(e, a)))
        }
        _ => expected == actual,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn encode_str_reads_back_as_the_same_string(s in any_text()) {
        let decoded = parse_single_attribute(&hcl::encode_str(&s))?;
        prop_assert_eq!(decoded, Value::String(s));
    }

    #[test]
    fn encode_reads_back_as_the_same_value(value in json_value()) {
        let decoded = parse_single_attribute(&hcl::encode(&value))?;
        prop_assert!(same(&value, &decoded), "{} read back as {}", value, decoded);
    }

    #[test]
    fn remove_undoes_insert(x in plain_text(), id in block_id(), body in plain_text()) {
        let inserted = blocks::insert(&x, &id, &body)?;
        prop_assert!(inserted.starts_with(&x));
        let stored = normalized(&body);
        prop_assert_eq!(blocks::body(&inserted, &id)?, Some(stored.as_str()));
        prop_assert_eq!(blocks::remove(&inserted, &id)?, x);
    }

    #[test]
    fn replace_is_idempotent_and_touches_only_the_body(
        before in plain_text(),
        after in plain_text(),
        id in block_id(),
        old in plain_text(),
        new in plain_text(),
        eol in select(&["\n", "\r\n"][..]),
    ) {
        let mut before = before;
        if !before.is_empty() && !before.ends_with('\n') {
            before.push('\n');
        }
        let begin = format!("{}{eol}", blocks::begin_marker(&id));
        let end = format!("{}{eol}", blocks::end_marker(&id));
        let text = format!("{before}{begin}{}{end}{after}", normalized(&old));

        let once = blocks::replace(&text, &id, &new)?;
        let want = format!("{before}{begin}{}{end}{after}", normalized(&new));
        prop_assert_eq!(&once, &want);
        prop_assert_eq!(blocks::replace(&once, &id, &new)?, once);
    }

    #[test]
    fn blocks_are_independent(
        x in plain_text(),
        a in block_id(),
        b in block_id(),
        body_a in plain_text(),
        body_b in plain_text(),
    ) {
        prop_assume!(a != b);
        let both = blocks::insert(&blocks::insert(&x, &a, &body_a)?, &b, &body_b)?;
        prop_assert_eq!(blocks::remove(&both, &a)?, blocks::insert(&x, &b, &body_b)?);
        prop_assert_eq!(blocks::remove(&both, &b)?, blocks::insert(&x, &a, &body_a)?);
    }
}
