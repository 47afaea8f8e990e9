//! Who may do what: one pure function decides every action, for the REST
//! API, the UI, server functions and webhooks alike. The UI only mirrors it.

use super::request::{Attempt, Request};
use super::status::{Status, Step, derive_status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

mod operations;
mod project;
mod state;
mod token;

pub use operations::{Operation, decide_operation, token_scope};
pub use project::{ProjectAccess, Visibility};
use state::check_state;
pub use token::TokenScope;

/// A user's role; each includes the rights of the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads requests and plans.
    Viewer,
    /// Files, follows and edits their own requests.
    Requester,
    /// Approves, merges and applies.
    Approver,
    /// Manages users, tokens and the catalogue.
    Admin,
}

impl Role {
    /// Parses `viewer`, `requester`, `approver` or `admin`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "viewer" => Self::Viewer,
            "requester" => Self::Requester,
            "approver" => Self::Approver,
            "admin" => Self::Admin,
            _ => return None,
        })
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Requester => "requester",
            Self::Approver => "approver",
            Self::Admin => "admin",
        }
    }
}

/// Whoever is acting: a person or a machine token's owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Login.
    pub login: String,
    /// Effective role (a token's scope already applied).
    pub role: Role,
    /// How the caller proved who they are.
    #[serde(default)]
    pub credential: Credential,
}

impl Actor {
    /// A person signed in with a browser session (or the command line).
    pub fn person(login: impl Into<String>, role: Role) -> Self {
        Self {
            login: login.into(),
            role,
            credential: Credential::Session,
        }
    }

    /// Whether the caller holds a token of scope `automation` (it may only
    /// file remediations).
    pub fn is_automation(&self) -> bool {
        self.credential
            == (Credential::Token {
                scope: Some(TokenScope::Automation),
            })
    }

    /// The machine scope (`automation`, `metrics`) of the caller's token,
    /// if it has one: such a caller may do that one thing and nothing else.
    pub fn machine_scope(&self) -> Option<TokenScope> {
        match self.credential {
            Credential::Token { scope: Some(s) } if s.is_machine() => Some(s),
            _ => None,
        }
    }
}

/// How a caller authenticated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// A browser session after a sign-in (or the operator's command line).
    #[default]
    Session,
    /// A bearer token, with its scope when it has one.
    Token {
        /// The token's scope (`None`: the owner's role).
        scope: Option<TokenScope>,
    },
    /// A Slack user linked to a tfpilot user (a signed Slack request).
    Slack,
    /// A remediation job acting under a policy (its login names the
    /// policy); never ships in production.
    Remediation,
}

impl Credential {
    /// How an action arrived, for the audit log: `slack`, `token` or
    /// `session`.
    pub fn via(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Token { .. } => "token",
            Self::Slack => "slack",
            Self::Remediation => "remediation",
        }
    }
}

/// The deployment's guardrails.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Policy {
    /// Environments treated as production.
    pub prod_environments: BTreeSet<String>,
    /// Who may approve, merge and apply in production.
    pub prod_allowed_users: BTreeSet<String>,
    /// Who may destroy in production.
    pub destroy_prod_allowed_users: BTreeSet<String>,
    /// A requester may not approve their own production request.
    pub four_eyes: bool,
    /// Each project's access rules by project key (members, visibility,
    /// its own allow-lists); a project not named is open to everyone at
    /// their global role.
    #[serde(default)]
    pub projects: std::collections::BTreeMap<String, ProjectAccess>,
}

impl Policy {
    /// Whether `env` is a production environment.
    pub fn is_prod(&self, env: &str) -> bool {
        self.prod_environments.contains(env)
    }
}

/// Everything one can do to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Run a (new) plan of the PR's head.
    Plan,
    /// Approve the current plan.
    Approve,
    /// Merge the approved PR.
    Merge,
    /// Apply the merged change.
    Apply,
    /// Change the config (new revision, new PR).
    Update,
    /// Remove the block and destroy the resources.
    Destroy,
    /// Retry the failed step.
    Retry,
    /// Let a blocked apply or destroy make exactly the changes it listed.
    Confirm,
    /// Apply an applied request's current config again on main's tip,
    /// its own block only: reverts drift (and answers remediations).
    Reapply,
}

