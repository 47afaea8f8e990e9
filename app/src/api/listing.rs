//! The requests dashboard on the wire: its rows, filters and pages, and
//! the one filter predicate the server's index and the browser's live
//! table both use.

use serde::{Deserialize, Serialize};

/// One row of the dashboard (also the row of a live `request` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// Request id.
    pub id: String,
    /// Module title and the request's name.
    pub title: String,
    /// Project key.
    pub project: String,
    /// Environment.
    pub environment: String,
    /// Module type.
    pub module: String,
    /// Derived status name.
    pub status: String,
    /// Requester login.
    pub requester: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
    /// What qualifies the status (stale plan, blocked run).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Etag of the indexed version: events carry it, dashboard pages leave
    /// it empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub etag: String,
    /// Whether the newest drift run found its resources different from
    /// its config (the **drifted** badge).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drifted: bool,
}

impl Row {
    /// What the filters look at.
    pub fn fields(&self) -> RowFields<'_> {
        RowFields {
            id: &self.id,
            status: &self.status,
            environment: &self.environment,
            module: &self.module,
            project: &self.project,
            title: &self.title,
            requester: &self.requester,
            drifted: self.drifted,
        }
    }
}

/// The fields of a row the dashboard filters look at; a dashboard row and
/// the server's index entry both provide them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowFields<'a> {
    /// Request id (lowercase).
    pub id: &'a str,
    /// Status name.
    pub status: &'a str,
    /// Environment.
    pub environment: &'a str,
    /// Module type.
    pub module: &'a str,
    /// Project key.
    pub project: &'a str,
    /// Module title and the request's name.
    pub title: &'a str,
    /// Requester login.
    pub requester: &'a str,
    /// Drifted.
    pub drifted: bool,
}

/// The dashboard's filters, as in the URL; an empty value means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    /// Status name.
    pub status: String,
    /// Environment.
    pub environment: String,
    /// Module type.
    pub module: String,
    /// Project key.
    pub project: String,
    /// Free text (id, title, requester).
    pub q: String,
    /// `yes`: drifted requests only; `no`: the others; empty: any.
    #[serde(default)]
    pub drift: String,
    /// Continue after this id.
    pub cursor: String,
}

/// The filters ready to test many rows (the free text lowercased once).
#[derive(Debug, Clone)]
pub struct Matcher<'a> {
    filters: &'a Filters,
    text: String,
}

impl Matcher<'_> {
    /// Whether a row belongs in the filtered list (the cursor aside).
    ///
    /// Status, environment, module and project match exactly (they are
    /// names from fixed lists). The free text is trimmed and matches,
    /// ignoring case, inside the id, the title or the requester; case is
    /// folded with Unicode lowercasing (`str::to_lowercase`) on both
    /// sides, so `ÉTÉ` finds `été` as `LOGS` finds `logs`.
    pub fn matches(&self, row: &RowFields<'_>) -> bool {
        let f = self.filters;
        [
            (&f.status, row.status),
            (&f.environment, row.environment),
            (&f.module, row.module),
            (&f.project, row.project),
        ]
        .iter()
        .all(|(want, have)| want.is_empty() || want.as_str() == *have)
            && (f.drift.is_empty() || (f.drift == "yes") == row.drifted)
            && (self.text.is_empty()
                || [row.id, row.title, row.requester]
                    .iter()
                    .any(|field| field.to_lowercase().contains(&self.text)))
    }
}

impl Filters {
    /// The predicate of these filters, to test rows with.
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher {
            filters: self,
            text: self.q.trim().to_lowercase(),
        }
    }

    /// Whether one row belongs in the filtered list (see
    /// [`Matcher::matches`]).
    pub fn matches(&self, row: &Row) -> bool {
        self.matcher().matches(&row.fields())
    }

    /// How many filters are set (the cursor aside).
    pub fn active(&self) -> usize {
        [
            &self.status,
            &self.environment,
            &self.module,
            &self.project,
            &self.q,
            &self.drift,
        ]
        .iter()
        .filter(|v| !v.is_empty())
        .count()
    }

    /// The query string of these filters with one field replaced
    /// (`status`, `cursor`); empty values are left out.
    pub fn href_with(&self, field: &str, value: &str) -> String {
        let pairs = [
            ("status", &self.status),
            ("environment", &self.environment),
            ("module", &self.module),
            ("project", &self.project),
            ("q", &self.q),
            ("drift", &self.drift),
            ("cursor", &self.cursor),
        ];
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| (*k, if *k == field { value } else { v.as_str() }))
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect();
        if query.is_empty() {
            "/requests".to_owned()
        } else {
            format!("/requests?{}", query.join("&"))
        }
    }
}

/// A choice in a filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Value in the URL.
    pub value: String,
    /// Label.
    pub label: String,
}

/// One page of the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// Matching rows, newest first.
    pub rows: Vec<Row>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
    /// The number of the server's last change when this page was read: the
    /// live stream replays what came after it.
    pub since: u64,
    /// Requests per status, in lifecycle order.
    pub counts: Vec<(String, usize)>,
    /// Projects to filter by.
    pub projects: Vec<Choice>,
    /// Environments to filter by.
    pub environments: Vec<Choice>,
    /// Modules to filter by.
    pub modules: Vec<Choice>,
}

/// `2026-11-22T05:50:01Z` → `2026-11-22 05:50`.
pub fn short_time(at: &str) -> String {
    at.get(..16).unwrap_or(at).replacen('T', " ", 1)
}

/// Percent-encodes a query value or a path segment (slashes kept: logins
/// and ids never hold one).
pub fn url_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests;
