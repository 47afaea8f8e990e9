//! The service interface server functions call (server builds only).
//!
//! `app` declares it, `server` implements it and provides it as Leptos
//! context; every server function is a one-line call into it.

use crate::api::{Detail, Draft, Filters, Listing, Me, ModuleCard, NewOptions, TokenRow, UserRow};
use crate::domain::assistant::Line;
use crate::domain::ids::RequestId;
use crate::domain::policy::Action;
use leptos::prelude::{ServerFnError, use_context};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Why the server could not answer: an HTTP status (401, 403, 404, 409,
/// 422, 503…) and a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status of the server function's response.
    pub status: u16,
    /// The sentence shown on the page.
    pub message: String,
}

impl From<String> for Refusal {
    /// Bad input (400).
    fn from(message: String) -> Self {
        Self {
            status: 400,
            message,
        }
    }
}

impl Refusal {
    /// The request id of a page's address: one that cannot be an id names
    /// no request (404).
    pub fn request_id(id: &str) -> Result<RequestId, Self> {
        RequestId::parse(id).map_err(|_| Self {
            status: 404,
            message: format!("request {id} does not exist"),
        })
    }

    /// A request id a page posted: bad input (400) when it cannot be one.
    pub fn posted_request_id(id: &str) -> Result<RequestId, Self> {
        RequestId::parse(id).map_err(|_| format!("`{id}` is not a request id").into())
    }

    /// The action a page posted: `confirm` or one [`Action::from_path`]
    /// accepts; bad input (400) otherwise (the action is a field of the
    /// call here, not a path as on the REST API).
    pub fn posted_action(action: &str) -> Result<Action, Self> {
        if action == Action::Confirm.as_str() {
            return Ok(Action::Confirm);
        }
        Action::from_path(action).map_err(Self::from)
    }
}

/// An answer later, or a refusal.
pub type Later<'a, T> = Pin<Box<dyn Future<Output = Result<T, Refusal>> + Send + 'a>>;

/// The server function error for a refusal; its status goes on the
/// response of a server function call (so a client's mistake is never a
/// 500). A page rendering the same call shows the sentence instead, and
/// answers 404 when what it shows does not exist (or is hidden from the
/// caller): the status holds where the page reads it with a blocking
/// resource, which the first byte waits for.
pub fn refuse(r: Refusal) -> ServerFnError {
    let server_fn_call =
        use_context::<http::request::Parts>().is_some_and(|p| p.uri.path().starts_with("/sfn/"));
    if (server_fn_call || r.status == 404)
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(
            http::StatusCode::from_u16(r.status).unwrap_or(http::StatusCode::BAD_REQUEST),
        );
    }
    ServerFnError::new(r.message)
}

/// What the UI needs from the server. Methods that act find the caller
/// from the request's session and are decided on the server.
pub trait Services: Send + Sync + 'static {
    /// The module catalogue, grouped for display.
    fn catalog(&self) -> Vec<ModuleCard>;
    /// Every user (admins).
    fn users(&self) -> Later<'_, Vec<UserRow>>;
    /// Tokens (all for admins, one's own otherwise).
    fn tokens(&self) -> Later<'_, Vec<TokenRow>>;
    /// The remediation policies (approvers and admins), and what the
    /// Alertmanager payload `alert` (JSON), when given, would lead to.
    fn policies(&self, alert: Option<String>) -> Later<'_, crate::api::PolicyPage>;
    /// The integration credentials (admins): never a secret, only which
    /// are set, when, by whom, with which key, and whether they open.
    fn integrations(&self) -> Later<'_, crate::api::IntegrationsPage>;
    /// A page of the remediation job log, newest first (every signed-in
    /// role); a bad filter is a 400 naming it.
    fn jobs(&self, filters: crate::api::JobFilters) -> Later<'_, crate::api::JobLog>;
    /// The projects the caller sees, for `/admin/projects`.
    fn projects(&self) -> Later<'_, crate::api::ProjectsPage>;
    /// One project's settings and members (404 when hidden).
    fn project(&self, key: String) -> Later<'_, crate::api::ProjectView>;
    /// The signed-in user, if any.
    fn me(&self) -> Later<'_, Option<Me>>;
    /// A page of the requests dashboard.
    fn dashboard(&self, filters: Filters) -> Later<'_, Listing>;
    /// The new-request page's choices (and the schema of `module`, if given).
    fn new_options(&self, module: String) -> Later<'_, NewOptions>;
    /// The describe box's words: the answer when they ask about platform
    /// state, else what the assistant proposes (nothing is filed).
    fn describe(&self, ask: crate::api::AssistantAsk) -> Later<'_, crate::api::Described>;
    /// The block a draft would commit.
    fn preview(&self, draft: Draft) -> Later<'_, String>;
    /// Files a draft and stores its transcript as the chat log; the id.
    fn file(&self, draft: Draft, transcript: Vec<Line>) -> Later<'_, String>;
    /// A request's current inputs as a draft (sensitive ones redacted).
    fn draft_of(&self, id: RequestId) -> Later<'_, Draft>;
    /// Files a new revision with changed inputs; the request id.
    fn update(&self, draft: Draft, transcript: Vec<Line>) -> Later<'_, String>;
    /// Everything the request page shows, for the caller.
    fn detail(&self, id: RequestId) -> Later<'_, Detail>;
    /// Takes `action` (`approve`, `destroy`…) on request `id` as the
    /// caller; `confirm` names exactly the blocked addresses it confirms.
    fn act(&self, id: RequestId, action: Action, addresses: Vec<String>) -> Later<'_, ()>;
}

/// The shared handle stored in Leptos context.
pub type SharedServices = Arc<dyn Services>;

/// The services from context, or an error the UI can show.
pub fn services() -> Result<SharedServices, ServerFnError> {
    use_context::<SharedServices>()
        .ok_or_else(|| ServerFnError::new("tfpilot services are not available"))
}
