//! The request page on the wire: the request as one caller sees it, its
//! actions, links, block and plan (grouped here, destructive first).

use super::timeline::TimelineEntry;
use serde::{Deserialize, Serialize};
/// One input as the page shows it (sensitive values are `(sensitive)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigItem {
    /// Input name.
    pub name: String,
    /// The value as text.
    pub value: String,
}

/// A PR or run, with its link when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkItem {
    /// `PR #3`, `plan attempt 2`.
    pub label: String,
    /// Where it lives (GitHub), if anywhere a browser can go.
    pub url: Option<String>,
    /// `open`, `merged`, `completed: success`…
    pub state: String,
}

/// A check a run's executor ran beside its plan: HCP Terraform's cost
/// estimate or a policy check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckItem {
    /// `plan attempt 2`, `apply attempt 1`.
    pub run: String,
    /// `cost` or `policy`.
    pub kind: String,
    /// `Cost estimate`, a policy set's name.
    pub name: String,
    /// `passed`, `soft failed`, `finished`…
    pub outcome: String,
    /// What it found (`+$12.40/month`).
    pub detail: String,
    /// The outcome stops the run.
    pub blocking: bool,
}

/// One action and whether the caller may take it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionItem {
    /// `approve`.
    pub action: String,
    /// `Approve`.
    pub label: String,
    /// Why not, when not allowed.
    pub reason: Option<String>,
    /// Not allowed for this user (a rule), rather than not now (the state).
    pub forbidden: bool,
    /// The question to confirm before a destructive action.
    pub confirm: Option<String>,
    /// For `confirm`: exactly the blocked run's changes the page shows, as
    /// `<action> <address>` (sent back, so a newer blocked list is never
    /// confirmed unseen).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
}

/// The rendered Terraform block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockView {
    /// `envs/dev/tfpilot.s3.tf`.
    pub path: String,
    /// The block between (and with) its markers.
    pub text: String,
}

/// A request as its page shows it to one caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    /// Id.
    pub id: String,
    /// `S3 bucket logs-archive`.
    pub title: String,
    /// Derived status.
    pub status: String,
    /// The failing step, when failed.
    pub failed_step: Option<String>,
    /// Who filed it.
    pub requester: String,
    /// Project key.
    pub project: String,
    /// Environment.
    pub environment: String,
    /// Module title.
    pub module: String,
    /// It adopts (imports) a resource that already exists rather than
    /// creating one.
    #[serde(default)]
    pub adopts: bool,
    /// Revision (updates add one).
    pub revision: u32,
    /// Filed at.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// Inputs, redacted.
    pub config: Vec<ConfigItem>,
    /// Approval, in words.
    pub approval: Option<String>,
    /// What qualifies the status (stale plan, blocked run, missing approval).
    pub note: Option<String>,
    /// A blocked run's changes outside its scope, one line each.
    pub blocked: Vec<String>,
    /// Cost estimates and policy checks of the newest runs.
    #[serde(default)]
    pub checks: Vec<CheckItem>,
    /// PRs and runs, newest last.
    pub links: Vec<LinkItem>,
    /// The caller's actions.
    pub actions: Vec<ActionItem>,
    /// The block, rendered with redacted inputs.
    pub block: Option<BlockView>,
    /// The change in plain words (`domain::explain`), shown above the
    /// plan; `None` when the module is no longer in the registry.
    #[serde(default)]
    pub explanation: Option<String>,
    /// The plan of the newest attempt.
    pub plan: Option<PlanView>,
    /// Why there is no plan to show.
    pub plan_note: Option<String>,
    /// The server's last change number when this was read (see
    /// `Listing::since`).
    pub since: u64,
    /// The drift the newest drift run found, with Revert and Adopt.
    #[serde(default)]
    pub drift: Option<super::drift::DriftView>,
    /// The newest records of the request's audit log, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// How many older records the audit log holds beyond `timeline`.
    #[serde(default)]
    pub older: usize,
}

/// One resource change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChange {
    /// Address.
    pub address: String,
    /// `create`, `update`, `delete`, `replace`, `read`.
    pub action: String,
}

/// The changes of one module (or the root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanGroup {
    /// `module.s3-bucket_x`, or `(root)`.
    pub module: String,
    /// Destructive first.
    pub changes: Vec<PlanChange>,
}

/// A plan as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    /// `plan attempt 2 at 1a2b3c4d5e`.
    pub label: String,
    /// To import (adopted as they are).
    #[serde(default)]
    pub import: u32,
    /// To create.
    pub add: u32,
    /// To update in place.
    pub change: u32,
    /// To destroy.
    pub destroy: u32,
    /// To replace (counted in add and destroy too).
    pub replace: u32,
    /// Groups with destructive changes first.
    pub groups: Vec<PlanGroup>,
    /// Terraform's output.
    pub log: String,
}

impl PlanView {
    /// Groups changes by module, groups with destructive changes first,
    /// destructive changes first within each group.
    pub fn group(changes: Vec<(String, Option<String>, String)>) -> Vec<PlanGroup> {
        let mut groups: Vec<PlanGroup> = Vec::new();
        for (address, module, action) in changes {
            let module = module.unwrap_or_else(|| "(root)".to_owned());
            let change = PlanChange { address, action };
            match groups.iter_mut().find(|g| g.module == module) {
                Some(g) => g.changes.push(change),
                None => groups.push(PlanGroup {
                    module,
                    changes: vec![change],
                }),
            }
        }
        for g in &mut groups {
            g.changes.sort_by_key(|c| !is_destructive(&c.action));
        }
        groups.sort_by_key(|g| !g.changes.iter().any(|c| is_destructive(&c.action)));
        groups
    }
}

/// Whether an action removes something.
pub fn is_destructive(action: &str) -> bool {
    matches!(action, "delete" | "replace")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_put_destructive_changes_first() {
        let c = |a: &str, m: Option<&str>, act: &str| {
            (a.to_owned(), m.map(str::to_owned), act.to_owned())
        };
        let groups = PlanView::group(vec![
            c("module.a.x", Some("module.a"), "create"),
            c("root_thing", None, "update"),
            c("module.b.y", Some("module.b"), "create"),
            c("module.b.z", Some("module.b"), "delete"),
        ]);
        let order: Vec<(&str, Vec<&str>)> = groups
            .iter()
            .map(|g| {
                (
                    g.module.as_str(),
                    g.changes.iter().map(|c| c.action.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                ("module.b", vec!["delete", "create"]),
                ("module.a", vec!["create"]),
                ("(root)", vec!["update"]),
            ]
        );
    }
}
