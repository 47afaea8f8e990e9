//! What an apply or a destroy may change, and the check of a saved plan
//! against it.
//!
//! An apply runs on the tip of main, so its plan holds every difference
//! between main and the state — not only the request's own block. Before
//! anything is applied, each planned resource change must belong to a
//! request the scope names for that kind of change; anything else stops
//! the run with the addresses and the requests that own them.
//!
//! The same rules are written again in the Actions workflows' check script
//! (`infra-workflows/template/.github/tfpilot/check_plan.py`); a test runs
//! both on one table.

use super::ids::RequestId;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Apply or destroy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    /// Converge main: create and update the blocks of approved requests.
    Apply,
    /// Destroy one request's resources (targeted).
    Destroy,
}

/// The changes a run may make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Apply or destroy.
    pub kind: ScopeKind,
    /// Requests whose blocks may be created or updated: the one being
    /// applied and every other merged, approved request waiting for apply.
    #[serde(default)]
    pub apply: Vec<RequestId>,
    /// Requests whose resources may be destroyed.
    #[serde(default)]
    pub destroy: Vec<RequestId>,
    /// Changes an approver confirmed after a blocked run (exact address and action).
    #[serde(default)]
    pub confirmed: Vec<PlannedChange>,
    /// Destroys: the one block the plan targets (`module.<module>_<id>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// One resource change of a plan: its address and its action
/// (`create`, `update`, `delete`, `replace`, `read`, `import`: adopted
/// as it is).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PlannedChange {
    /// Resource address.
    pub address: String,
    /// What the plan does to it.
    pub action: String,
}

/// A change the scope does not allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unexpected {
    /// Resource address.
    pub address: String,
    /// What the plan would do to it.
    pub action: String,
    /// The request whose block holds the resource, if it is a tfpilot block.
    #[serde(default)]
    pub owner: Option<RequestId>,
}

/// The request whose block (`module.<module>_<request id>`) holds the
/// resource at `address`, if any.
pub fn owner(address: &str) -> Option<RequestId> {
    let rest = address.strip_prefix("module.")?;
    let name = rest.split(['.', '[']).next()?;
    let (_, id) = name.rsplit_once('_')?;
    RequestId::parse(id).ok()
}

/// The changes of `plan` that `scope` does not allow, in plan order.
pub fn check(scope: &Scope, plan: &[PlannedChange]) -> Vec<Unexpected> {
    plan.iter()
        .filter(|c| !allowed(scope, c))
        .map(|c| Unexpected {
            address: c.address.clone(),
            action: c.action.clone(),
            owner: owner(&c.address),
        })
        .collect()
}

fn allowed(scope: &Scope, change: &PlannedChange) -> bool {
    if matches!(change.action.as_str(), "read" | "no-op") || scope.confirmed.contains(change) {
        return true;
    }
    let Some(owner) = owner(&change.address) else {
        return false;
    };
    match change.action.as_str() {
        "create" | "update" | "import" => {
            scope.kind == ScopeKind::Apply && scope.apply.contains(&owner)
        }
        "delete" => scope.destroy.contains(&owner),
        _ => false, // replace: never without a confirmation
    }
}

/// One sentence naming the unexpected changes and their owners.
pub fn describe(unexpected: &[Unexpected]) -> String {
    let mut out = format!(
        "blocked before anything was applied: {} change{} outside what was approved:",
        unexpected.len(),
        if unexpected.len() == 1 { "" } else { "s" }
    );
    for (i, u) in unexpected.iter().enumerate() {
        let _ = write!(
            out,
            "{} {} {} ({})",
            if i == 0 { "" } else { ";" },
            u.action,
            u.address,
            match &u.owner {
                Some(id) => format!("request {id}"),
                None => "not a tfpilot block".to_owned(),
            }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> RequestId {
        RequestId::generate(1_700_000_000_000 + n, n as u32)
    }

    fn change(address: &str, action: &str) -> PlannedChange {
        PlannedChange {
            address: address.to_owned(),
            action: action.to_owned(),
        }
    }

    #[test]
    fn owners_come_from_the_block_name() {
        let a = id(1);
        assert_eq!(
            owner(&format!("module.s3-bucket_{a}.terraform_data.this")),
            Some(a)
        );
        assert_eq!(
            owner(&format!("module.ecs-service_{a}[0].module.inner.x.y")),
            Some(a)
        );
        assert_eq!(owner("aws_s3_bucket.hand_written"), None);
        assert_eq!(owner("module.vpc.aws_vpc.this"), None);
        assert_eq!(owner("module.s3-bucket_NOTANID.x.y"), None);
    }

    #[test]
    fn the_check_table() {
        let (me, other, stranger) = (id(1), id(2), id(3));
        let apply = Scope {
            kind: ScopeKind::Apply,
            apply: vec![me, other],
            destroy: vec![],
            confirmed: vec![],
            target: None,
        };
        let destroy = Scope {
            kind: ScopeKind::Destroy,
            apply: vec![],
            destroy: vec![me],
            confirmed: vec![],
            target: None,
        };
        let addr = |r: RequestId| format!("module.s3-bucket_{r}.terraform_data.this");
        let cases: [(&Scope, PlannedChange, bool); 12] = [
            (&apply, change(&addr(me), "create"), true),
            (&apply, change(&addr(me), "update"), true),
            (&apply, change(&addr(other), "create"), true),
            (&apply, change(&addr(me), "read"), true),
            (&apply, change(&addr(stranger), "create"), false),
            (&apply, change(&addr(other), "delete"), false),
            (&apply, change(&addr(me), "replace"), false),
            (&apply, change("aws_s3_bucket.hand", "create"), false),
            (&destroy, change(&addr(me), "delete"), true),
            (&destroy, change(&addr(me), "create"), false),
            (&destroy, change(&addr(other), "delete"), false),
            (&destroy, change(&addr(me), "replace"), false),
        ];
        for (scope, c, ok) in cases {
            let got = check(scope, std::slice::from_ref(&c));
            assert_eq!(got.is_empty(), ok, "{:?} {c:?}", scope.kind);
        }
    }

    #[test]
    fn a_confirmed_change_passes_only_with_its_action() {
        let (me, other) = (id(1), id(2));
        let address = format!("module.s3-bucket_{other}.terraform_data.this");
        let scope = Scope {
            kind: ScopeKind::Apply,
            apply: vec![me],
            destroy: vec![],
            confirmed: vec![change(&address, "delete")],
            target: None,
        };
        assert!(check(&scope, &[change(&address, "delete")]).is_empty());
        let left = check(&scope, &[change(&address, "replace")]);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].owner, Some(other));
        let sentence = describe(&left);
        assert!(sentence.contains(&address), "{sentence}");
        assert!(sentence.contains(&format!("request {other}")), "{sentence}");
    }
}
