//! The request page's drift section: the differences, why Revert is not
//! available to the caller now (if not), and what Adopt would change or
//! why it cannot.

use super::UiServices;
use crate::service::requests::RequestView;
use app::api::{AdoptRow, DriftView, rows};
use app::domain::policy::{Action, Decision};

fn refused(view: &RequestView, action: Action) -> Option<String> {
    view.allowed_actions
        .iter()
        .find(|a| a.action == action)
        .and_then(|a| match &a.decision {
            Decision::Allowed => None,
            Decision::Forbidden { reason, .. } | Decision::Conflict { reason, .. } => {
                Some(reason.clone())
            }
        })
}

impl UiServices {
    /// The drift section of `view`'s page, when the request is drifted.
    pub(super) async fn drift_view(&self, view: &RequestView) -> Option<DriftView> {
        let drift = view.request.drift.as_ref()?;
        let mut adopt = Vec::new();
        let adopt_refused = match self.flow.drift_adoption_of(&view.request.id).await {
            Ok(Some(Ok(adoption))) => {
                adopt = adoption
                    .inputs
                    .into_iter()
                    .map(|i| AdoptRow {
                        input: i.name,
                        from: i.from.to_string(),
                        to: i.to.to_string(),
                    })
                    .collect();
                refused(view, Action::Update).or_else(|| {
                    (view.status != "applied").then(|| {
                        format!(
                            "only the drift of an applied request can be adopted (status: {})",
                            view.status
                        )
                    })
                })
            }
            Ok(Some(Err(why))) => Some(why),
            Ok(None) => Some("there is no drift to adopt".into()),
            Err(e) => Some(format!("the request cannot be read right now: {e}")),
        };
        Some(DriftView {
            detected_at: drift.detected_at.clone(),
            run: drift.run.clone(),
            rows: rows(&drift.changes),
            revert_refused: refused(view, Action::Reapply),
            adopt,
            adopt_refused,
        })
    }
}
