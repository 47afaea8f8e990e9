//! The remediation policies page: the stored policies as rows, and an
//! alert payload tried against them (nothing is done).

use super::{UiServices, refusal};
use crate::service::policies::StoredPolicy;
use app::api::{PolicyPage, PolicyRow, TriedAlert};
use app::domain::policy::{Decision, Operation, decide_operation};
use app::domain::remediation::{Remediation, webhook};
use app::services::Refusal;

fn condition(p: &Remediation) -> String {
    let labels: Vec<String> = p
        .condition
        .labels
        .iter()
        .map(|(k, v)| {
            let text = serde_json::to_value(v)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            match text.strip_prefix("=~") {
                Some(re) => format!("{k}=~{re}"),
                None => format!("{k}={text}"),
            }
        })
        .collect();
    let status = p
        .condition
        .status
        .map_or("firing or resolved", |s| s.as_str());
    format!("{}; {status}", labels.join(", "))
}

fn action(p: &Remediation) -> String {
    let a = &p.action;
    let mut out = a.kind.as_str().to_owned();
    if let Some(r) = &a.request {
        out.push_str(&format!(" request {}", r.as_str()));
    }
    let inputs: Vec<String> = a
        .inputs
        .iter()
        .map(|(k, v)| format!("{k} = {}", v.as_str()))
        .collect();
    if !inputs.is_empty() {
        out.push_str(&format!(": {}", inputs.join(", ")));
    }
    if let Some(m) = &a.message {
        out.push_str(&format!(" — “{}”", m.as_str()));
    }
    out
}

fn row(s: StoredPolicy) -> PolicyRow {
    let json = serde_json::to_string_pretty(&s.policy).unwrap_or_default();
    PolicyRow {
        condition: condition(&s.policy),
        action: action(&s.policy),
        auto_approve: s.policy.auto_approve_environments.iter().cloned().collect(),
        name: s.policy.name,
        priority: s.policy.priority,
        enabled: s.policy.enabled,
        updated_by: s.updated_by,
        updated_at: s.updated_at,
        version: s.version,
        json,
    }
}

impl UiServices {
    /// The page for the caller, with `alert` tried when given.
    pub(super) async fn policy_page(&self, alert: Option<String>) -> Result<PolicyPage, Refusal> {
        let actor = self.caller().await?;
        let rows: Vec<PolicyRow> = self
            .policies
            .list(&actor)
            .await
            .map_err(refusal)?
            .into_iter()
            .map(row)
            .collect();
        let can_manage = decide_operation(Operation::ManagePolicies, &actor) == Decision::Allowed;
        let tried = match alert.filter(|a| !a.trim().is_empty()) {
            None => None,
            Some(text) => Some(match serde_json::from_str(&text) {
                Err(e) => Err(format!("the payload is not JSON: {e}")),
                Ok(raw) => match webhook::read(&raw) {
                    Err(e) => Err(format!("{} {}", e.field, e.message)),
                    Ok(payload) => {
                        let results = self
                            .policies
                            .dry_run(&actor, &payload.alerts)
                            .await
                            .map_err(refusal)?;
                        Ok(results
                            .into_iter()
                            .map(|r| TriedAlert {
                                alert: r
                                    .alert
                                    .labels
                                    .iter()
                                    .map(|(k, v)| format!("{k}={v}"))
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                policy: r.policy,
                                outcome: r.outcome,
                            })
                            .collect())
                    }
                },
            }),
        };
        Ok(PolicyPage {
            rows,
            can_manage,
            tried,
        })
    }
}
