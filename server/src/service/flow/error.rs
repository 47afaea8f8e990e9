//! Why a workflow action was refused or failed.

use crate::git::GitError;
use crate::store::repo::RepoError;
use app::domain::config::FieldError;
use app::domain::policy::Decision;
use app::domain::transitions::Refusal;

/// Why an action was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The caller may not (403).
    #[error("{reason}")]
    Forbidden {
        /// Rule id.
        rule: String,
        /// Why.
        reason: String,
    },
    /// The state forbids it (409).
    #[error("{0}")]
    Conflict(String),
    /// The state forbids it by a named rule (409 with the rule, e.g.
    /// `approval.stale`).
    #[error("{reason}")]
    Refused {
        /// Rule id.
        rule: String,
        /// Why.
        reason: String,
    },
    /// The request's drift cannot be adopted (422): the sentence says why.
    #[error("{0}")]
    NotAdoptable(String),
    /// The new config is invalid (422).
    #[error("the config is invalid")]
    Fields(Vec<FieldError>),
    /// The git host failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The executor failed.
    #[error(transparent)]
    Exec(#[from] crate::exec::ExecError),
    /// The store failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl From<Refusal> for FlowError {
    fn from(refusal: Refusal) -> Self {
        match refusal.rule() {
            Some(rule) => FlowError::Refused {
                rule: rule.to_owned(),
                reason: refusal.to_string(),
            },
            None => FlowError::Conflict(refusal.to_string()),
        }
    }
}

/// The policy's decision as a result.
pub(super) fn refuse(decision: Decision) -> Result<(), FlowError> {
    match decision {
        Decision::Allowed => Ok(()),
        Decision::Forbidden { rule, reason } => Err(FlowError::Forbidden { rule, reason }),
        Decision::Conflict { reason, rule: None } => Err(FlowError::Conflict(reason)),
        Decision::Conflict {
            reason,
            rule: Some(rule),
        } => Err(FlowError::Refused { rule, reason }),
    }
}
