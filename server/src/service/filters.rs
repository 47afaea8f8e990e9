//! Request-list filters as people type them (query strings, the dashboard
//! form), parsed into an index query. One parser for the API and the UI, so
//! both name the same field and rule.

use super::index::Query;
use app::domain::ids::RequestId;
use app::domain::status::Status;

/// The filters as text; empty values mean "any".
#[derive(Debug, Default, Clone)]
pub struct FilterText<'a> {
    /// Status name.
    pub status: Option<&'a str>,
    /// Environment.
    pub environment: Option<&'a str>,
    /// Module type.
    pub module: Option<&'a str>,
    /// Project key.
    pub project: Option<&'a str>,
    /// Free text.
    pub q: Option<&'a str>,
    /// `yes` or `no`.
    pub drift: Option<&'a str>,
    /// Page size.
    pub limit: Option<&'a str>,
    /// Cursor of the previous page.
    pub cursor: Option<&'a str>,
}

/// A filter that cannot be used: the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FilterError {
    /// The query parameter.
    pub field: &'static str,
    /// What is wrong, as a sentence.
    pub message: String,
}

/// Default page size.
pub const DEFAULT_LIMIT: usize = 50;

fn given(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Parses the filters.
pub fn parse(text: &FilterText<'_>) -> Result<Query, FilterError> {
    let limit = match given(text.limit) {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => {
                return Err(FilterError {
                    field: "limit",
                    message: format!("`{l}` must be a whole number from 1 to 500"),
                });
            }
        },
    };
    let cursor = given(text.cursor)
        .map(|c| {
            RequestId::parse(&c).map_err(|_| FilterError {
                field: "cursor",
                message: format!("`{c}` is not a cursor from a previous page"),
            })
        })
        .transpose()?;
    let status = given(text.status);
    if let Some(s) = &status
        && !Status::NAMES.contains(&s.as_str())
    {
        return Err(FilterError {
            field: "status",
            message: format!(
                "`{s}` is not a status; use one of: {}",
                Status::NAMES.join(", ")
            ),
        });
    }
    let drift = match given(text.drift).as_deref() {
        None => None,
        Some("yes") => Some(true),
        Some("no") => Some(false),
        Some(other) => {
            return Err(FilterError {
                field: "drift",
                message: format!("`{other}` must be `yes` or `no`"),
            });
        }
    };
    Ok(Query {
        status,
        drift,
        environment: given(text.environment),
        module: given(text.module),
        project: given(text.project),
        text: given(text.q),
        limit,
        cursor,
        seen: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_filters_are_any_with_the_default_page() {
        let q = parse(&FilterText {
            status: Some(" "),
            ..Default::default()
        })
        .map(|q| (q.status, q.limit, q.cursor));
        assert_eq!(q, Ok((None, DEFAULT_LIMIT, None)));
    }

    #[test]
    fn bad_filters_name_their_field() {
        let cases = [
            ("status", "done"),
            ("limit", "0"),
            ("limit", "501"),
            ("cursor", "../x"),
            ("drift", "maybe"),
        ];
        for (field, value) in cases {
            let mut text = FilterText::default();
            match field {
                "status" => text.status = Some(value),
                "limit" => text.limit = Some(value),
                "drift" => text.drift = Some(value),
                _ => text.cursor = Some(value),
            }
            assert_eq!(parse(&text).err().map(|e| e.field), Some(field), "{value}");
        }
    }
}
