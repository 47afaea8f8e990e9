//! `POST /api/v1/webhooks/github`: HMAC-verified GitHub events.
//!
//! A webhook is only a hint: it names the request a PR or workflow run
//! belongs to, and the step driver then reads the facts from the host.
//! A duplicate, late or out-of-order delivery therefore changes nothing,
//! and a lost one is repaired by the reconciler.

use super::AppState;
use super::error::ApiError;
use crate::exec::request_of_run_name;
use app::domain::ids::RequestId;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// The `X-Hub-Signature-256` header value GitHub sends with `body` under
/// `secret`: `sha256=<hex>` of its HMAC-SHA256.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length, so there is no error to meet.
    let hex: String = Hmac::<Sha256>::new_from_slice(secret)
        .map(|mut mac| {
            mac.update(body);
            mac.finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .unwrap_or_default();
    format!("sha256={hex}")
}

/// Checks `X-Hub-Signature-256: sha256=<hex>` against the body, in constant time.
pub fn verify_signature(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(sent) = header.and_then(|h| h.strip_prefix("sha256=")) else {
        return false;
    };
    let expected = signature(secret, body);
    let expected = expected.trim_start_matches("sha256=");
    !expected.is_empty()
        && crate::auth::constant_time_eq(sent.to_ascii_lowercase().as_bytes(), expected.as_bytes())
}

/// The request a branch belongs to: `request/<id>`, `request/<id>-r<n>`, `cleanup/<id>`.
pub fn request_of_branch(branch: &str) -> Option<RequestId> {
    let rest = branch
        .strip_prefix("request/")
        .or_else(|| branch.strip_prefix("cleanup/"))?;
    RequestId::parse(rest.get(..RequestId::LEN)?).ok()
}

/// Receives a GitHub event (`pull_request`, `workflow_run`, `ping`).
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/github",
    request_body(content = Object, description = "A GitHub webhook payload"),
    responses(
        (status = 200, description = "ping answered"),
        (status = 202, description = "Accepted: the request it names is driven forward, or the event is ignored"),
        (status = 400, description = "The body is not JSON", body = super::error::ErrorBody),
        (status = 401, description = "Missing or wrong X-Hub-Signature-256", body = super::error::ErrorBody),
        (status = 404, description = "Webhooks are not configured (no TFPILOT_GITHUB_WEBHOOK_SECRET and no stored webhook_secret integration `default`)", body = super::error::ErrorBody),
        (status = 413, description = "The body is over 256 KiB", body = super::error::ErrorBody),
    )
)]
pub async fn github(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Some(secret) = state.credentials.webhook_secret.get() else {
        return Err(ApiError::NotFound(
            "GitHub webhooks are not configured here: set TFPILOT_GITHUB_WEBHOOK_SECRET, or store the webhook_secret integration `default`, to receive them".into(),
        ));
    };
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !verify_signature(secret.expose().as_bytes(), &body, signature) {
        return Err(ApiError::Unauthorized(
            "the X-Hub-Signature-256 header is missing or does not match the body".into(),
        ));
    }
    let event = headers
        .get("x-github-event")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let payload: Value = serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest {
        message: format!("the webhook body is not JSON: {e}"),
        field: None,
    })?;
    let request = match event {
        "ping" => return Ok((StatusCode::OK, Json(json!({ "ok": true })))),
        "pull_request" => payload["pull_request"]["head"]["ref"]
            .as_str()
            .and_then(request_of_branch),
        "workflow_run" => payload["workflow_run"]["display_title"]
            .as_str()
            .or(payload["workflow_run"]["name"].as_str())
            .and_then(request_of_run_name),
        _ => None,
    };
    match request {
        Some(id) => {
            state.flow.spawn_advance(id);
            Ok((
                StatusCode::ACCEPTED,
                Json(json!({ "request": id.to_string() })),
            ))
        }
        None => Ok((StatusCode::ACCEPTED, Json(json!({ "ignored": event })))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked() {
        let body = br#"{"zen": "x"}"#;
        let good = signature(b"s3cret", body);
        assert_eq!(good.len(), "sha256=".len() + 64);
        assert!(verify_signature(
            b"s3cret",
            body,
            Some(&good.to_uppercase().replace("SHA256=", "sha256="))
        ));
        assert!(verify_signature(b"s3cret", body, Some(&good)));
        assert!(!verify_signature(b"other", body, Some(&good)));
        assert!(!verify_signature(b"s3cret", b"{}", Some(&good)));
        for bad in [
            None,
            Some(""),
            Some("sha1=00"),
            Some("sha256=zz"),
            Some("sha256=abc"),
        ] {
            assert!(!verify_signature(b"s3cret", body, bad), "{bad:?}");
        }
    }

    #[test]
    fn branches_and_run_names_name_their_request() {
        let id = RequestId::generate(1_700_000_000_000, 9);
        assert_eq!(request_of_branch(&format!("request/{id}")), Some(id));
        assert_eq!(request_of_branch(&format!("request/{id}-r3")), Some(id));
        assert_eq!(request_of_branch(&format!("cleanup/{id}")), Some(id));
        assert_eq!(request_of_branch("main"), None);
        assert_eq!(request_of_branch("request/short"), None);
        assert_eq!(
            request_of_run_name(&format!("tfpilot plan {id} attempt 2")),
            Some(id)
        );
        assert_eq!(request_of_run_name("deploy docs"), None);
    }
}
