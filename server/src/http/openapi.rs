//! `GET /api/v1/openapi.json`: the API described from the code.

use super::error::ErrorBody;
use super::{audit, requests, tokens, users};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "tfpilot", description = "Self-service Terraform requests."),
    paths(
        requests::list,
        requests::create,
        requests::get,
        requests::update,
        requests::act,
        requests::confirm,
        requests::plan,
        requests::log,
        audit::list,
        super::events::stream,
        users::list,
        users::create,
        users::update,
        tokens::list,
        tokens::create,
        tokens::revoke,
        super::webhooks::github,
        super::modules::list
    ),
    components(schemas(
        ErrorBody,
        tokens::NewToken,
        users::NewUser,
        users::UserChange,
        requests::ConfirmBody
    )),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// The OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Serves the document.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}
