//! Decisions outside a request's lifecycle: filing, people, tokens, audit.

use super::{Actor, Credential, Decision, Role, TokenScope, conflict, forbidden, machine_refusal};

/// What one may do outside a request's lifecycle: filing, people,
/// tokens and the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation<'a> {
    /// File a new request.
    File,
    /// List users.
    ListUsers,
    /// Add a user.
    AddUser,
    /// Change a user.
    ChangeUser {
        /// Whose record.
        login: &'a str,
        /// A new role.
        role: Option<Role>,
        /// Disable (`true`) or enable.
        disabled: Option<bool>,
        /// A new password.
        password: bool,
        /// A new Slack member id or e-mail address (or either cleared).
        links: bool,
    },
    /// List tokens: everyone's (`None`) or one user's.
    ListTokens {
        /// Whose tokens (`None`: everyone's).
        owner: Option<&'a str>,
    },
    /// Create a token.
    CreateToken {
        /// Its owner.
        owner: &'a str,
        /// The scope asked for (`None`: see [`token_scope`]).
        scope: Option<TokenScope>,
    },
    /// Revoke a token of `owner`.
    RevokeToken {
        /// Its owner.
        owner: &'a str,
    },
    /// Read requests: their documents, status, runs and timelines, and
    /// answers about them (what failed, who approved).
    ReadRequests,
    /// Read the audit log of one request (`true`) or the system's.
    ReadAudit {
        /// A request's records (`true`) or the system's.
        request: bool,
    },
    /// File remediations: post alerts to the receiver. Only a token of
    /// scope `automation` does.
    FileRemediation,
    /// Read the job log (remediation jobs and their alerts).
    ReadJobs,
    /// Anything on the API but filing remediations: every route's caller
    /// is checked for it once, so an automation token is refused
    /// everywhere else.
    UseApi,
    /// Read the remediation policies, or try an alert against them.
    ReadPolicies,
    /// Create, change or delete a remediation policy.
    ManagePolicies,
    /// Create a project.
    CreateProject,
    /// Change a project: its members only (`settings: false`), or its
    /// settings (title, repo, environments, visibility, allow-lists …).
    ChangeProject {
        /// The caller's role in the project (`None`: hidden from them).
        role_here: Option<Role>,
        /// Whether anything but the members changes.
        settings: bool,
    },
    /// List, read (never the secrets), set or delete integration
    /// credentials.
    ManageIntegrations,
    /// Read the server's metrics (`GET /metrics`): admins, and tokens of
    /// scope `metrics`, which may do nothing else.
    ReadMetrics,
}

