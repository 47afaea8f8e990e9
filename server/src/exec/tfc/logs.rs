//! What a run leaves to read: its plan's JSON (`/plans/:id/json-output`,
//! a 307 to a URL fetched without the token; a 204 while it is not ready)
//! read into the same structured plan as every executor's, and the logs of
//! its plan and apply (`log-read-url`, fetched without the token; TFC's
//! structured JSON lines are turned back into their messages).

use super::api::{self, Doc, PhaseAttrs, Resource, RunAttrs};
use super::client::Retry;
use super::{TfcExecutor, unavailable};
use crate::exec::plan::parse_show_json;
use crate::exec::{ExecError, PlanOutput, RunInfo};
use reqwest::Method;
use serde_json::Value;

/// How many times a 204 of the plan's JSON is waited out.
const JSON_WAITS: u32 = 20;

impl TfcExecutor {
    /// The plan of `run` once its plan finished (`None` before, or when it
    /// errored); kept once read.
    pub(super) async fn read_plan(
        &self,
        run: &Resource<RunAttrs>,
    ) -> Result<Option<PlanOutput>, ExecError> {
        let Some(plan_id) = run.related("plan") else {
            return Ok(None);
        };
        if let Some(plan) = self.memory.plans.get(plan_id) {
            return Ok(Some(plan));
        }
        let Some((status, log)) = self.phase_log("plans", plan_id).await? else {
            return Ok(None);
        };
        if status != "finished" {
            return Ok(None);
        }
        let json = self.plan_json(plan_id).await?;
        let (summary, changes) = parse_show_json(&json)
            .map_err(|e| unavailable(format!("the JSON of plan {plan_id}: {e}")))?;
        let plan = PlanOutput {
            summary,
            changes,
            log,
        };
        self.memory.plans.put(plan_id.to_owned(), plan.clone());
        Ok(Some(plan))
    }

    /// `terraform show -json` of the plan, following the redirect.
    pub(super) async fn plan_json(&self, plan_id: &str) -> Result<Vec<u8>, ExecError> {
        let (mut wait, max) = self.poll;
        for _ in 0..JSON_WAITS {
            let reply = self
                .client
                .api(
                    Method::GET,
                    &format!("/plans/{plan_id}/json-output"),
                    None,
                    Retry::Safe,
                )
                .await
                .map_err(unavailable)?;
            match reply.status.as_u16() {
                200 => return Ok(reply.body.to_vec()),
                204 => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(max);
                }
                301 | 302 | 303 | 307 | 308 => {
                    let location = reply
                        .location
                        .ok_or_else(|| unavailable("the plan's JSON redirect has no location"))?;
                    let blob = self.client.download(&location).await.map_err(unavailable)?;
                    if blob.status.as_u16() != 200 {
                        return Err(unavailable(blob.error("the plan's JSON")));
                    }
                    return Ok(blob.body.to_vec());
                }
                _ => return Err(unavailable(reply.error(&format!("JSON of plan {plan_id}")))),
            }
        }
        Err(unavailable(format!(
            "the JSON of plan {plan_id} was still not ready"
        )))
    }

    /// The status of a plan or apply (`kind`: `plans`, `applies`) and its
    /// log so far (`None`: no such phase).
    async fn phase_log(&self, kind: &str, id: &str) -> Result<Option<(String, String)>, ExecError> {
        let reply = self
            .client
            .api(Method::GET, &format!("/{kind}/{id}"), None, Retry::Safe)
            .await
            .map_err(unavailable)?;
        match reply.status.as_u16() {
            200 => {}
            404 => return Ok(None),
            _ => return Err(unavailable(reply.error(&format!("{kind}/{id}")))),
        }
        let doc: Doc<Resource<PhaseAttrs>> = api::parse(&reply.body, kind).map_err(unavailable)?;
        let status = doc.data.attributes.status;
        let started = !matches!(status.as_str(), "pending" | "queued" | "unreachable");
        let log = match doc.data.attributes.log_read_url {
            Some(url) if started => {
                let reply = self.client.download(&url).await.map_err(unavailable)?;
                if reply.status.as_u16() != 200 {
                    return Err(unavailable(reply.error(&format!("log of {kind}/{id}"))));
                }
                readable(&String::from_utf8_lossy(&reply.body))
            }
            _ => String::new(),
        };
        Ok(Some((status, log)))
    }

    /// The plan's log, what tfpilot's check decided, and the apply's log.
    pub(super) async fn full_log(
        &self,
        run: &Resource<RunAttrs>,
        info: &RunInfo,
    ) -> Result<String, ExecError> {
        let mut log = match run.related("plan") {
            Some(plan) => self
                .phase_log("plans", plan)
                .await?
                .map(|(_, log)| log)
                .unwrap_or_default(),
            None => String::new(),
        };
        if !info.blocked.is_empty() {
            log.push_str(&format!(
                "\n# {}\n# Nothing was applied.\n",
                app::domain::scope::describe(&info.blocked)
            ));
        }
        if let Some(apply) = run.related("apply")
            && let Some((_, text)) = self.phase_log("applies", apply).await?
            && !text.is_empty()
        {
            log.push_str("\n# Every planned change is within the run's scope; applying.\n");
            log.push_str(&text);
        }
        if log.is_empty() {
            log = format!("The run is {} in HCP Terraform.\n", run.attributes.status);
        }
        Ok(log)
    }
}

/// A TFC log as people read it: the archivist's STX/ETX framing dropped,
/// structured JSON lines (`{"@message": …}`) turned into their message.
pub fn readable(raw: &str) -> String {
    let mut out = String::new();
    for line in raw.split('\n') {
        let line = line.trim_matches(|c| c == '\u{2}' || c == '\u{3}' || c == '\r');
        if line.is_empty() {
            continue;
        }
        let text = serde_json::from_str::<Value>(line)
            .ok()
            .and_then(|v| v.get("@message")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| line.to_owned());
        out.push_str(&text);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn structured_lines_read_as_their_messages() {
        let raw = "\u{2}Terraform v1.11.0\n{\"@level\":\"info\",\"@message\":\"Plan: 1 to add, 0 to change, 0 to destroy.\",\"type\":\"change_summary\"}\nplain line\u{3}";
        assert_eq!(
            super::readable(raw),
            "Terraform v1.11.0\nPlan: 1 to add, 0 to change, 0 to destroy.\nplain line\n"
        );
    }
}
