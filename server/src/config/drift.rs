//! A project's `drift_schedule`: how often each environment is checked for
//! drift (`every <n>m|h|d`, default off).
//!
//! ```toml
//! [projects.sandbox]
//! drift_schedule = "every 6h"                 # every environment
//! # or, per environment:
//! drift_schedule = { dev = "every 1h", prod = "every 6h" }
//! ```

use super::ConfigError;
use super::tfc::FileSource;
use app::domain::ids::EnvName;
use std::collections::BTreeMap;
use std::time::Duration;

/// A period: `every 30m`, `every 6h`, `every 1d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Every(pub Duration);

impl Every {
    /// Parses `every <n>m|h|d` (n from 1; at least a minute).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{text}` is not a schedule: write `every <n>m`, `every <n>h` or `every <n>d` (e.g. \"every 6h\")"
            )
        };
        let rest = text.trim().strip_prefix("every ").ok_or_else(bad)?.trim();
        let (n, unit) = rest.split_at(rest.len().saturating_sub(1));
        let n: u64 = n.parse().ok().filter(|n| *n > 0).ok_or_else(bad)?;
        let secs = match unit {
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            _ => return Err(bad()),
        };
        let total = n.checked_mul(secs).filter(|s| *s <= 366 * 86_400);
        total
            .map(|s| Self(Duration::from_secs(s)))
            .ok_or_else(|| format!("`{text}` is longer than a year"))
    }
}

/// The project's schedules per environment, from its `drift_schedule`.
pub(super) fn drift_schedules(
    key: &str,
    raw: Option<toml::Spanned<toml::Value>>,
    environments: &[EnvName],
    source: &FileSource,
) -> Result<BTreeMap<EnvName, Every>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(BTreeMap::new());
    };
    let at = raw.span().start;
    let bad = |message: String| ConfigError::File {
        path: source.at(at),
        message: format!("projects.{key}.drift_schedule: {message}"),
    };
    match raw.into_inner() {
        toml::Value::String(s) => {
            let every = Every::parse(&s).map_err(bad)?;
            Ok(environments.iter().map(|e| (e.clone(), every)).collect())
        }
        toml::Value::Table(table) => {
            let mut out = BTreeMap::new();
            for (env, value) in table {
                let Some(e) = environments.iter().find(|e| e.as_str() == env) else {
                    return Err(bad(format!(
                        "`{env}` is not one of the project's environments"
                    )));
                };
                let toml::Value::String(s) = value else {
                    return Err(bad(format!("{env}: write a schedule such as \"every 6h\"")));
                };
                out.insert(
                    e.clone(),
                    Every::parse(&s).map_err(|m| bad(format!("{env}: {m}")))?,
                );
            }
            Ok(out)
        }
        _ => Err(bad(
            "write \"every 6h\", or a table of environments and schedules".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_read_minutes_hours_and_days() {
        let cases: &[(&str, Option<u64>)] = &[
            ("every 6h", Some(6 * 3600)),
            ("every 30m", Some(1800)),
            ("every 1d", Some(86_400)),
            ("  every 2h ", Some(7200)),
            ("every 0h", None),
            ("every h", None),
            ("every 6", None),
            ("every 6s", None),
            ("6h", None),
            ("every -1h", None),
            ("every 400d", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = Every::parse(text).ok().map(|e| e.0.as_secs());
            assert_eq!(got, *want, "{text:?}");
        }
    }
}
