//! Slack's two request URLs: the Events API receiver and the interactivity endpoint, both signed with the app's signing secret and answered at once, the work done after.

use super::AppState;
use super::error::{ApiError, ErrorBody};
use crate::slack::SlackBot;
use crate::slack::buttons::{Click, read_click};
use crate::slack::signing::verify;
use crate::slack::wire::{Envelope, Interaction};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

/// Bodies Slack sends are small; anything larger is refused.
pub const MAX_BODY: usize = 256 * 1024;

/// The bot and the signing secret, or 404 when Slack is not set up (its
/// credentials are read now: stored ones switch Slack on and off).
fn configured(state: &AppState) -> Result<(Arc<SlackBot>, String), ApiError> {
    let secret = state
        .credentials
        .slack
        .get()
        .and_then(|c| c.signing_secret.clone());
    match (&state.slack, secret) {
        (Some(bot), Some(secret)) => Ok((bot.clone(), secret.expose().to_owned())),
        _ => Err(ApiError::NotFound(crate::slack::web::NOT_CONFIGURED.into())),
    }
}

/// Reads at most [`MAX_BODY`] bytes and checks Slack's signature on them.
async fn signed_body(
    state: &AppState,
    secret: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::TooLarge(format!(
            "the body is larger than {} KiB, the most Slack sends",
            MAX_BODY / 1024
        ))
    })?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = i64::try_from(state.clock.unix_secs()).unwrap_or(i64::MAX);
    verify(
        secret,
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        &bytes,
        now,
    )
    .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    Ok(bytes)
}

/// `POST /api/v1/slack/events`.
#[utoipa::path(
    post,
    path = "/api/v1/slack/events",
    request_body(content = Object, description = "An Events API body: `url_verification` or `event_callback` (app_mention; message in a thread tfpilot is talking in, or a DM)"),
    responses(
        (status = 200, description = "Acknowledged (the work happens after); for `url_verification`, the challenge. A retried event (same `event_id`) changes nothing", body = Object),
        (status = 400, description = "The body is not an Events API JSON body", body = ErrorBody),
        (status = 401, description = "X-Slack-Signature missing or wrong, or X-Slack-Request-Timestamp more than 300 s from the server clock", body = ErrorBody),
        (status = 404, description = "Slack is not configured", body = ErrorBody),
        (status = 413, description = "The body is over 256 KiB", body = ErrorBody),
        (status = 503, description = "The store cannot record the event", body = ErrorBody),
    ),
)]
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (bot, secret) = configured(&state)?;
    let bytes = signed_body(&state, &secret, &headers, body).await?;
    let envelope: Envelope = serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest {
        message: format!("the body is not an Events API payload: {e}"),
        field: None,
    })?;
    match envelope {
        Envelope::UrlVerification { challenge } => {
            Ok((StatusCode::OK, Json(json!({ "challenge": challenge }))))
        }
        Envelope::EventCallback { event_id, event } => {
            if !bot
                .first_sight(&event_id)
                .await
                .map_err(|e| ApiError::Unavailable(format!("cannot record the event: {e}")))?
            {
                return Ok((
                    StatusCode::OK,
                    Json(json!({ "ok": true, "duplicate": true })),
                ));
            }
            tokio::spawn(async move { bot.on_event(*event).await });
            Ok((StatusCode::OK, Json(json!({ "ok": true }))))
        }
        Envelope::Other => Ok((StatusCode::OK, Json(json!({ "ok": true, "ignored": true })))),
    }
}

/// The form Slack posts to the interactivity URL.
#[derive(utoipa::ToSchema)]
pub struct InteractionForm {
    /// The interaction, as JSON.
    pub payload: String,
}

/// `POST /api/v1/slack/interactions`.
#[utoipa::path(
    post,
    path = "/api/v1/slack/interactions",
    request_body(content = InteractionForm, content_type = "application/x-www-form-urlencoded", description = "`payload=` a `block_actions` JSON whose one action is tfpilot_submit or tfpilot_change (value: a draft id), or tfpilot_approve or tfpilot_reject (value: a request id)"),
    responses(
        (status = 200, description = "Acknowledged; the answer goes to the payload's response_url or the thread", body = Object),
        (status = 400, description = "No `payload` field, not JSON, not `block_actions`, not one action, an unknown action_id or a value that is not an id", body = ErrorBody),
        (status = 401, description = "X-Slack-Signature missing or wrong, or X-Slack-Request-Timestamp more than 300 s from the server clock", body = ErrorBody),
        (status = 404, description = "Slack is not configured, or the request the button names does not exist", body = ErrorBody),
        (status = 413, description = "The body is over 256 KiB", body = ErrorBody),
    ),
)]
pub async fn interactions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (bot, secret) = configured(&state)?;
    let bytes = signed_body(&state, &secret, &headers, body).await?;
    let bad = |message: String| ApiError::BadRequest {
        message,
        field: Some("payload".into()),
    };
    let payload = form_urlencoded_payload(&bytes)
        .ok_or_else(|| bad("the body must be form-encoded with a `payload` field".into()))?;
    let interaction: Interaction = serde_json::from_str(&payload)
        .map_err(|e| bad(format!("the payload is not an interaction: {e}")))?;
    let click = read_click(&interaction).map_err(bad)?;
    if let Click::Approve(id) | Click::Reject(id) = &click.click
        && !request_exists(&state, id).await?
    {
        return Err(ApiError::NotFound(format!("request {id} does not exist")));
    }
    tokio::spawn(async move { bot.on_click(click).await });
    Ok((StatusCode::OK, Json(json!({ "ok": true }))))
}

/// Whether live request `id` exists.
async fn request_exists(
    state: &AppState,
    id: &app::domain::ids::RequestId,
) -> Result<bool, ApiError> {
    let repo = crate::store::repo::RequestRepo::new(state.stores.requests.clone());
    match repo.get(id).await {
        Ok(_) => Ok(true),
        Err(crate::store::repo::RepoError::NotFound(_)) => Ok(false),
        Err(e) => Err(ApiError::Unavailable(format!(
            "cannot read request {id}: {e}"
        ))),
    }
}

/// The `payload` field of a form body.
fn form_urlencoded_payload(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| InteractionForm {
            payload: v.into_owned(),
        })
        .map(|form| form.payload)
}