impl Action {
    /// Every action, in the order the UI lists them.
    pub const ALL: [Action; 9] = [
        Self::Plan,
        Self::Approve,
        Self::Merge,
        Self::Apply,
        Self::Update,
        Self::Destroy,
        Self::Retry,
        Self::Confirm,
        Self::Reapply,
    ];

    /// Lowercase name (also the REST path segment).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Approve => "approve",
            Self::Merge => "merge",
            Self::Apply => "apply",
            Self::Update => "update",
            Self::Destroy => "destroy",
            Self::Retry => "retry",
            Self::Confirm => "confirm",
            Self::Reapply => "reapply",
        }
    }

    /// Parses a lowercase name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The action a `POST /requests/{id}/{action}` (or an action form)
    /// names: every action but `update` (a `PATCH` of the request) and
    /// `confirm` (which carries the addresses it confirms). The one parser
    /// of action names from the outside.
    pub fn from_path(s: &str) -> Result<Self, String> {
        Self::parse(s)
            .filter(|a| !matches!(a, Self::Update | Self::Confirm))
            .ok_or_else(|| {
                format!(
                    "`{}` is not an action; use plan, approve, merge, apply, destroy, retry or reapply",
                    s.chars().take(32).collect::<String>()
                )
            })
    }
}

/// The answer for one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Go ahead.
    Allowed,
    /// Not this actor (HTTP 403); `rule` names the rule that refused.
    Forbidden {
        /// Stable rule id, e.g. `prod.allow_list`.
        rule: String,
        /// The reason in words.
        reason: String,
    },
    /// Not in this state (HTTP 409).
    Conflict {
        /// The reason in words.
        reason: String,
        /// Stable rule id when a named rule refused (`approval.stale`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
    },
}

impl Decision {
    /// Whether the action may go ahead.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed)
    }
}

/// The rule that refuses a project's requests to someone it is hidden
/// from (the HTTP layer answers 404 before it is ever asked).
pub const HIDDEN_RULE: &str = "project.hidden";
/// What someone a project is hidden from is told: nothing is there.
pub const HIDDEN: &str = "no such request";

/// The rule that refuses an automation token anything but filing a
/// remediation.
pub const AUTOMATION_RULE: &str = "scope.automation";
pub(super) const AUTOMATION_ONLY: &str =
    "a token of scope automation may only file remediations (POST /api/v1/alerts/alertmanager)";
/// The rule that refuses a metrics token anything but reading `/metrics`.
pub const METRICS_RULE: &str = "scope.metrics";
pub(super) const METRICS_ONLY: &str = "a token of scope metrics may only read GET /metrics";

/// The refusal of everything outside a machine scope's one purpose.
pub(super) fn machine_refusal(scope: TokenScope) -> Decision {
    match scope {
        TokenScope::Metrics => forbidden(METRICS_RULE, METRICS_ONLY),
        _ => forbidden(AUTOMATION_RULE, AUTOMATION_ONLY),
    }
}

pub(super) fn forbidden(rule: &str, reason: impl Into<String>) -> Decision {
    Decision::Forbidden {
        rule: rule.to_owned(),
        reason: reason.into(),
    }
}

pub(super) fn conflict(reason: impl Into<String>) -> Decision {
    Decision::Conflict {
        reason: reason.into(),
        rule: None,
    }
}

pub(super) fn conflict_rule(rule: &str, reason: impl Into<String>) -> Decision {
    Decision::Conflict {
        reason: reason.into(),
        rule: Some(rule.to_owned()),
    }
}

