//! The live stream on the wire: the data of each `request` and `removed`
//! event of `/api/v1/events`, written by the server and read by the
//! dashboard's live table.

use super::listing::Row;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A change of the live requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// A request was filed or changed (its new row).
    Request {
        /// The row.
        row: Box<Row>,
    },
    /// A request left the live set (archived after destroy).
    Removed {
        /// Its id.
        id: String,
        /// Its project.
        #[serde(default)]
        project: String,
    },
}

impl Change {
    /// The project of the request that changed.
    pub fn project(&self) -> &str {
        match self {
            Self::Request { row } => &row.project,
            Self::Removed { project, .. } => project,
        }
    }
}

impl Change {
    /// The event's name: `request` or `removed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Request { .. } => "request",
            Self::Removed { .. } => "removed",
        }
    }
}

/// One event's data: the change (its fields at the top level, `type`
/// naming it) and the requests per status after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// What changed.
    #[serde(flatten)]
    pub change: Change,
    /// Requests per status name (all requests, whatever a page filters).
    pub counts: BTreeMap<String, usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_keep_their_shape_both_ways() {
        let row = Row {
            id: "01m8abc".into(),
            title: "S3 bucket logs".into(),
            project: "sandbox".into(),
            environment: "dev".into(),
            module: "s3-bucket".into(),
            status: "planning".into(),
            requester: "ana".into(),
            updated_at: "2026-11-22T05:50:01Z".into(),
            note: String::new(),
            etag: "\"e1\"".into(),
            drifted: false,
        };
        let cases = [
            (
                Change::Request {
                    row: Box::new(row.clone()),
                },
                serde_json::json!({
                    "type": "request",
                    "row": {
                        "id": "01m8abc", "title": "S3 bucket logs", "project": "sandbox",
                        "environment": "dev", "module": "s3-bucket", "status": "planning",
                        "requester": "ana", "updated_at": "2026-11-22T05:50:01Z", "etag": "\"e1\"",
                    },
                    "counts": {"planning": 1},
                }),
            ),
            (
                Change::Removed {
                    id: row.id,
                    project: "sandbox".into(),
                },
                serde_json::json!({"type": "removed", "id": "01m8abc", "project": "sandbox", "counts": {"planning": 1}}),
            ),
        ];
        for (change, json) in cases {
            let kind = change.kind();
            let event = Event {
                change,
                counts: [("planning".to_owned(), 1)].into(),
            };
            assert_eq!(serde_json::to_value(&event).unwrap(), json, "{kind}");
            assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
        }
    }
}
