//! The request page's data: one read of the request (redacted, with the
//! caller's decisions), its plan, its block and its newest audit records.

use super::{UiServices, refusal};
use crate::exec::RunKind;
use crate::service::flow::short;
use app::api::{
    ActionItem, BlockView, CheckItem, ConfigItem, Detail, LinkItem, PlanView, TimelineEntry,
    collapse, short_time,
};
use app::domain::adopt;
use app::domain::config::Config;
use app::domain::ids::Target;
use app::domain::policy::{Action, Actor, Decision};
use app::domain::registry::{Input, Module};
use app::domain::request::{Attempt, CheckKind, PrState, PullRequest, Request, RunStatus};
use app::services::Refusal;
use serde_json::Value;

/// The newest audit records the request page shows; older ones stay in
/// the audit log (`GET /api/v1/audit?request=<id>`).
pub const TIMELINE_ROWS: usize = 200;

/// The checks of the newest plan, apply and destroy, in that order.
fn checks(doc: &Request) -> Vec<CheckItem> {
    [RunKind::Plan, RunKind::Apply, RunKind::Destroy]
        .into_iter()
        .filter_map(|kind| {
            let attempt = app::domain::transitions::history(doc, kind).latest()?;
            Some(attempt.checks.iter().map(move |c| CheckItem {
                run: format!("{} attempt {}", kind.as_str(), attempt.attempt),
                kind: match c.kind {
                    CheckKind::Cost => "cost".into(),
                    CheckKind::Policy => "policy".into(),
                },
                name: c.name.clone(),
                outcome: c.outcome.clone(),
                detail: c.detail.clone(),
                blocking: c.blocking,
            }))
        })
        .flatten()
        .collect()
}

