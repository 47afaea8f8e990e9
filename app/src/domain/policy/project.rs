//! Projects as teams: who sees a project and with which role they act in
//! it. A member has a role per project; the global role is the default
//! where a user is no member; global admins are admins everywhere.

use super::{Actor, Credential, Policy, Role};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Who sees a project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everyone signed in, members at their project role and the others
    /// at their global role.
    #[default]
    Open,
    /// Members and global admins only; to anyone else the project and its
    /// requests do not exist (404).
    Members,
}

impl Visibility {
    /// Parses `open` or `members`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "members" => Some(Self::Members),
            _ => None,
        }
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Members => "members",
        }
    }
}

/// One project's access rules: its members and their roles, who sees it,
/// and its own production allow-lists (`None`: the deployment's).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProjectAccess {
    /// Who sees the project.
    #[serde(default)]
    pub visibility: Visibility,
    /// Members by login, each with their role in this project
    /// (`admin`: a project admin, who also manages the members).
    #[serde(default)]
    pub members: BTreeMap<String, Role>,
    /// Who may approve, merge and apply in this project's production
    /// environments (`None`: `TFPILOT_PROD_ALLOWED_USERS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prod_allowed_users: Option<BTreeSet<String>>,
    /// Who may destroy in this project's production environments
    /// (`None`: `TFPILOT_DESTROY_PROD_ALLOWED_USERS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroy_prod_allowed_users: Option<BTreeSet<String>>,
}

impl ProjectAccess {
    /// The role `actor` acts with here, or `None` when the project is
    /// hidden from them.
    pub fn role_of(&self, actor: &Actor) -> Option<Role> {
        match actor.credential {
            // A job acts under its policy's role; a machine token is
            // refused everything but its one purpose anyway.
            Credential::Remediation => return Some(actor.role),
            Credential::Token { scope: Some(s) } if s.is_machine() => return Some(actor.role),
            _ => {}
        }
        if actor.role == Role::Admin {
            return Some(Role::Admin);
        }
        match (self.members.get(&actor.login), self.visibility) {
            (Some(&role), _) => Some(match actor.credential {
                Credential::Token { scope: Some(scope) } => scope.cap(role),
                _ => role,
            }),
            (None, Visibility::Open) => Some(actor.role),
            (None, Visibility::Members) => None,
        }
    }
}

/// The access of a project no record describes: open, no members.
static OPEN: ProjectAccess = ProjectAccess {
    visibility: Visibility::Open,
    members: BTreeMap::new(),
    prod_allowed_users: None,
    destroy_prod_allowed_users: None,
};

impl Policy {
    /// The access rules of `project` (open, without members, when none
    /// are set).
    pub fn access(&self, project: &str) -> &ProjectAccess {
        self.projects.get(project).unwrap_or(&OPEN)
    }

    /// The role `actor` acts with in `project`; `None` when the project
    /// is hidden from them.
    pub fn role_in(&self, project: &str, actor: &Actor) -> Option<Role> {
        self.access(project).role_of(actor)
    }

    /// Whether `actor` sees `project` (and its requests) at all.
    pub fn sees(&self, project: &str, actor: &Actor) -> bool {
        self.role_in(project, actor).is_some()
    }

    /// `actor` as they act in `project`: their role there; `None` when the
    /// project is hidden from them.
    pub fn in_project(&self, project: &str, actor: &Actor) -> Option<Actor> {
        let role = self.role_in(project, actor)?;
        Some(Actor {
            role,
            ..actor.clone()
        })
    }

    /// Whether `login` is on `project`'s production allow-list (its own,
    /// else the deployment's).
    pub fn prod_allowed(&self, project: &str, login: &str) -> bool {
        self.access(project)
            .prod_allowed_users
            .as_ref()
            .unwrap_or(&self.prod_allowed_users)
            .contains(login)
    }

    /// Whether `login` is on `project`'s production destroy allow-list
    /// (its own, else the deployment's).
    pub fn destroy_prod_allowed(&self, project: &str, login: &str) -> bool {
        self.access(project)
            .destroy_prod_allowed_users
            .as_ref()
            .unwrap_or(&self.destroy_prod_allowed_users)
            .contains(login)
    }
}

#[cfg(test)]
mod tests {
    use super::super::TokenScope;
    use super::*;

    fn access(visibility: Visibility) -> ProjectAccess {
        ProjectAccess {
            visibility,
            members: [
                ("vic".to_owned(), Role::Viewer),
                ("amy".to_owned(), Role::Approver),
                ("lead".to_owned(), Role::Admin),
            ]
            .into(),
            ..ProjectAccess::default()
        }
    }

    fn token(login: &str, role: Role, scope: TokenScope) -> Actor {
        Actor {
            login: login.into(),
            role: scope.cap(role),
            credential: Credential::Token { scope: Some(scope) },
        }
    }

    #[test]
    fn roles_by_membership_visibility_and_credential() {
        use Role::*;
        let p = |l: &str, r| Actor::person(l, r);
        // (visibility, actor, role in the project)
        let cases: Vec<(Visibility, Actor, Option<Role>)> = vec![
            // members act with their project role, up or down
            (Visibility::Open, p("vic", Approver), Some(Viewer)),
            (Visibility::Open, p("amy", Viewer), Some(Approver)),
            (Visibility::Members, p("amy", Requester), Some(Approver)),
            (Visibility::Members, p("lead", Viewer), Some(Admin)),
            // non-members: their global role where open, hidden elsewhere
            (Visibility::Open, p("bob", Requester), Some(Requester)),
            (Visibility::Members, p("bob", Approver), None),
            // global admins are admins everywhere
            (Visibility::Members, p("root", Admin), Some(Admin)),
            (Visibility::Open, p("vic", Admin), Some(Admin)),
            // a token's scope caps the project role too
            (
                Visibility::Members,
                token("amy", Requester, TokenScope::Viewer),
                Some(Viewer),
            ),
            (
                Visibility::Members,
                token("amy", Viewer, TokenScope::Admin),
                Some(Approver),
            ),
            // a remediation job keeps its role
            (
                Visibility::Members,
                Actor {
                    login: "policy:x".into(),
                    role: Requester,
                    credential: Credential::Remediation,
                },
                Some(Requester),
            ),
        ];
        for (visibility, actor, want) in cases {
            assert_eq!(
                access(visibility).role_of(&actor),
                want,
                "{visibility:?} {actor:?}"
            );
        }
    }

    #[test]
    fn allow_lists_are_the_projects_own_when_set() {
        let mut policy = Policy {
            prod_allowed_users: ["pat".to_owned()].into(),
            destroy_prod_allowed_users: ["dora".to_owned()].into(),
            ..Policy::default()
        };
        policy.projects.insert(
            "pay".into(),
            ProjectAccess {
                prod_allowed_users: Some(["amy".to_owned()].into()),
                ..ProjectAccess::default()
            },
        );
        assert!(policy.prod_allowed("core", "pat"));
        assert!(!policy.prod_allowed("core", "amy"));
        assert!(policy.prod_allowed("pay", "amy"));
        assert!(!policy.prod_allowed("pay", "pat"));
        // the destroy list is not set for `pay`: the deployment's holds
        assert!(policy.destroy_prod_allowed("pay", "dora"));
    }
}
