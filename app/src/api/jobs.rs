//! The job log page (`/jobs`): remediation jobs newest first, a page at a
//! time, filtered by status, policy and request like
//! `GET /api/v1/jobs`.

use super::url_encode;
use serde::{Deserialize, Serialize};

/// The page's filters as they stand in its address (empty: any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFilters {
    /// A job status (`waiting_approval`…).
    pub status: String,
    /// A policy's name.
    pub policy: String,
    /// A request id.
    pub request: String,
    /// Jobs per page (empty: 50).
    pub limit: String,
    /// The `next_cursor` of the page before.
    pub cursor: String,
}

impl JobFilters {
    /// The page's address with these filters and `cursor` (not the
    /// current one): `/jobs?status=failed&cursor=…`.
    pub fn href(&self, cursor: Option<&str>) -> String {
        let pairs = [
            ("status", self.status.as_str()),
            ("policy", self.policy.as_str()),
            ("request", self.request.as_str()),
            ("limit", self.limit.as_str()),
            ("cursor", cursor.unwrap_or_default()),
        ];
        let query: Vec<String> = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect();
        if query.is_empty() {
            "/jobs".to_owned()
        } else {
            format!("/jobs?{}", query.join("&"))
        }
    }
}

/// One job as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRow {
    /// The job id.
    pub id: String,
    /// Its status's wire name (`waiting_approval`).
    pub status: String,
    /// Its status in words (`waiting for approval`, `no policy matched`).
    pub status_words: String,
    /// The alert's `alertname`.
    pub alert_name: String,
    /// `firing` or `resolved`.
    pub alert_status: String,
    /// The alert's labels, by name.
    pub labels: Vec<(String, String)>,
    /// When the alert started (as Alertmanager sent it).
    pub starts_at: String,
    /// The policy chosen (`None`: no policy matched).
    pub policy: Option<String>,
    /// What it does, in one line (`update_inputs: max = 9`).
    pub action: Option<String>,
    /// The request acted on, if it names one.
    pub request: Option<String>,
    /// How many times a worker claimed it.
    pub attempts: u32,
    /// When the alert was stored (RFC 3339).
    pub created_at: String,
    /// Its last change (RFC 3339).
    pub updated_at: String,
    /// What came of it, in a sentence.
    pub result: Option<String>,
}

/// Everything the page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLog {
    /// The jobs, newest first.
    pub rows: Vec<JobRow>,
    /// The address of the next (older) page, if there is one.
    pub older: Option<String>,
    /// The address of the first page, when this is not it.
    pub newest: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters_and_take_the_cursor() {
        let cases = [
            (JobFilters::default(), None, "/jobs"),
            (
                JobFilters::default(),
                Some("01kaaaaaaaaaaaaa"),
                "/jobs?cursor=01kaaaaaaaaaaaaa",
            ),
            (
                JobFilters {
                    status: "failed".into(),
                    policy: "raise receives".into(),
                    cursor: "old".into(),
                    ..JobFilters::default()
                },
                Some("01kb"),
                "/jobs?status=failed&policy=raise%20receives&cursor=01kb",
            ),
            (
                JobFilters {
                    request: "01kr".into(),
                    limit: "2".into(),
                    ..JobFilters::default()
                },
                None,
                "/jobs?request=01kr&limit=2",
            ),
        ];
        for (filters, cursor, want) in cases {
            assert_eq!(filters.href(cursor), want);
        }
    }
}
