//! The checks a workspace runs beside the plan, as `RunCheck`s: its cost
//! estimate (`relationships.cost-estimate`) and its policy checks
//! (`/runs/:id/policy-checks`, asked only when the run names some) and
//! the OPA or Sentinel policy evaluations of its task stages
//! (`/task-stages/:id/policy-evaluations`).
//! A check that cannot be read is left out, never fails the run.

use super::api::{self, CostAttrs, Doc, EvaluationAttrs, PolicyAttrs, Resource, RunAttrs};
use super::client::Retry;
use super::{TfcError, TfcExecutor};
use app::domain::request::{CheckKind, RunCheck};
use reqwest::Method;

impl TfcExecutor {
    /// The cost estimate and policy checks of `run`, if any.
    pub(super) async fn checks(&self, run: &Resource<RunAttrs>) -> Vec<RunCheck> {
        let mut out = Vec::new();
        if let Some(id) = run.related("cost-estimate") {
            match self.cost(id).await {
                Ok(check) => out.push(check),
                Err(e) => tracing::warn!(tfc_run = %run.id, "cannot read the cost estimate: {e}"),
            }
        }
        // `policy-checks` lists them; absent, they are asked for anyway.
        let named = run
            .relationships
            .get("policy-checks")
            .map(|r| r.data.as_array().is_some_and(|a| !a.is_empty()));
        if named != Some(false) {
            match self.policies(&run.id).await {
                Ok(checks) => out.extend(checks),
                Err(e) => tracing::warn!(tfc_run = %run.id, "cannot read the policy checks: {e}"),
            }
        }
        let stages = run
            .relationships
            .get("task-stages")
            .and_then(|r| r.data.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s["id"].as_str())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for stage in stages {
            match self.evaluations(stage).await {
                Ok(checks) => out.extend(checks),
                Err(e) => {
                    tracing::warn!(tfc_run = %run.id, stage, "cannot read the policy evaluations: {e}")
                }
            }
        }
        out
    }

    async fn evaluations(&self, stage: &str) -> Result<Vec<RunCheck>, TfcError> {
        let what = format!("policy evaluations of task stage {stage}");
        let reply = self
            .client
            .api(
                Method::GET,
                &format!("/task-stages/{stage}/policy-evaluations"),
                None,
                Retry::Safe,
            )
            .await?;
        if reply.status.as_u16() != 200 {
            return Err(reply.error(&what));
        }
        let doc: Doc<Vec<Resource<EvaluationAttrs>>> = api::parse(&reply.body, &what)?;
        Ok(doc
            .data
            .iter()
            .map(|e| evaluation_check(&e.attributes))
            .collect())
    }

    async fn cost(&self, id: &str) -> Result<RunCheck, TfcError> {
        let what = format!("cost estimate {id}");
        let reply = self
            .client
            .api(
                Method::GET,
                &format!("/cost-estimates/{id}"),
                None,
                Retry::Safe,
            )
            .await?;
        if reply.status.as_u16() != 200 {
            return Err(reply.error(&what));
        }
        let doc: Doc<Resource<CostAttrs>> = api::parse(&reply.body, &what)?;
        Ok(cost_check(&doc.data.attributes))
    }

    async fn policies(&self, run: &str) -> Result<Vec<RunCheck>, TfcError> {
        let what = format!("policy checks of {run}");
        let reply = self
            .client
            .api(
                Method::GET,
                &format!("/runs/{run}/policy-checks"),
                None,
                Retry::Safe,
            )
            .await?;
        if reply.status.as_u16() != 200 {
            return Err(reply.error(&what));
        }
        let doc: Doc<Vec<Resource<PolicyAttrs>>> = api::parse(&reply.body, &what)?;
        Ok(doc
            .data
            .iter()
            .map(|p| policy_check(&p.attributes))
            .collect())
    }
}

