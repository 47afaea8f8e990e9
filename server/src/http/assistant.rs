//! `POST /api/v1/assistant/draft`: a description in people's words → a
//! proposed project, environment, module and checked inputs, for the web
//! page and for any client. Nothing is filed.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::service::assistant::DraftError;
use app::api::assistant::{AssistantAsk, AssistantDraft};
use axum::Json;
use axum::extract::State;

/// Proposes a module and its inputs for a description. The proposal comes
/// from the configured model (through the prompt cache) or from the
/// registry's rules; every value in `config` passed the checks a typed
/// answer passes, and `missing` lists what the chat still asks. A
/// description that matches no module answers 200 with `module: null` and
/// the three closest modules in `closest`.
#[utoipa::path(
    post,
    path = "/api/v1/assistant/draft",
    request_body = AssistantAsk,
    responses(
        (status = 200, description = "The proposal; `source` says whether the model, the cache or the rules made it", body = AssistantDraft),
        (status = 400, description = "The body is not JSON of this shape", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 403, description = "Only requesters, approvers and admins may draft (`role.requester`)", body = ErrorBody),
        (status = 422, description = "`text` is empty or over 4,000 characters, or `project`, `environment` or `module` names none there is; `fields` names the field", body = ErrorBody),
        (status = 503, description = "The store is unavailable", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn draft(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(ask): ApiJson<AssistantAsk>,
) -> Result<Json<AssistantDraft>, ApiError> {
    Ok(Json(state.drafting.draft(&actor, &ask).await?))
}

impl From<DraftError> for ApiError {
    fn from(e: DraftError) -> Self {
        match e {
            DraftError::Forbidden { rule, reason } => ApiError::Forbidden {
                rule,
                message: reason,
            },
            DraftError::Invalid { field, message } => {
                ApiError::Unprocessable(vec![app::domain::config::FieldError {
                    field: field.into(),
                    message,
                }])
            }
            DraftError::TooLong(chars) => {
                ApiError::Unprocessable(vec![app::domain::config::FieldError {
                    field: "text".into(),
                    message: format!(
                        "is {chars} characters; the assistant reads at most {}",
                        app::api::assistant::MAX_TEXT
                    ),
                }])
            }
        }
    }
}