impl UiServices {
    pub(super) async fn detail_for(&self, actor: &Actor, id: &str) -> Result<Detail, Refusal> {
        // Read before the request: a change after it is replayed to the page.
        let since = self.requests.index().changes().last();
        let view = self.requests.get(actor, id).await.map_err(refusal)?;
        let doc = &view.request;
        let module = self.registry.module(&doc.module);
        let module_title = module.map_or_else(|| doc.module.to_string(), |m| m.title.clone());
        let title = crate::service::index::title(doc, &self.registry);
        let (records, older) = self
            .audit
            .read_newest(Some(doc.id.as_str()), TIMELINE_ROWS)
            .await
            .map_err(|e| Refusal {
                status: 503,
                message: format!("The audit log cannot be read right now: {e}."),
            })?;
        let (plan, plan_note) = self.plan_of(doc).await;
        let drift = self.drift_view(&view).await;
        let destroys = plan.as_ref().map_or(0, |p| p.destroy);
        Ok(Detail {
            id: doc.id.to_string(),
            title: title.clone(),
            status: view.status.clone(),
            failed_step: view.failed_step.clone(),
            requester: doc.created_by.clone(),
            project: doc.project.to_string(),
            environment: doc.environment.to_string(),
            module: module_title,
            adopts: doc.kind == app::domain::request::Kind::Adopt,
            revision: doc.revision,
            created_at: doc.created_at.clone(),
            updated_at: doc.updated_at.clone(),
            config: config_items(module, &doc.config),
            approval: doc.approval.as_ref().map(|a| {
                format!(
                    "Approved by {} on {} for plan attempt {} at {}.",
                    a.by,
                    short_time(&a.at),
                    a.plan_attempt,
                    short(&a.head_sha)
                )
            }),
            note: app::domain::status::note(doc),
            blocked: app::domain::policy::blocked_attempt(doc)
                .map(|a| {
                    a.blocked
                        .iter()
                        .map(|u| {
                            format!(
                                "{} {} ({})",
                                u.action,
                                u.address,
                                u.owner
                                    .map_or("not a tfpilot block".to_owned(), |o| format!(
                                        "request {o}"
                                    ))
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            checks: checks(doc),
            links: links(doc, |a| self.flow.waiting(a)),
            actions: view
                .allowed_actions
                .iter()
                .map(|a| action_item(a.action, &a.decision, &title, doc, destroys))
                .collect(),
            block: module.and_then(|m| block(m, doc)),
            explanation: module.map(|m| app::domain::explain::request(doc, m)),
            plan,
            plan_note,
            since,
            drift,
            timeline: collapse(records.into_iter().map(|r| {
                let mut entry = TimelineEntry::new(r.at, r.actor, r.action, r.detail);
                entry.count = u32::try_from(r.count).unwrap_or(u32::MAX);
                entry.until = r.until;
                entry
            })),
            older,
        })
    }

    /// The newest plan, or why there is none to show.
    async fn plan_of(&self, doc: &Request) -> (Option<PlanView>, Option<String>) {
        let Some(attempt) = doc.runs.plan.latest() else {
            return (None, Some("No plan has run yet.".into()));
        };
        let label = format!(
            "Plan attempt {} of commit {}",
            attempt.attempt,
            short(&attempt.head_sha)
        );
        if attempt.status != RunStatus::Completed {
            let note = format!(
                "{label} is {}; this page refreshes when it finishes.",
                run_state(attempt, self.flow.waiting(attempt))
            );
            return (None, Some(note));
        }
        if attempt.failed() {
            let log = self
                .flow
                .run_log(doc, RunKind::Plan)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            let view = PlanView {
                label: format!("{label} failed"),
                import: 0,
                add: 0,
                change: 0,
                destroy: 0,
                replace: 0,
                groups: vec![],
                log,
            };
            let note = "The plan failed: read its output below, then retry or change the inputs.";
            return (Some(view), Some(note.into()));
        }
        match self.flow.plan_output(doc).await {
            Ok(Some(out)) => {
                let replace = out.changes.iter().filter(|c| c.action == "replace").count();
                let view = PlanView {
                    label,
                    import: out.summary.import,
                    add: out.summary.add,
                    change: out.summary.change,
                    destroy: out.summary.destroy,
                    replace: u32::try_from(replace).unwrap_or(u32::MAX),
                    groups: PlanView::group(
                        out.changes
                            .into_iter()
                            .map(|c| (c.address, c.module, c.action))
                            .collect(),
                    ),
                    log: out.log,
                };
                (Some(view), None)
            }
            Ok(None) => (None, Some("No plan has run yet.".into())),
            Err(e) => (None, Some(format!("The plan output cannot be read: {e}."))),
        }
    }
}

fn config_items(module: Option<&Module>, config: &Config) -> Vec<ConfigItem> {
    let item = |name: &str, input: Option<&Input>, v: &Value| ConfigItem {
        name: name.to_owned(),
        value: match (input, v) {
            (_, Value::Null) => "—".to_owned(),
            (Some(i), v) => app::domain::assistant::show(i, v),
            (None, Value::String(s)) => s.clone(),
            (None, other) => other.to_string(),
        },
    };
    match module {
        Some(m) => m
            .inputs
            .iter()
            .filter_map(|i| config.get(&i.name).map(|v| item(&i.name, Some(i), v)))
            .collect(),
        None => config.iter().map(|(k, v)| item(k, None, v)).collect(),
    }
}

fn web(url: &str) -> Option<String> {
    (url.starts_with("https://") || url.starts_with("http://")).then(|| url.to_owned())
}

fn run_state(a: &Attempt, waiting: Option<String>) -> String {
    match (a.status, a.conclusion) {
        (RunStatus::Queued, _) => match waiting {
            Some(why) => format!("queued ({why})"),
            None => "queued".into(),
        },
        (RunStatus::Running, _) => "running".into(),
        (RunStatus::Completed, Some(c)) => serde_json::to_value(c)
            .ok()
            .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
            .unwrap_or_else(|| "completed".into()),
        (RunStatus::Completed, None) => "completed".into(),
    }
}

fn pr_link(label: &str, pr: &PullRequest) -> LinkItem {
    let state = match pr.state {
        PrState::Open => "open",
        PrState::Closed => "closed",
        PrState::Merged => "merged",
    };
    LinkItem {
        label: format!("{label} #{}", pr.number),
        url: web(&pr.url),
        state: format!("{state}, branch {}", pr.branch),
    }
}

fn links(doc: &Request, waiting: impl Fn(&Attempt) -> Option<String>) -> Vec<LinkItem> {
    let mut out = Vec::new();
    if let Some(pr) = &doc.pr {
        out.push(pr_link("PR", pr));
    }
    for (kind, history) in [
        ("Plan", &doc.runs.plan),
        ("Apply", &doc.runs.apply),
        ("Destroy", &doc.runs.destroy),
    ] {
        for a in &history.attempts {
            let mut state = run_state(a, waiting(a));
            if let Some(s) = a.summary {
                state.push_str(&format!(": {}", s.words()));
            }
            out.push(LinkItem {
                label: format!("{kind} attempt {}", a.attempt),
                url: a.url.as_deref().and_then(web),
                state,
            });
        }
    }
    if let Some(pr) = &doc.cleanup_pr {
        out.push(pr_link("Cleanup PR", pr));
    }
    out
}

fn action_item(
    action: Action,
    decision: &Decision,
    title: &str,
    doc: &Request,
    destroys: u32,
) -> ActionItem {
    let label = match action {
        Action::Plan => "Plan again",
        Action::Approve => "Approve",
        Action::Merge => "Merge",
        Action::Apply => "Apply",
        Action::Update => "Change inputs",
        Action::Destroy => "Destroy",
        Action::Retry => "Retry",
        Action::Confirm => "Confirm the listed changes",
        Action::Reapply => "Revert drift (apply again)",
    };
    let confirm = match action {
        Action::Destroy => Some(format!(
            "Destroy {title} in {}? tfpilot removes its block in a cleanup PR, merges it, then runs terraform destroy. This cannot be undone.",
            doc.environment
        )),
        Action::Apply if destroys > 0 => Some(format!(
            "The plan destroys {destroys} resource(s). Apply it to {}?",
            doc.environment
        )),
        Action::Reapply => Some(format!(
            "Apply {title}'s current config again in {}, on the tip of main? Only its own block may change.",
            doc.environment
        )),
        Action::Confirm => app::domain::policy::blocked_attempt(doc).map(|a| {
            format!(
                "Let the next run make exactly these changes in {}: {}?",
                doc.environment,
                a.blocked
                    .iter()
                    .map(|u| format!("{} {}", u.action, u.address))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }),
        _ => None,
    };
    let (reason, forbidden) = match decision {
        Decision::Allowed => (None, false),
        Decision::Forbidden { reason, .. } => (Some(reason.clone()), true),
        Decision::Conflict { reason, .. } => (Some(reason.clone()), false),
    };
    let addresses = match action {
        Action::Confirm => app::domain::policy::blocked_attempt(doc)
            .map(|a| {
                a.blocked
                    .iter()
                    .map(|u| format!("{} {}", u.action, u.address))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    ActionItem {
        action: action.as_str().to_owned(),
        label: label.to_owned(),
        reason,
        forbidden,
        confirm,
        addresses,
    }
}

/// The block as committed, rendered from the redacted inputs so that no
/// sensitive value reaches the browser.
fn block(module: &Module, doc: &Request) -> Option<BlockView> {
    let target = Target {
        request_id: &doc.id,
        project: &doc.project,
        environment: &doc.environment,
    };
    adopt::render(module, target, &doc.config, adopt::wants_import(doc))
        .ok()
        .map(|b| BlockView {
            path: format!("envs/{}/{}", doc.environment, b.file),
            text: b.text,
        })
}