/// `+$12.40/month (proposed $40.00/month)`.
fn cost_check(c: &CostAttrs) -> RunCheck {
    let money = |s: &str| {
        let v: f64 = s.trim().parse().unwrap_or(0.0);
        let sign = if v < 0.0 { "-" } else { "" };
        format!("{sign}${:.2}", v.abs())
    };
    let detail = match (&c.delta, &c.proposed) {
        (Some(d), Some(p)) => {
            let plus = if d.trim().starts_with('-') { "" } else { "+" };
            format!("{plus}{}/month (proposed {}/month)", money(d), money(p))
        }
        (None, Some(p)) => format!("proposed {}/month", money(p)),
        _ => String::new(),
    };
    RunCheck {
        kind: CheckKind::Cost,
        name: "cost estimate".into(),
        outcome: c.status.replace('_', " "),
        detail,
        blocking: false,
    }
}

/// `2 of 3 policies passed`; a hard failure blocks.
fn policy_check(p: &PolicyAttrs) -> RunCheck {
    let r = p.result.as_ref();
    let (passed, hard, soft, advisory) = r.map_or((0, 0, 0, 0), |r| {
        (r.passed, r.hard_failed, r.soft_failed, r.advisory_failed)
    });
    let total = passed + hard + soft + advisory;
    let mut detail = if r.is_some() {
        format!("{passed} of {total} policies passed")
    } else {
        String::new()
    };
    for (n, what) in [
        (hard, "hard-failed"),
        (soft, "soft-failed"),
        (advisory, "advisory failed"),
    ] {
        if n > 0 {
            detail.push_str(&format!(", {n} {what}"));
        }
    }
    RunCheck {
        kind: CheckKind::Policy,
        name: "Sentinel policies".into(),
        outcome: p.status.replace('_', " "),
        detail,
        blocking: p.status == "hard_failed",
    }
}

/// `OPA policies`: `1 of 2 policies passed, 1 advisory failed`; a
/// mandatory failure blocks.
fn evaluation_check(e: &EvaluationAttrs) -> RunCheck {
    let name = match e.policy_kind.as_str() {
        "opa" => "OPA policies",
        "sentinel" => "Sentinel policies",
        _ => "policies",
    };
    let mut detail = String::new();
    if let Some(c) = &e.result_count {
        let total = c.passed + c.advisory_failed + c.mandatory_failed + c.errored;
        detail = format!("{} of {total} policies passed", c.passed);
        for (n, what) in [
            (c.mandatory_failed, "mandatory failed"),
            (c.advisory_failed, "advisory failed"),
            (c.errored, "errored"),
        ] {
            if n > 0 {
                detail.push_str(&format!(", {n} {what}"));
            }
        }
    }
    let mandatory = e
        .result_count
        .as_ref()
        .is_some_and(|c| c.mandatory_failed > 0);
    RunCheck {
        kind: CheckKind::Policy,
        name: name.into(),
        outcome: e.status.replace('_', " "),
        detail,
        blocking: e.status == "failed" && mandatory,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_evaluations_read_as_one_line() {
        let opa = evaluation_check(&EvaluationAttrs {
            status: "failed".into(),
            policy_kind: "opa".into(),
            result_count: Some(api::EvaluationCount {
                passed: 1,
                mandatory_failed: 1,
                ..Default::default()
            }),
        });
        assert_eq!(
            (
                opa.name.as_str(),
                opa.outcome.as_str(),
                opa.detail.as_str(),
                opa.blocking
            ),
            (
                "OPA policies",
                "failed",
                "1 of 2 policies passed, 1 mandatory failed",
                true
            )
        );
    }

    #[test]
    fn costs_and_policies_read_as_one_line() {
        let cost = cost_check(&CostAttrs {
            status: "finished".into(),
            proposed: Some("40.0".into()),
            delta: Some("12.4".into()),
        });
        assert_eq!(
            (cost.outcome.as_str(), cost.detail.as_str()),
            ("finished", "+$12.40/month (proposed $40.00/month)")
        );
        let policy = policy_check(&PolicyAttrs {
            status: "soft_failed".into(),
            result: Some(api::PolicyResult {
                passed: 2,
                soft_failed: 1,
                ..Default::default()
            }),
        });
        assert_eq!(
            (
                policy.outcome.as_str(),
                policy.detail.as_str(),
                policy.blocking
            ),
            (
                "soft failed",
                "2 of 3 policies passed, 1 soft-failed",
                false
            )
        );
    }
}
