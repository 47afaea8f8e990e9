//! A stateful fake of the HCP Terraform API tfpilot uses, on a loopback
//! port: workspaces, configuration versions (archives uploaded to an
//! "archivist" URL that refuses the token and kept for the tests), runs
//! executing real `terraform` on the uploaded archive in the workspace's
//! working directory with state kept per workspace (`runner.rs`), plans
//! and applies with their logs and JSON, cost estimates and policy checks
//! a test switches on per workspace, and the run actions. Every API call
//! must carry the token and `Content-Type: application/vnd.api+json`, is
//! counted by route, and may be answered by a queued fault (429 with
//! `Retry-After`, …); bodies of the wrong JSON:API shape get a 422.

mod handlers;
mod runner;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The token the fake accepts.
pub const TOKEN: &str = "tfc-test-token.atlasv1.0123456789";

/// What a workspace's policy check ends as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Every policy passes.
    Pass,
    /// One soft-mandatory policy fails.
    SoftFail,
    /// One hard-mandatory policy fails.
    HardFail,
}

/// A workspace.
#[derive(Debug, Clone)]
pub struct Ws {
    pub id: String,
    pub org: String,
    pub name: String,
    pub working_dir: String,
    /// Locked by a person.
    pub locked: bool,
    /// Cost estimation: (proposed, delta) monthly cost.
    pub cost: Option<(String, String)>,
    pub policy: Option<Policy>,
    /// An OPA policy evaluation in a task stage: how many advisory
    /// policies fail (of two).
    pub opa: Option<u32>,
}

/// A configuration version.
#[derive(Debug, Clone)]
pub struct Cv {
    pub id: String,
    pub ws: String,
    pub speculative: bool,
    pub auto_queue_runs: bool,
    pub status: String,
    pub archive: Option<Vec<u8>>,
}

/// What `actions/apply` or `actions/discard` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Apply,
    Discard,
}

/// A run.
#[derive(Debug, Clone)]
pub struct Run {
    pub id: String,
    pub ws: String,
    pub cv: String,
    pub message: String,
    pub plan_only: bool,
    pub targets: Vec<String>,
    pub status: String,
    pub position: u32,
    pub confirmable: bool,
    pub decision: Option<Decision>,
    pub plan_status: String,
    pub apply_status: String,
    pub plan_log: String,
    pub apply_log: String,
    pub plan_json: Option<Vec<u8>>,
    /// Whether the plan changes a resource.
    pub has_changes: bool,
    /// Times the plan's JSON was asked for (the first gets a 204).
    pub json_asked: u32,
    pub cost: Option<(String, String, String)>,
    /// (status, passed, soft-failed, hard-failed)
    pub policy: Option<(String, u32, u32, u32)>,
    /// The OPA evaluation: (status, passed, advisory failed).
    pub opa: Option<(String, u32, u32)>,
    pub fin: bool,
}

/// A queued answer to the next API calls.
#[derive(Debug, Clone)]
pub struct Fault {
    pub status: u16,
    pub retry_after: Option<u64>,
}

#[derive(Default)]
pub struct FakeState {
    pub workspaces: Vec<Ws>,
    pub cvs: Vec<Cv>,
    pub runs: Vec<Run>,
    /// `METHOD route` of every call, API and archivist, in order.
    pub calls: Vec<String>,
    pub faults: VecDeque<Fault>,
    pub next: u64,
    /// The one token accepted, when not [`TOKEN`].
    pub token: Option<String>,
}

impl FakeState {
    pub fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}-{:016}", self.next)
    }

    pub fn run_mut(&mut self, id: &str) -> Option<&mut Run> {
        self.runs.iter_mut().find(|r| r.id == id)
    }

    pub fn ws(&self, id: &str) -> Option<&Ws> {
        self.workspaces.iter().find(|w| w.id == id)
    }

    /// A person's lock, or an apply run under way.
    pub fn locked(&self, ws: &str) -> bool {
        self.ws(ws).is_some_and(|w| w.locked)
            || self
                .runs
                .iter()
                .any(|r| r.ws == ws && !r.plan_only && !r.fin && r.status != "pending")
    }
}

#[derive(Clone)]
pub struct Fake {
    pub state: Arc<Mutex<FakeState>>,
    pub addr: SocketAddr,
    pub dir: Arc<tempfile::TempDir>,
}

