//! The job log page: a page of `service::jobs` as rows, its filters read
//! by the same rules as `GET /api/v1/jobs` (a bad one is a 400 naming it).

use super::{UiServices, refusal};
use crate::http::jobs::JobQuery;
use app::api::{JobFilters, JobLog, JobRow};
use app::domain::jobs::{Job, JobAction};
use app::domain::policy::{Operation, decide_operation};
use app::services::Refusal;

/// What a job's action does, in one line.
fn action(a: &JobAction) -> String {
    let mut out = a.kind.clone();
    let inputs: Vec<String> = a.inputs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    if !inputs.is_empty() {
        out.push_str(&format!(": {}", inputs.join(", ")));
    }
    if let Some(m) = &a.message {
        out.push_str(&format!(" — “{m}”"));
    }
    if !a.auto_approve_environments.is_empty() {
        out.push_str(&format!(
            " (without a person in {})",
            a.auto_approve_environments.join(", ")
        ));
    }
    out
}

fn row(job: Job) -> JobRow {
    JobRow {
        status: job.status.as_str().to_owned(),
        status_words: job.status.words().to_owned(),
        alert_name: job.alert.name,
        alert_status: job.alert.status,
        labels: job.alert.labels.into_iter().collect(),
        starts_at: job.alert.starts_at,
        policy: job.policy,
        action: job.action.as_ref().map(action),
        request: job
            .request
            .or_else(|| job.action.and_then(|a| a.request))
            .filter(|r| app::domain::ids::RequestId::parse(r).is_ok()),
        attempts: job.attempts,
        created_at: job.created_at,
        updated_at: job.updated_at,
        result: job.result,
        id: job.id,
    }
}

fn text(v: String) -> Option<String> {
    Some(v).filter(|v| !v.is_empty())
}

impl UiServices {
    /// A page of the job log for the caller.
    pub(super) async fn job_log(&self, f: JobFilters) -> Result<JobLog, Refusal> {
        let actor = self.caller().await?;
        crate::http::error::ApiError::from_decision(decide_operation(Operation::ReadJobs, &actor))
            .map_err(refusal)?;
        let limit = match text(f.limit.clone()) {
            None => None,
            Some(l) => Some(l.parse::<u32>().map_err(|_| Refusal {
                status: 400,
                message: "limit must be 1 to 1000".into(),
            })?),
        };
        let filter = JobQuery {
            status: text(f.status.clone()),
            policy: text(f.policy.clone()),
            request: text(f.request.clone()),
            limit,
            cursor: text(f.cursor.clone()),
        }
        .filter()
        .map_err(refusal)?;
        let mut page = self.jobs.list(&filter).await.map_err(|e| Refusal {
            status: 503,
            message: format!("the job log cannot be read right now: {e}"),
        })?;
        page.items
            .retain(|job| self.requests.sees_id(&actor, job.request.as_deref()));
        Ok(JobLog {
            older: page.next_cursor.as_deref().map(|c| f.href(Some(c))),
            newest: text(f.cursor.clone()).map(|_| f.href(None)),
            rows: page.items.into_iter().map(row).collect(),
        })
    }
}
