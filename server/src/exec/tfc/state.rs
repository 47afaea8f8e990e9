//! The run state machine of HCP Terraform, mapped to tfpilot's run status.
//!
//! Only `pending` is queued: every later status comes after the run left
//! the workspace's queue, so a run never goes back. Post-apply tasks run
//! after the apply is done, so `applied` and what follows are completed.

/// Where a TFC run is, as tfpilot needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `pending`: waiting for its turn in the workspace.
    Waiting,
    /// Somewhere between fetching the configuration and applying.
    Running,
    /// The plan is done and the run waits for `actions/apply` (or a
    /// discard): tfpilot's change check decides.
    AwaitingConfirmation,
    /// A soft-failed policy waits for an override, which tfpilot never gives.
    AwaitingOverride,
    /// Done: planned without anything to apply, or applied.
    Succeeded,
    /// Discarded (by tfpilot's check, or by a person).
    Discarded,
    /// Canceled or force-canceled.
    Canceled,
    /// Errored (a hard-failed policy too).
    Errored,
}

/// The phase of a run in `status` (`plan_only` for speculative plans).
pub fn phase(status: &str, plan_only: bool) -> Phase {
    match status {
        "pending" => Phase::Waiting,
        "fetching"
        | "fetching_completed"
        | "pre_plan_running"
        | "pre_plan_completed"
        | "queuing"
        | "plan_queued"
        | "planning"
        | "cost_estimating"
        | "policy_checking"
        | "post_plan_running"
        | "post_plan_completed"
        | "post_plan_awaiting_decision"
        | "confirmed"
        | "queuing_apply"
        | "apply_queued"
        | "applying"
        | "pre_apply_running"
        | "pre_apply_completed" => Phase::Running,
        // A plan-only run ends once its plan and checks are done.
        "planned" | "cost_estimated" | "policy_checked" if plan_only => Phase::Running,
        "planned" | "cost_estimated" | "policy_checked" => Phase::AwaitingConfirmation,
        "policy_override" => Phase::AwaitingOverride,
        "planned_and_finished"
        | "planned_and_saved"
        | "applied"
        | "post_apply_running"
        | "post_apply_completed" => Phase::Succeeded,
        // Final for plan-only runs: the plan exists, a policy soft-failed.
        "policy_soft_failed" if plan_only => Phase::Succeeded,
        "policy_soft_failed" => Phase::AwaitingOverride,
        "discarded" => Phase::Discarded,
        "canceled" | "force_canceled" => Phase::Canceled,
        "errored" => Phase::Errored,
        // A status this build does not know yet: still going.
        _ => Phase::Running,
    }
}

impl Phase {
    /// Whether the run is over.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Phase::Succeeded | Phase::Discarded | Phase::Canceled | Phase::Errored
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_of_the_state_machine_has_its_phase() {
        use Phase::*;
        let table = [
            ("pending", false, Waiting),
            ("fetching", false, Running),
            ("fetching_completed", false, Running),
            ("pre_plan_running", false, Running),
            ("pre_plan_completed", false, Running),
            ("queuing", false, Running),
            ("plan_queued", false, Running),
            ("planning", false, Running),
            ("planned", false, AwaitingConfirmation),
            ("planned", true, Running),
            ("cost_estimating", false, Running),
            ("cost_estimated", false, AwaitingConfirmation),
            ("cost_estimated", true, Running),
            ("policy_checking", false, Running),
            ("policy_override", false, AwaitingOverride),
            ("policy_soft_failed", false, AwaitingOverride),
            ("policy_soft_failed", true, Succeeded),
            ("policy_checked", false, AwaitingConfirmation),
            ("policy_checked", true, Running),
            ("confirmed", false, Running),
            ("post_plan_running", false, Running),
            ("post_plan_completed", false, Running),
            ("planned_and_finished", true, Succeeded),
            ("planned_and_finished", false, Succeeded),
            ("planned_and_saved", false, Succeeded),
            ("apply_queued", false, Running),
            ("queuing_apply", false, Running),
            ("applying", false, Running),
            ("applied", false, Succeeded),
            ("post_apply_running", false, Succeeded),
            ("post_apply_completed", false, Succeeded),
            ("discarded", false, Discarded),
            ("errored", true, Errored),
            ("canceled", false, Canceled),
            ("force_canceled", false, Canceled),
            ("something_new", false, Running),
        ];
        for (status, plan_only, want) in table {
            assert_eq!(
                phase(status, plan_only),
                want,
                "{status} plan_only={plan_only}"
            );
        }
        assert!(Succeeded.is_final() && Errored.is_final() && !AwaitingOverride.is_final());
    }
}
