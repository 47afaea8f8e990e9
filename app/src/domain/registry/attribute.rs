//! Where an input lands in a module's resources: an input's `attribute`
//! (`terraform_data.this.input.message_retention_seconds`,
//! `aws_sqs_queue.this.message_retention_seconds`), read back when drift
//! is adopted (`domain::drift::adopt`).

use serde::{Deserialize, Serialize};

/// A parsed `attribute`: the resource inside the module, its top-level
/// attribute and the keys into that attribute's value, if any. It
/// serializes as the text it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributePath {
    /// The resource address inside the module (`terraform_data.this`,
    /// `module.inner.aws_s3_bucket.this`).
    pub resource: String,
    /// The top-level attribute (`input`, `message_retention_seconds`).
    pub attribute: String,
    /// Keys into the attribute's (object) value, outermost first.
    pub keys: Vec<String>,
}

fn ident(s: &str, dash: bool) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || (dash && c == '-'))
}

impl AttributePath {
    /// Parses `[module.<name>.]…<type>.<name>.<attribute>[.<key>…]`, or
    /// says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rule = || {
            format!(
                "`{text}` is not an attribute of a resource inside the module: use \
                 `<type>.<name>.<attribute>[.<key>…]` (`terraform_data.this.input.name`, \
                 `aws_sqs_queue.this.message_retention_seconds`)"
            )
        };
        let parts: Vec<&str> = text.split('.').collect();
        let mut at = 0;
        while parts.get(at) == Some(&"module") {
            match parts.get(at + 1) {
                Some(name) if ident(name, true) => at += 2,
                _ => return Err(rule()),
            }
        }
        let [ty, name, attribute, keys @ ..] = &parts[at..] else {
            return Err(rule());
        };
        let ok = ident(ty, false)
            && !ty.chars().any(|c| c.is_ascii_uppercase())
            && !matches!(*ty, "module" | "data" | "resource")
            && ident(name, true)
            && ident(attribute, false)
            && keys.iter().all(|k| ident(k, true));
        if !ok {
            return Err(rule());
        }
        Ok(Self {
            resource: parts[..at + 2].join("."),
            attribute: (*attribute).to_owned(),
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        })
    }

    /// Whether `self` and `other` overlap: the same value, or one inside
    /// the other.
    pub fn overlaps(&self, other: &Self) -> bool {
        let n = self.keys.len().min(other.keys.len());
        self.resource == other.resource
            && self.attribute == other.attribute
            && self.keys[..n] == other.keys[..n]
    }
}

impl std::fmt::Display for AttributePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.resource, self.attribute)?;
        for k in &self.keys {
            write!(f, ".{k}")?;
        }
        Ok(())
    }
}

impl Serialize for AttributePath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AttributePath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::AttributePath;

    /// (resource, attribute, keys)
    type Parsed = (&'static str, &'static str, &'static [&'static str]);

    #[test]
    fn attribute_paths() {
        let cases: &[(&str, Option<Parsed>)] = &[
            (
                "terraform_data.this.input.name",
                Some(("terraform_data.this", "input", &["name"])),
            ),
            (
                "aws_sqs_queue.this.message_retention_seconds",
                Some(("aws_sqs_queue.this", "message_retention_seconds", &[])),
            ),
            (
                "module.inner.aws_s3_bucket.main-bucket.tags.team-name",
                Some((
                    "module.inner.aws_s3_bucket.main-bucket",
                    "tags",
                    &["team-name"],
                )),
            ),
            ("terraform_data.this", None),
            ("terraform_data.this.", None),
            ("Terraform_data.this.input", None),
            ("data.aws_s3_bucket.this.arn", None),
            ("module.x.this.input", None),
            ("terraform_data.this[0].input", None),
            ("terraform_data.this.in put", None),
            ("terraform_data.this.input-x", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = AttributePath::parse(text);
            match want {
                Some((resource, attribute, keys)) => {
                    let p = got.unwrap_or_else(|e| panic!("{text}: {e}"));
                    assert_eq!(
                        (p.resource.as_str(), p.attribute.as_str(), p.keys.as_slice()),
                        (
                            *resource,
                            *attribute,
                            &keys.iter().map(|k| k.to_string()).collect::<Vec<_>>()[..]
                        ),
                        "{text}"
                    );
                    assert_eq!(p.to_string(), *text);
                }
                None => assert!(got.is_err(), "{text:?} parsed"),
            }
        }
    }

    #[test]
    fn overlapping_paths() {
        let p = |s: &str| AttributePath::parse(s).unwrap();
        let cases = [
            (
                "terraform_data.this.input.a",
                "terraform_data.this.input.a",
                true,
            ),
            (
                "terraform_data.this.input",
                "terraform_data.this.input.a",
                true,
            ),
            (
                "terraform_data.this.input.a",
                "terraform_data.this.input.b",
                false,
            ),
            (
                "terraform_data.this.input.a",
                "terraform_data.other.input.a",
                false,
            ),
            ("aws_sqs_queue.this.name", "aws_sqs_queue.this.tags", false),
        ];
        for (a, b, want) in cases {
            assert_eq!(p(a).overlaps(&p(b)), want, "{a} / {b}");
            assert_eq!(p(b).overlaps(&p(a)), want, "{b} / {a}");
        }
    }
}
