//! The structured plan, read from `terraform show -json`: resource
//! addresses and actions only — values, sensitive or not, are never kept.

use app::domain::request::PlanSummary;
use serde::{Deserialize, Serialize};

/// One resource change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceChange {
    /// Address (`module.s3-bucket_x.terraform_data.this`).
    pub address: String,
    /// The module it belongs to (`module.s3-bucket_x`), if any.
    pub module: Option<String>,
    /// `create`, `update`, `delete`, `replace`, `read`, or `import` for a
    /// resource adopted as it is (an import that also changes the
    /// resource keeps its change's action and is counted in
    /// `summary.import`).
    pub action: String,
}

/// A plan: counts, changes (destructive first), the raw log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOutput {
    /// Counts.
    pub summary: PlanSummary,
    /// Changes; `delete` and `replace` first.
    pub changes: Vec<ResourceChange>,
    /// The plan's text output.
    pub log: String,
}

#[derive(Deserialize)]
struct ShowJson {
    #[serde(default)]
    resource_changes: Vec<RawChange>,
}

#[derive(Deserialize)]
struct RawChange {
    address: String,
    #[serde(default)]
    module_address: Option<String>,
    change: RawActions,
}

#[derive(Deserialize)]
struct RawActions {
    actions: Vec<String>,
    /// Present when the resource is imported (`{"id": …}`).
    #[serde(default)]
    importing: Option<serde_json::Value>,
}

/// Parses `terraform show -json <planfile>` into counts and changes.
pub fn parse_show_json(
    json: &[u8],
) -> Result<(PlanSummary, Vec<ResourceChange>), serde_json::Error> {
    let show: ShowJson = serde_json::from_slice(json)?;
    let mut summary = PlanSummary::default();
    let mut changes = Vec::new();
    for rc in show.resource_changes {
        let acts: Vec<&str> = rc.change.actions.iter().map(String::as_str).collect();
        let importing = rc.change.importing.as_ref().is_some_and(|v| !v.is_null());
        if importing {
            summary.import += 1;
        }
        let action = match acts.as_slice() {
            ["create"] => "create",
            ["update"] => "update",
            ["delete"] => "delete",
            ["delete", "create"] | ["create", "delete"] => "replace",
            ["read"] => "read",
            _ if importing => "import", // adopted as it is
            _ => continue,              // no-op
        };
        match action {
            "create" => summary.add += 1,
            "update" => summary.change += 1,
            "delete" => summary.destroy += 1,
            "replace" => {
                summary.add += 1;
                summary.destroy += 1;
            }
            _ => {}
        }
        changes.push(ResourceChange {
            address: rc.address,
            module: rc.module_address,
            action: action.to_owned(),
        });
    }
    let rank = |a: &str| match a {
        "delete" | "replace" => 0,
        _ => 1,
    };
    changes.sort_by(|a, b| {
        rank(&a.action)
            .cmp(&rank(&b.action))
            .then(a.address.cmp(&b.address))
    });
    Ok((summary, changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_orders_changes_destructive_first() {
        let json = br#"{"resource_changes": [
            {"address": "module.a.x.one", "module_address": "module.a", "change": {"actions": ["create"], "after": {"secret": "hunter2"}}},
            {"address": "b.two", "change": {"actions": ["delete", "create"]}},
            {"address": "c.three", "change": {"actions": ["no-op"]}},
            {"address": "d.four", "change": {"actions": ["delete"]}},
            {"address": "e.five", "change": {"actions": ["update"]}}
        ]}"#;
        let (summary, changes) = parse_show_json(json).unwrap();
        assert_eq!((summary.add, summary.change, summary.destroy), (2, 1, 2));
        let order: Vec<_> = changes
            .iter()
            .map(|c| (c.address.as_str(), c.action.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                ("b.two", "replace"),
                ("d.four", "delete"),
                ("e.five", "update"),
                ("module.a.x.one", "create")
            ]
        );
        assert_eq!(changes[3].module.as_deref(), Some("module.a"));
        assert!(
            !serde_json::to_string(&changes).unwrap().contains("hunter2"),
            "values are never kept"
        );
        assert_eq!(summary.import, 0);
    }

    #[test]
    fn imports_are_counted_and_an_import_alone_is_an_import() {
        let json = br#"{"resource_changes": [
            {"address": "module.a.terraform_data.this", "module_address": "module.a",
             "change": {"actions": ["no-op"], "importing": {"id": "logs-archive"}}},
            {"address": "module.b.terraform_data.this", "module_address": "module.b",
             "change": {"actions": ["update"], "importing": {"id": "orders"}}},
            {"address": "c.three", "change": {"actions": ["no-op"], "importing": null}}
        ]}"#;
        let (summary, changes) = parse_show_json(json).unwrap();
        assert_eq!(
            (summary.import, summary.add, summary.change, summary.destroy),
            (2, 0, 1, 0)
        );
        assert_eq!(
            summary.words(),
            "2 to import, 0 to add, 1 to change, 0 to destroy"
        );
        assert_eq!(summary.short(), "+0 ~1 -0, 2 to import");
        let plain = PlanSummary {
            add: 1,
            ..PlanSummary::default()
        };
        assert_eq!(plain.words(), "1 to add, 0 to change, 0 to destroy");
        assert_eq!(plain.short(), "+1 ~0 -0");
        assert!(!serde_json::to_string(&plain).unwrap().contains("import"));
        let got: Vec<_> = changes
            .iter()
            .map(|c| (c.address.as_str(), c.action.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("module.a.terraform_data.this", "import"),
                ("module.b.terraform_data.this", "update")
            ]
        );
    }
}
