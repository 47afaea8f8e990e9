//! HCL literal encoder: the only way user-supplied values reach generated HCL.
//!
//! Every function here returns a single-line HCL expression that Terraform
//! reads back as exactly the given value. The output never contains a raw
//! line break, so no input can add a line, block, attribute or comment, and
//! template sequences (`${`, `%{`) are always escaped, so no input can
//! reference a variable or call a function.

use serde_json::Value;
use std::fmt::Write as _;

/// Encodes a JSON value as a single-line HCL literal.
///
/// `null`, booleans and numbers map to their HCL literals (numbers are printed
/// exactly as `serde_json` prints them), strings go through [`encode_str`],
/// arrays become `[a, b]` and objects `{ "k" = v, "k2" = v2 }` with every key
/// quoted, in the map's iteration order.
#[must_use]
pub fn encode(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            out.push_str("{ ");
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(out, key);
                out.push_str(" = ");
                write_value(out, item);
            }
            out.push_str(" }");
        }
    }
}

/// Encodes `s` as a quoted HCL string that Terraform decodes back to exactly `s`.
///
/// Backslash, quote, `\n`, `\r` and `\t` get their short escapes; every other
/// control character (C0, DEL, C1) and U+2028/U+2029 becomes `\uXXXX`. A `$`
/// or `%` directly followed by `{` is doubled (`${` → `$${`, `%{` → `%%{`),
/// which is exactly Terraform's escape: an input `$${` becomes `$$${`, which
/// Terraform reads as a literal `$` followed by the escape `$${`, giving `$${`.
#[must_use]
pub fn encode_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_str(&mut out, s);
    out
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' => {
                out.push(c);
                if chars.peek() == Some(&'{') {
                    out.push(c);
                }
            }
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                // Infallible: writing to a String cannot fail.
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encode_str_table() {
        let cases: &[(&str, &str)] = &[
            ("", r#""""#),
            ("plain", r#""plain""#),
            ("a\"b", r#""a\"b""#),
            ("back\\slash", r#""back\\slash""#),
            ("\\\"", r#""\\\"""#),
            ("l1\nl2\r\n\tx", r#""l1\nl2\r\n\tx""#),
            ("${var.x}", r#""$${var.x}""#),
            ("%{ if x }", r#""%%{ if x }""#),
            ("$${", r#""$$${""#),
            ("$$${", r#""$$$${""#),
            ("%%{", r#""%%%{""#),
            ("$%{", r#""$%%{""#),
            ("%${", r#""%$${""#),
            ("$ { % }", r#""$ { % }""#),
            ("$", r#""$""#),
            ("}", r#""}""#),
            ("\\${", r#""\\$${""#),
            ("\u{0}\u{1b}\u{7f}", r#""\u0000\u001B\u007F""#),
            (
                "\u{80}\u{85}\u{9f}\u{a0}",
                "\"\\u0080\\u0085\\u009F\u{a0}\"",
            ),
            ("\u{2028}\u{2029}", r#""\u2028\u2029""#),
            ("# c // d /* e */", r##""# c // d /* e */""##),
            ("<<EOF", r#""<<EOF""#),
            ("héllo 🌍", "\"héllo 🌍\""),
            (
                "x\n# --- tfpilot:end:a ---\n",
                r#""x\n# --- tfpilot:end:a ---\n""#,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(encode_str(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn encode_table() {
        let cases = [
            (json!(null), "null"),
            (json!(true), "true"),
            (json!(false), "false"),
            (json!(0), "0"),
            (json!(-42), "-42"),
            (json!(u64::MAX), "18446744073709551615"),
            (json!(1.5), "1.5"),
            (json!(-0.25), "-0.25"),
            (json!(1.0), "1.0"),
            (json!(1e300), "1e+300"),
            (json!(-1.5e-7), "-1.5e-7"),
            (json!("s"), r#""s""#),
            (json!([]), "[]"),
            (json!(["a", 1, true]), r#"["a", 1, true]"#),
            (json!({}), "{}"),
            (json!({"k": "v", "k2": 2}), r#"{ "k" = "v", "k2" = 2 }"#),
            (json!({"${k}": [null, {}]}), r#"{ "$${k}" = [null, {}] }"#),
            (json!([[1], {"a": [2]}]), r#"[[1], { "a" = [2] }]"#),
        ];
        for (input, want) in cases {
            assert_eq!(encode(&input), want, "input {input}");
        }
    }

    #[test]
    fn output_is_single_line() {
        let v = json!({"a\nb": ["c\r\n", "\u{2028}", "\u{85}"]});
        let out = encode(&v);
        assert!(!out.contains(['\n', '\r', '\u{2028}', '\u{2029}', '\u{85}']));
    }
}