/// Decides an [`Operation`]: 403 with a rule, 409 for a change that would
/// lock someone out, or allowed.
pub fn decide_operation(op: Operation<'_>, actor: &Actor) -> Decision {
    if let Some(scope) = actor.machine_scope() {
        return match (scope, op) {
            (TokenScope::Automation, Operation::FileRemediation)
            | (TokenScope::Metrics, Operation::ReadMetrics) => Decision::Allowed,
            _ => machine_refusal(scope),
        };
    }
    let admin = actor.role == Role::Admin;
    let admin_only = |what: &str| {
        if admin {
            Decision::Allowed
        } else {
            forbidden("users.admin", format!("only an admin {what}"))
        }
    };
    match op {
        Operation::File if actor.role < Role::Requester => forbidden(
            "role.viewer",
            "viewers can read requests but not file them; ask an admin for the requester role",
        ),
        Operation::File => Decision::Allowed,
        Operation::ListUsers => admin_only("lists users"),
        Operation::AddUser => admin_only("adds users"),
        Operation::ChangeUser {
            login,
            role,
            disabled,
            password,
            links,
        } => {
            if links && !admin {
                return forbidden(
                    "users.admin",
                    "only an admin links a Slack account or sets an e-mail address (a Slack link decides who acts as whom in Slack)",
                );
            }
            if password && actor.credential != Credential::Session {
                return forbidden(
                    "password.session",
                    "a password is changed from a signed-in session, not with a token",
                );
            }
            let own = login == actor.login;
            if !(own && role.is_none() && disabled.is_none()) {
                let who = admin_only("changes other users, roles and access");
                if !who.is_allowed() {
                    return who;
                }
            }
            if own && (disabled == Some(true) || role.is_some_and(|r| r < Role::Admin)) {
                return conflict("an admin cannot disable or demote themself; ask another admin");
            }
            Decision::Allowed
        }
        Operation::ListTokens { owner } => match owner {
            Some(o) if o == actor.login => Decision::Allowed,
            _ => admin_only("lists other users' tokens"),
        },
        Operation::CreateToken { owner, scope } => {
            if owner != actor.login && !admin {
                return forbidden(
                    "tokens.owner",
                    "only an admin manages another user's tokens",
                );
            }
            if let Some(machine) = scope.filter(|s| s.is_machine())
                && !admin
            {
                return forbidden(
                    &format!("tokens.{}", machine.as_str()),
                    format!(
                        "only an admin creates a token of scope {}",
                        machine.as_str()
                    ),
                );
            }
            if scope
                .and_then(TokenScope::role)
                .is_some_and(|s| s > actor.role)
            {
                return forbidden(
                    "tokens.scope",
                    format!(
                        "a token cannot have a scope above the role it is created with ({})",
                        actor.role.as_str()
                    ),
                );
            }
            Decision::Allowed
        }
        Operation::RevokeToken { owner } => {
            if owner == actor.login || admin {
                Decision::Allowed
            } else {
                forbidden(
                    "tokens.owner",
                    "only an admin manages another user's tokens",
                )
            }
        }
        // Every signed-in role reads requests and jobs; viewers exist for that.
        Operation::ReadRequests
        | Operation::ReadAudit { request: true }
        | Operation::ReadJobs
        | Operation::UseApi => Decision::Allowed,
        Operation::FileRemediation => forbidden(
            "alerts.automation",
            "alerts are filed with a token of scope automation; an admin creates one with `tfpilot tokens create --user NAME --scope automation`",
        ),
        Operation::ReadPolicies if actor.role < Role::Approver => forbidden(
            "policies.approver",
            "remediation policies are read by approvers and admins",
        ),
        Operation::ReadPolicies => Decision::Allowed,
        Operation::ManagePolicies if !admin => forbidden(
            "policies.admin",
            "only an admin creates, changes or deletes remediation policies",
        ),
        Operation::ManagePolicies => Decision::Allowed,
        Operation::CreateProject if !admin => {
            forbidden("projects.admin", "only an admin creates projects")
        }
        Operation::CreateProject => Decision::Allowed,
        Operation::ChangeProject {
            role_here,
            settings,
        } => {
            if admin {
                Decision::Allowed
            } else if settings {
                forbidden(
                    "projects.admin",
                    "only an admin changes a project's settings; a project admin manages its members",
                )
            } else if role_here == Some(Role::Admin) {
                Decision::Allowed
            } else {
                forbidden(
                    "projects.members",
                    "only an admin or the project's admins manage its members",
                )
            }
        }
        Operation::ManageIntegrations if !admin => forbidden(
            "integrations.admin",
            "only an admin reads or changes integration credentials",
        ),
        Operation::ManageIntegrations => Decision::Allowed,
        Operation::ReadMetrics if !admin => forbidden(
            "metrics.scope",
            "metrics are read by an admin or with a token of scope metrics; an admin creates one with `tfpilot tokens create --user NAME --scope metrics`",
        ),
        Operation::ReadMetrics => Decision::Allowed,
        Operation::ReadAudit { request: false } => {
            if admin {
                Decision::Allowed
            } else {
                forbidden(
                    "audit.admin",
                    "the system audit log (sign-ins, tokens) is for admins; pass ?request=<id> for a request's records",
                )
            }
        }
    }
}

/// The scope a new token gets: what was asked for, and never more than
/// the creator's effective role. A caller acting through a scoped token
/// passes its scope on when none is asked for.
/// A machine scope (`automation`, `metrics`) is kept as asked
/// ([`decide_operation`] lets only admins ask for one).
pub fn token_scope(actor: &Actor, asked: Option<TokenScope>) -> Option<TokenScope> {
    match (asked, actor.credential) {
        (Some(s), _) if s.is_machine() => Some(s),
        (Some(s), _) => Some(s.cap(actor.role).into()),
        (None, Credential::Token { scope: Some(_) }) => Some(actor.role.into()),
        (None, _) => None,
    }
}