/// Whether the request's approval still covers its PR: the approved head is
/// the PR's head (after a merge: the merged head) and no plan came after
/// the approved one.
pub fn approval_holds(req: &Request) -> bool {
    let (Some(pr), Some(approval), Some(plan)) = (&req.pr, &req.approval, req.runs.plan.latest())
    else {
        return false;
    };
    approval.head_sha == pr.head_sha && approval.plan_attempt == plan.attempt
}

/// The newest apply or destroy attempt, if it was blocked by the change check.
pub fn blocked_attempt(req: &Request) -> Option<&Attempt> {
    let history = if req.cleanup_pr.is_some() {
        &req.runs.destroy
    } else {
        &req.runs.apply
    };
    history.latest().filter(|a| a.is_blocked())
}

/// The right an action needs, after resolving `Retry` to its failed step.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Right {
    Edit,
    Ship,
    Destroy,
}

fn right_for(action: Action, status: Status) -> Right {
    match action {
        Action::Plan | Action::Update => Right::Edit,
        Action::Approve | Action::Merge | Action::Apply | Action::Confirm | Action::Reapply => {
            Right::Ship
        }
        Action::Destroy => Right::Destroy,
        Action::Retry => match status.failed_step() {
            Some(Step::Apply) => Right::Ship,
            Some(Step::Destroy | Step::Cleanup) => Right::Destroy,
            _ => Right::Edit,
        },
    }
}

/// Decides one action: first who (403), then whether the state allows it (409).
pub fn decide(action: Action, req: &Request, actor: &Actor, policy: &Policy) -> Decision {
    let status = derive_status(req);
    let who = authorize(action, status, req, actor, policy);
    if !who.is_allowed() {
        return who;
    }
    check_state(action, status, req)
}

fn authorize(
    action: Action,
    status: Status,
    req: &Request,
    actor: &Actor,
    policy: &Policy,
) -> Decision {
    if let Some(scope) = actor.machine_scope() {
        return machine_refusal(scope);
    }
    let project = req.project.as_str();
    let Some(actor) = &policy.in_project(project, actor) else {
        return forbidden(HIDDEN_RULE, HIDDEN);
    };
    if actor.role == Role::Viewer {
        return forbidden(
            "role.viewer",
            "viewers can read requests but not act on them",
        );
    }
    let own = req.created_by == actor.login;
    let authored = req.authored_by(&actor.login);
    let prod = policy.is_prod(req.environment.as_str());
    match right_for(action, status) {
        Right::Edit | Right::Destroy if actor.role == Role::Requester && !own => forbidden(
            "role.requester_own",
            "requesters can act only on their own requests; ask an approver",
        ),
        Right::Ship | Right::Destroy if prod && actor.credential == Credential::Remediation => {
            forbidden(
                "prod.remediation",
                format!(
                    "a remediation job may not {} in production; a person does",
                    action.as_str()
                ),
            )
        }
        Right::Destroy if prod && !policy.destroy_prod_allowed(project, &actor.login) => forbidden(
            "prod.destroy_allow_list",
            "destroying in production needs a user on the prod destroy allow-list",
        ),
        Right::Ship if actor.role < Role::Approver => forbidden(
            "role.approver",
            format!("`{}` needs the approver or admin role", action.as_str()),
        ),
        Right::Ship if prod && !policy.prod_allowed(project, &actor.login) => forbidden(
            "prod.allow_list",
            format!(
                "{} in production needs a user on the prod allow-list",
                action.as_str()
            ),
        ),
        Right::Ship if prod && policy.four_eyes && authored && action == Action::Approve => {
            forbidden(
                "prod.four_eyes",
                if own {
                    "a production request needs a second person: you cannot approve your own"
                } else {
                    "a production request needs a second person: you changed its config, so someone else must approve it"
                },
            )
        }
        _ => Decision::Allowed,
    }
}

/// Every action with its decision for this actor: the UI shows the allowed
/// ones and the reason for the others.
pub fn allowed_actions(req: &Request, actor: &Actor, policy: &Policy) -> Vec<(Action, Decision)> {
    Action::ALL
        .into_iter()
        .map(|a| (a, decide(a, req, actor, policy)))
        .collect()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod machine_tests;