impl Fake {
    /// Starts the fake on a free loopback port.
    pub async fn start() -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = Fake {
            state: Arc::new(Mutex::new(FakeState::default())),
            addr: listener.local_addr().unwrap(),
            dir: Arc::new(tempfile::tempdir().unwrap()),
        };
        let api = handlers::routes()
            .route_layer(axum::middleware::from_fn_with_state(fake.clone(), gate));
        let archivist = Router::new()
            .route("/_archivist/upload/{cv}", put(handlers::upload))
            .route("/_archivist/log/{kind}/{id}", get(handlers::log))
            .route("/_archivist/json/{plan}", get(handlers::plan_json_blob))
            .route_layer(axum::middleware::from_fn_with_state(
                fake.clone(),
                archivist_gate,
            ));
        let app = Router::new()
            .nest("/api/v2", api)
            .merge(archivist)
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        fake
    }

    /// The URL to configure tfpilot with.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates workspace `org/name` working in `working_dir`; returns its id.
    pub fn add_workspace(&self, org: &str, name: &str, working_dir: &str) -> String {
        let mut s = self.state.lock().unwrap();
        let id = s.id("ws");
        s.workspaces.push(Ws {
            id: id.clone(),
            org: org.into(),
            name: name.into(),
            working_dir: working_dir.into(),
            locked: false,
            cost: None,
            policy: None,
            opa: None,
        });
        id
    }

    fn with_ws(&self, name: &str, f: impl FnOnce(&mut Ws)) {
        let mut s = self.state.lock().unwrap();
        f(s.workspaces.iter_mut().find(|w| w.name == name).unwrap());
    }

    /// Runs of `name` get a cost estimate of `proposed` (`delta` from now).
    pub fn set_cost(&self, name: &str, proposed: &str, delta: &str) {
        self.with_ws(name, |w| w.cost = Some((proposed.into(), delta.into())));
    }

    /// Runs of `name` get a policy check ending as `policy`.
    pub fn set_policy(&self, name: &str, policy: Policy) {
        self.with_ws(name, |w| w.policy = Some(policy));
    }

    /// Runs of `name` get an OPA policy evaluation in a task stage, with
    /// `failing` of its two advisory policies failing.
    pub fn set_opa(&self, name: &str, failing: u32) {
        self.with_ws(name, |w| w.opa = Some(failing.min(2)));
    }

    /// Locks or unlocks `name` as a person would.
    pub fn lock(&self, name: &str, locked: bool) {
        self.with_ws(name, |w| w.locked = locked);
    }

    /// The next `times` API calls answer `status` (with `Retry-After`).
    pub fn fail_next(&self, status: u16, times: usize, retry_after: Option<u64>) {
        let mut s = self.state.lock().unwrap();
        for _ in 0..times {
            s.faults.push_back(Fault {
                status,
                retry_after,
            });
        }
    }

    /// Accepts `token` instead of [`TOKEN`] from now on (the old one is
    /// refused with 401).
    pub fn set_token(&self, token: &str) {
        self.state.lock().unwrap().token = Some(token.into());
    }

    /// Every call so far (`METHOD route`), and forgets them.
    pub fn take_calls(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().unwrap().calls)
    }

    /// The runs, oldest first.
    pub fn runs(&self) -> Vec<Run> {
        self.state.lock().unwrap().runs.clone()
    }

    /// The archive uploaded for the configuration version of `run`.
    pub fn archive_of(&self, run: &Run) -> Vec<u8> {
        let s = self.state.lock().unwrap();
        let cv = s.cvs.iter().find(|c| c.id == run.cv).unwrap();
        cv.archive.clone().unwrap()
    }

    /// Where workspace `ws` keeps its state.
    pub fn state_file(&self, ws: &str) -> PathBuf {
        self.dir.path().join("state").join(format!("{ws}.tfstate"))
    }
}

/// A JSON:API error answer.
pub fn error(status: StatusCode, title: &str, detail: &str) -> Response {
    (
        status,
        [("content-type", "application/vnd.api+json")],
        json!({ "errors": [{ "status": status.as_u16().to_string(), "title": title, "detail": detail }] })
            .to_string(),
    )
        .into_response()
}

/// A JSON:API document answer.
pub fn doc(status: StatusCode, body: Value) -> Response {
    (
        status,
        [("content-type", "application/vnd.api+json")],
        body.to_string(),
    )
        .into_response()
}

fn route(req: &Request) -> String {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| req.uri().path().to_owned());
    format!("{} {path}", req.method())
}

/// Every API call: counted, then a queued fault, the token, the content type.
async fn gate(State(fake): State<Fake>, req: Request, next: Next) -> Response {
    let fault = {
        let mut s = fake.state.lock().unwrap();
        s.calls.push(route(&req));
        s.faults.pop_front()
    };
    if let Some(f) = fault {
        let mut res = error(
            StatusCode::from_u16(f.status).unwrap(),
            "injected",
            "a fault the test queued",
        );
        if let Some(secs) = f.retry_after {
            res.headers_mut()
                .insert("retry-after", secs.to_string().parse().unwrap());
        }
        return res;
    }
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let token = fake.state.lock().unwrap().token.clone();
    if bearer != Some(token.as_deref().unwrap_or(TOKEN)) {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "bad or missing token",
        );
    }
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    if content_type != Some("application/vnd.api+json") {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported media type",
            "Content-Type must be application/vnd.api+json",
        );
    }
    next.run(req).await
}

/// Upload and download URLs: counted, and never given the token.
async fn archivist_gate(State(fake): State<Fake>, req: Request, next: Next) -> Response {
    fake.state.lock().unwrap().calls.push(route(&req));
    if req.headers().contains_key("authorization") {
        return (
            StatusCode::BAD_REQUEST,
            "the API token must not be sent to the archivist",
        )
            .into_response();
    }
    next.run(req).await
}
