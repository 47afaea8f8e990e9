//! `POST /api/v1/assistant/ask`: a question about platform state in words,
//! answered as the caller under the policy (`service::ask`).

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::service::ask::{AskError, not_a_question};
use app::api::ask::{AskAnswer, AskRequest, MAX_TEXT};
use axum::Json;
use axum::extract::State;

impl From<AskError> for ApiError {
    fn from(e: AskError) -> Self {
        match e {
            AskError::Repo(e) => e.into(),
            AskError::Store(e) => e.into(),
        }
    }
}

fn invalid(message: String) -> ApiError {
    ApiError::Invalid {
        field: "text".into(),
        message,
    }
}

/// Answers a question: what waits for the caller's approval, the status
/// of a request, what failed (in an environment, in a period), who
/// approved a request, the caller's requests. Any signed-in user may ask;
/// the answer holds only what the caller may see.
#[utoipa::path(
    post,
    path = "/api/v1/assistant/ask",
    request_body(content = Object, description = "`{text}`: the question in words, 1 to 4,000 characters"),
    responses(
        (status = 200, description = "`{answer, items}`: a sentence, and the requests it names (id, title, status, link, detail, at)", body = Object),
        (status = 400, description = "The body is not `{text}`", body = ErrorBody),
        (status = 401, description = "No or bad bearer token", body = ErrorBody),
        (status = 422, description = "`text` is empty, over 4,000 characters, or not a question tfpilot answers (the message lists the forms)", body = ErrorBody),
        (status = 503, description = "The store is unavailable", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn ask(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<AskRequest>,
) -> Result<Json<AskAnswer>, ApiError> {
    let length = body.text.chars().count();
    if length > MAX_TEXT {
        return Err(invalid(format!(
            "text must be at most {MAX_TEXT} characters (it has {length})"
        )));
    }
    if body.text.trim().is_empty() {
        return Err(invalid(format!(
            "text is empty: ask a question; {}",
            not_a_question().trim_start_matches("not a question I can answer; ")
        )));
    }
    match state.ask.understand(&body.text).await {
        Some(question) => Ok(Json(state.ask.answer(&actor, &question).await?)),
        None => Err(invalid(not_a_question())),
    }
}
