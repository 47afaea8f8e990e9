//! A stateful fake of the GitHub REST endpoints tfpilot uses, served under
//! `/api/v3` (the GitHub Enterprise layout, so the base-URL path is
//! exercised): repos and the git data API on a real bare repository,
//! pulls with real merges, Actions (`workflow_dispatch` runs real
//! terraform on the sandbox modules and uploads zip artifacts), and webhook
//! deliveries signed with HMAC-SHA256. Faults (5xx, rate limits) can be
//! queued to test the client's retries.

mod actions;
mod drift;
pub mod git;
mod pulls;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use git::BareRepo;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub use actions::Run;
pub use pulls::Pull;

pub const TOKEN: &str = "ghp_faketoken0123456789";
pub const SECRET: &str = "webhook-secret";

/// A queued fault: the next matching API call gets this answer.
#[derive(Debug, Clone)]
pub struct Fault {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub path_contains: String,
}

#[derive(Default)]
pub struct FakeState {
    pub repos: HashMap<String, RepoState>,
    pub next_pr: u64,
    pub next_run: u64,
    pub next_artifact: u64,
    pub blobs: HashMap<u64, Vec<u8>>,
    pub faults: VecDeque<Fault>,
    pub webhook: Option<String>,
    pub drop_webhooks: bool,
    /// (event, action, delivered)
    pub deliveries: Vec<(String, String, bool)>,
    /// A GitHub App: (app id, installation id, public key PEM).
    pub app: Option<(u64, u64, String)>,
    /// Installation tokens minted for the app.
    pub minted: Vec<String>,
    /// OAuth app: (client id, client secret, the login who "consents").
    pub oauth: Option<(String, String, String)>,
    /// OAuth codes and user tokens, each to its login.
    pub codes: HashMap<String, String>,
    pub user_tokens: HashMap<String, String>,
    /// GitHub's numeric user ids, by login (a stable one is made up for
    /// a login not listed).
    pub user_ids: HashMap<String, u64>,
    /// Active members of organizations (`org`) and teams (`org/team`).
    pub members: HashMap<String, Vec<String>>,
    /// The token accepted instead of [`TOKEN`], once set.
    pub token: Option<String>,
}

pub struct RepoState {
    pub git: BareRepo,
    pub pulls: Vec<Pull>,
    pub runs: Vec<Run>,
}

#[derive(Clone)]
pub struct Fake {
    pub state: Arc<Mutex<FakeState>>,
    pub addr: SocketAddr,
    pub dir: Arc<tempfile::TempDir>,
    pub(crate) http: reqwest::Client,
}

impl Fake {
    /// Starts the fake on a free loopback port.
    pub async fn start() -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = Fake {
            state: Arc::new(Mutex::new(FakeState::default())),
            addr: listener.local_addr().unwrap(),
            dir: Arc::new(tempfile::tempdir().unwrap()),
            http: reqwest::Client::new(),
        };
        let api = Router::new()
            .route("/repos/{owner}/{repo}", get(repo_info))
            .merge(pulls::routes())
            .merge(actions::routes())
            .route("/repos/{owner}/{repo}/git/ref/{*name}", get(get_ref))
            .route("/repos/{owner}/{repo}/git/refs", post(create_ref))
            .route("/repos/{owner}/{repo}/git/refs/{*name}", patch(update_ref))
            .route("/repos/{owner}/{repo}/git/commits/{sha}", get(get_commit))
            .route("/repos/{owner}/{repo}/compare/{range}", get(compare))
            .route("/repos/{owner}/{repo}/git/commits", post(create_commit))
            .route("/repos/{owner}/{repo}/git/trees", post(create_tree))
            .route("/repos/{owner}/{repo}/git/blobs/{sha}", get(get_blob))
            .route("/repos/{owner}/{repo}/contents/{*path}", get(contents))
            .route("/repos/{owner}/{repo}/tarball/{rev}", get(tarball))
            .route(
                "/app/installations/{id}/access_tokens",
                post(installation_token),
            )
            .route("/app", get(app_info))
            .route("/user", get(current_user))
            .route("/user/memberships/orgs/{org}", get(org_membership))
            .route(
                "/orgs/{org}/teams/{team}/memberships/{username}",
                get(team_membership),
            )
            .layer(axum::middleware::from_fn_with_state(fake.clone(), gate));
        let app = Router::new()
            .nest("/api/v3", api)
            .route("/login/oauth/authorize", get(oauth_authorize))
            .route("/login/oauth/access_token", post(oauth_token))
            .route("/_blobs/{id}", get(actions::blob))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        fake
    }

    /// The API base URL to configure tfpilot with.
    pub fn api_url(&self) -> String {
        format!("http://{}/api/v3", self.addr)
    }

    /// Creates `owner/name` from the template with the sandbox overlay.
    pub async fn create_repo(&self, full: &str) -> BareRepo {
        let root = crate::support::root().join("infra-workflows");
        let git = BareRepo::create(
            self.dir.path().join("repos").join(full),
            &[root.join("template"), root.join("sandbox")],
        )
        .await;
        self.state.lock().unwrap().repos.insert(
            full.to_owned(),
            RepoState {
                git: git.clone(),
                pulls: Vec::new(),
                runs: Vec::new(),
            },
        );
        git
    }

    pub fn repo(&self, full: &str) -> BareRepo {
        self.state.lock().unwrap().repos[full].git.clone()
    }

    /// Sends webhooks to `url`.
    pub fn deliver_to(&self, url: String) {
        self.state.lock().unwrap().webhook = Some(url);
    }

    /// Loses (true) or delivers (false) every webhook from now on.
    pub fn drop_webhooks(&self, drop: bool) {
        self.state.lock().unwrap().drop_webhooks = drop;
    }

    /// Accepts GitHub App `app_id` installed as `installation` whose key's
    /// public half is `public_pem`.
    pub fn enable_app(&self, app_id: u64, installation: u64, public_pem: String) {
        self.state.lock().unwrap().app = Some((app_id, installation, public_pem));
    }

    /// Accepts `token` from now on, and no longer [`TOKEN`] or the one
    /// accepted before.
    pub fn accept_token(&self, token: &str) {
        self.state.lock().unwrap().token = Some(token.into());
    }

    /// Makes `token` a user token of `login` (as `GET /user` reads it).
    pub fn add_user_token(&self, token: &str, login: &str) {
        self.state
            .lock()
            .unwrap()
            .user_tokens
            .insert(token.into(), login.into());
    }

    /// An OAuth app whose consent screen signs in `login`.
    pub fn enable_oauth(&self, client_id: &str, client_secret: &str, login: &str) {
        self.state.lock().unwrap().oauth =
            Some((client_id.into(), client_secret.into(), login.into()));
    }

    /// Gives `login` this GitHub user id (as after a rename and reuse).
    pub fn set_user_id(&self, login: &str, id: u64) {
        self.state.lock().unwrap().user_ids.insert(login.into(), id);
    }

    /// Makes `login` an active member of `group` (`org` or `org/team`).
    pub fn add_member(&self, group: &str, login: &str) {
        self.state
            .lock()
            .unwrap()
            .members
            .entry(group.into())
            .or_default()
            .push(login.into());
    }

    /// Ends `login`'s membership of `group`.
    pub fn remove_member(&self, group: &str, login: &str) {
        if let Some(members) = self.state.lock().unwrap().members.get_mut(group) {
            members.retain(|m| m != login);
        }
    }

    /// The OAuth base URL (where `/login/oauth/*` lives).
    pub fn oauth_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Installation tokens minted so far.
    pub fn minted(&self) -> usize {
        self.state.lock().unwrap().minted.len()
    }

    /// Queues a fault for the next call whose path contains `path_contains`.
    pub fn fail_next(&self, status: u16, headers: &[(&'static str, &str)], path_contains: &str) {
        self.state.lock().unwrap().faults.push_back(Fault {
            status,
            headers: headers.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            path_contains: path_contains.to_owned(),
        });
    }

    pub fn pulls(&self, full: &str) -> Vec<Pull> {
        self.state.lock().unwrap().repos[full].pulls.clone()
    }

    pub fn runs(&self, full: &str) -> Vec<Run> {
        self.state.lock().unwrap().repos[full].runs.clone()
    }

    pub fn deliveries(&self) -> Vec<(String, String, bool)> {
        self.state.lock().unwrap().deliveries.clone()
    }

    pub(crate) fn git_of(&self, owner: &str, repo: &str) -> Result<BareRepo, Box<Response>> {
        self.state
            .lock()
            .unwrap()
            .repos
            .get(&format!("{owner}/{repo}"))
            .map(|r| r.git.clone())
            .ok_or_else(|| Box::new(error(StatusCode::NOT_FOUND, "Not Found")))
    }

    pub(crate) fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Sends a signed webhook (or records it as lost).
    pub(crate) async fn webhook(&self, event: &str, payload: Value) {
        let (url, drop) = {
            let s = self.state.lock().unwrap();
            (s.webhook.clone(), s.drop_webhooks)
        };
        let action = payload["action"].as_str().unwrap_or_default().to_owned();
        self.state.lock().unwrap().deliveries.push((
            event.to_owned(),
            action,
            url.is_some() && !drop,
        ));
        let Some(url) = url.filter(|_| !drop) else {
            return;
        };
        let body = serde_json::to_vec(&payload).unwrap();
        let _ = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("x-github-event", event)
            .header("x-github-delivery", fastrand::u64(..).to_string())
            .header(
                "x-hub-signature-256",
                server::http::webhooks::signature(SECRET.as_bytes(), &body),
            )
            .body(body)
            .send()
            .await;
    }
}

pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "message": message, "documentation_url": "https://docs.github.com/rest" })),
    )
        .into_response()
}

/// Authentication, the call log and queued faults.
async fn gate(State(fake): State<Fake>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    // The token endpoint checks the app's JWT itself.
    let minting = path == "/app" || path.starts_with("/app/");
    let fault = {
        let mut s = fake.state.lock().unwrap();
        let authorized = minting
            || bearer == s.token.as_deref().unwrap_or(TOKEN)
            || s.minted.contains(&bearer)
            || ((path == "/user" || path.starts_with("/user/") || path.starts_with("/orgs/"))
                && s.user_tokens.contains_key(&bearer));
        if !authorized {
            drop(s);
            return error(StatusCode::UNAUTHORIZED, "Bad credentials");
        }
        let at = s
            .faults
            .iter()
            .position(|f| path.contains(&f.path_contains));
        at.and_then(|i| s.faults.remove(i))
    };
    if let Some(f) = fault {
        let mut res = error(
            StatusCode::from_u16(f.status).unwrap(),
            "fault injected by the test",
        );
        for (k, v) in f.headers {
            res.headers_mut()
                .insert(k, HeaderValue::from_str(&v).unwrap());
        }
        return res;
    }
    next.run(req).await
}

/// `POST /app/installations/{id}/access_tokens`: checks the app's RS256
/// JWT (signature, issuer, expiry) and mints an installation token.
async fn installation_token(
    State(fake): State<Fake>,
    Path(id): Path<u64>,
    headers: axum::http::HeaderMap,
) -> Response {
    let installation = match app_jwt(&fake, &headers) {
        Ok((_, installation)) => installation,
        Err((status, message)) => return error(status, message),
    };
    if id != installation {
        return error(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    let token = format!("ghs_{:016x}", fastrand::u64(..));
    fake.state.lock().unwrap().minted.push(token.clone());
    (
        StatusCode::CREATED,
        Json(json!({
            "token": token,
            "expires_at": "2099-01-01T00:00:00Z",
            "permissions": { "contents": "write", "pull_requests": "write", "actions": "write" },
        })),
    )
        .into_response()
}

/// `GET /app`: the app its RS256 JWT is signed for.
async fn app_info(State(fake): State<Fake>, headers: axum::http::HeaderMap) -> Response {
    match app_jwt(&fake, &headers) {
        Ok((app_id, _)) => {
            Json(json!({"id": app_id, "slug": "tfpilot-test", "name": "tfpilot test"}))
                .into_response()
        }
        Err((status, message)) => error(status, message),
    }
}

/// The app id and installation of a request bearing the app's JWT.
fn app_jwt(
    fake: &Fake,
    headers: &axum::http::HeaderMap,
) -> Result<(u64, u64), (StatusCode, &'static str)> {
    use octocrab::jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
    let Some((app_id, installation, public_pem)) = fake.state.lock().unwrap().app.clone() else {
        return Err((StatusCode::NOT_FOUND, "Not Found"));
    };
    let jwt = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    #[derive(Deserialize)]
    struct Claims {
        iss: Value,
    }
    let key = DecodingKey::from_rsa_pem(public_pem.as_bytes()).unwrap();
    let claims = match decode::<Claims>(jwt, &key, &Validation::new(Algorithm::RS256)) {
        Ok(data) => data.claims,
        Err(_) => {
            return Err((
                StatusCode::UNAUTHORIZED,
                "A JSON web token could not be decoded",
            ));
        }
    };
    let iss = claims
        .iss
        .as_u64()
        .or_else(|| claims.iss.as_str()?.parse().ok());
    if iss != Some(app_id) {
        return Err((StatusCode::UNAUTHORIZED, "Bad credentials"));
    }
    Ok((app_id, installation))
}

#[derive(Deserialize)]
struct Authorize {
    client_id: String,
    redirect_uri: String,
    state: String,
}

/// The consent screen, consented at once: back to tfpilot with a code.
async fn oauth_authorize(State(fake): State<Fake>, Query(q): Query<Authorize>) -> Response {
    let mut s = fake.state.lock().unwrap();
    let Some((client_id, _, login)) = s.oauth.clone() else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    if q.client_id != client_id {
        return error(StatusCode::NOT_FOUND, "unknown client_id");
    }
    let code = format!("code{:016x}", fastrand::u64(..));
    s.codes.insert(code.clone(), login);
    let sep = if q.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!("{}{sep}code={code}&state={}", q.redirect_uri, q.state);
    (StatusCode::FOUND, [("location", location)]).into_response()
}

#[derive(Deserialize)]
struct TokenRequest {
    client_id: String,
    client_secret: String,
    code: String,
}

async fn oauth_token(State(fake): State<Fake>, Json(body): Json<TokenRequest>) -> Response {
    let mut s = fake.state.lock().unwrap();
    let Some((client_id, secret, _)) = s.oauth.clone() else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    if body.client_id != client_id || body.client_secret != secret {
        return Json(json!({"error": "incorrect_client_credentials", "error_description": "The client_id and/or client_secret passed are incorrect."})).into_response();
    }
    let Some(login) = s.codes.remove(&body.code) else {
        return Json(json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."})).into_response();
    };
    let token = format!("gho_{:016x}", fastrand::u64(..));
    s.user_tokens.insert(token.clone(), login);
    Json(json!({"access_token": token, "token_type": "bearer", "scope": "read:user"}))
        .into_response()
}

async fn current_user(State(fake): State<Fake>, headers: axum::http::HeaderMap) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let s = fake.state.lock().unwrap();
    match s.user_tokens.get(bearer) {
        Some(login) => {
            let id = s.user_ids.get(login).copied().unwrap_or_else(|| {
                login
                    .bytes()
                    .fold(1000u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
            });
            Json(json!({"login": login, "id": id, "type": "User"})).into_response()
        }
        None => error(StatusCode::UNAUTHORIZED, "Bad credentials"),
    }
}

fn token_login(fake: &Fake, headers: &axum::http::HeaderMap) -> Option<String> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))?;
    fake.state.lock().unwrap().user_tokens.get(bearer).cloned()
}

fn is_member(fake: &Fake, group: &str, login: &str) -> bool {
    fake.state
        .lock()
        .unwrap()
        .members
        .get(group)
        .is_some_and(|m| m.iter().any(|l| l == login))
}

/// `GET /user/memberships/orgs/{org}`: the caller's own membership.
async fn org_membership(
    State(fake): State<Fake>,
    Path(org): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some(login) = token_login(&fake, &headers) else {
        return error(StatusCode::UNAUTHORIZED, "Bad credentials");
    };
    if !is_member(&fake, &org, &login) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    Json(json!({
        "state": "active",
        "role": "member",
        "organization": {"login": org},
        "user": {"login": login},
    }))
    .into_response()
}

/// `GET /orgs/{org}/teams/{team}/memberships/{username}`.
async fn team_membership(
    State(fake): State<Fake>,
    Path((org, team, username)): Path<(String, String, String)>,
) -> Response {
    if !is_member(&fake, &format!("{org}/{team}"), &username) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    Json(json!({"state": "active", "role": "member"})).into_response()
}

type RepoPath = Path<(String, String)>;

async fn repo_info(State(fake): State<Fake>, Path((owner, repo)): RepoPath) -> Response {
    match fake.git_of(&owner, &repo) {
        Ok(_) => Json(json!({
            "full_name": format!("{owner}/{repo}"),
            "default_branch": "main",
            "private": true,
        }))
        .into_response(),
        Err(e) => *e,
    }
}

async fn get_ref(
    State(fake): State<Fake>,
    Path((owner, repo, name)): Path<(String, String, String)>,
) -> Response {
    let git = match fake.git_of(&owner, &repo) {
        Ok(g) => g,
        Err(e) => return *e,
    };
    let Some(branch) = name.strip_prefix("heads/") else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    match git.head(branch).await {
        Some(sha) => Json(json!({
            "ref": format!("refs/{name}"),
            "object": { "sha": sha, "type": "commit" },
        }))
        .into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

#[derive(Deserialize)]
struct NewRef {
    #[serde(rename = "ref")]
    name: String,
    sha: String,
}

async fn create_ref(
    State(fake): State<Fake>,
    Path((owner, repo)): RepoPath,
    Json(body): Json<NewRef>,
) -> Response {
    let git = match fake.git_of(&owner, &repo) {
        Ok(g) => g,
        Err(e) => return *e,
    };
    let Some(branch) = body.name.strip_prefix("refs/heads/") else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Reference name must start with refs/heads/",
        );
    };
    if git.object_type(&body.sha).await.as_deref() != Some("commit") {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Object does not exist");
    }
    if !git.set_ref(branch, &body.sha, None).await {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Reference already exists");
    }
    (
        StatusCode::CREATED,
        Json(json!({ "ref": body.name, "object": { "sha": body.sha, "type": "commit" } })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct RefUpdate {
    sha: String,
    #[serde(default)]
    force: bool,
}

async fn update_ref(
    State(fake): State<Fake>,
    Path((owner, repo, name)): Path<(String, String, String)>,
    Json(body): Json<RefUpdate>,
) -> Response {
    let git = match fake.git_of(&owner, &repo) {
        Ok(g) => g,
        Err(e) => return *e,
    };
    let Some(branch) = name.strip_prefix("heads/") else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Reference does not exist");
    };
    let Some(old) = git.head(branch).await else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Reference does not exist");
    };
    if !body.force && !git.is_ancestor(&old, &body.sha).await {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Update is not a fast forward",
        );
    }
    if !git.set_ref(branch, &body.sha, Some(&old)).await {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Update is not a fast forward",
        );
    }
    if let Some(number) = fake.open_pull_of(&owner, &repo, branch) {
        let payload = fake
            .pull_payload(&owner, &repo, number, "synchronize")
            .await;
        fake.webhook("pull_request", payload).await;
    }
    Json(json!({ "ref": format!("refs/{name}"), "object": { "sha": body.sha, "type": "commit" } }))
        .into_response()
}

async fn get_commit(
    State(fake): State<Fake>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Response {
    let git = match fake.git_of(&owner, &repo) {
        Ok(g) => g,
        Err(e) => return *e,
    };
    if git.object_type(&sha).await.as_deref() != Some("commit") {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let tree = git.tree_of(&sha).await.unwrap_or_default();
    let parents: Vec<_> = git
        .parents_of(&sha)
        .await
        .into_iter()
        .map(|p| json!({ "sha": p }))
        .collect();
    Json(json!({ "sha": sha, "tree": { "sha": tree }, "parents": parents })).into_response()
}

/// `GET /compare/{base}...{head}`: the status of head relative to base.
async fn compare(
    State(fake): State<Fake>,
    Path((owner, repo, range)): Path<(String, String, String)>,
) -> Response {
    let git = match fake.git_of(&owner, &repo) {
        Ok(g) => g,
        Err(e) => return *e,
    };
    let Some((base, head)) = range.split_once("...") else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let (Some(base), Some(head)) = (git.resolve(base).await, git.resolve(head).await) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let status = match (
        base == head,
        git.is_ancestor(&base, &head).await,
        git.is_ancestor(&head, &base).await,
    ) {
        (true, _, _) => "identical",
        (_, true, _) => "ahead",
        (_, _, true) => "behind",
        _ => "diverged",
    };
    Json(json!({ "status": status, "base_commit": { "sha": base }, "merge_base_commit": {} }))
        .into_response()
}

#[derive(Deserialize)]
struct NewTree {
    base_tree: String,
    tree: Vec<TreeEntry>,
}

#[derive(Deserialize)]
struct TreeEntry {
    path: String,
    #[serde(default)]
    content: Option<String>,
    /// `null` deletes the path.
    #[serde(default = "absent")]
    sha: Value,
}

fn absent() -> Value {
    Value::Bool(false)
}

async fn create_tree(
    State(fake): State<Fake>,
    Path((owner, repo)): RepoPath,
    Json(body): Json<NewTree>,
) -> Response {
    let git = match fake.git_of(&owner, &repo) {
        Ok(g) => g,
        Err(e) => return *e,
    };
    if git.object_type(&body.base_tree).await.as_deref() != Some("tree") {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "base_tree is not a tree");
    }
    let mut entries = Vec::new();
    for e in body.tree {
        match (e.content, e.sha) {
            (Some(text), _) => entries.push((e.path, Some(text))),
            (None, Value::Null) => entries.push((e.path, None)),
            _ => {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "tree entry needs content or sha",
                );
            }
        }
    }
    let sha = git.write_tree(&body.base_tree, &entries).await;
    (StatusCode::CREATED, Json(json!({ "sha": sha }))).into_response()
}

#[derive(Deserialize)]
struct NewCommit {
    message: String,
    tree: String,
    parents: Vec<String>,
}

async fn create_commit(
    State(fake): State<Fake>,
    Path((owner, repo)): RepoPath,
    Json(body): Json<NewCommit>,
) -> Response {
    let git = match fake.git_of(&owner, &repo) {
        Ok(g) => g,
        Err(e) => return *e,
    };
    let parents: Vec<&str> = body.parents.iter().map(String::as_str).collect();
    let sha = git.commit_tree(&body.tree, &parents, &body.message).await;
    if sha.is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Tree or parent does not exist",
        );
    }
    (
        StatusCode::CREATED,
        Json(json!({ "sha": sha, "tree": { "sha": body.tree } })),
    )
        .into_response()
}

async fn get_blob(
    State(fake): State<Fake>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
) -> Response {
    use base64::Engine as _;
    let git = match fake.git_of(&owner, &repo) {
        Ok(g) => g,
        Err(e) => return *e,
    };
    match git.blob_bytes(&sha).await {
        Some(bytes) => Json(json!({
            "sha": sha,
            "encoding": "base64",
            "content": base64::engine::general_purpose::STANDARD.encode(bytes),
        }))
        .into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

#[derive(Deserialize)]
struct RefQuery {
    #[serde(rename = "ref")]
    rev: Option<String>,
}

/// `GET /repos/:owner/:repo/tarball/:ref`: a redirect to the tar.gz of the
/// commit (top directory `<owner>-<repo>-<short sha>`) in blob storage.
async fn tarball(
    State(fake): State<Fake>,
    Path((owner, repo, rev)): Path<(String, String, String)>,
) -> Response {
    let git = match fake.git_of(&owner, &repo) {
        Ok(g) => g,
        Err(e) => return *e,
    };
    let Some(commit) = git.resolve(&rev).await else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let prefix = format!("{owner}-{repo}-{}", &commit[..7]);
    let Some(bytes) = git.tarball(&commit, &prefix).await else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let id = {
        let mut s = fake.state.lock().unwrap();
        s.next_artifact += 1;
        let id = 5000 + s.next_artifact;
        s.blobs.insert(id, bytes);
        id
    };
    let location = format!("http://localhost:{}/_blobs/{id}", fake.addr.port());
    (StatusCode::FOUND, [("location", location)]).into_response()
}

async fn contents(
    State(fake): State<Fake>,
    Path((owner, repo, path)): Path<(String, String, String)>,
    Query(q): Query<RefQuery>,
) -> Response {
    use base64::Engine as _;
    let git = match fake.git_of(&owner, &repo) {
        Ok(g) => g,
        Err(e) => return *e,
    };
    let rev = q.rev.unwrap_or_else(|| "main".into());
    let Some(commit) = git.resolve(&rev).await else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("No commit found for the ref {rev}"),
        );
    };
    let spec = format!("{commit}:{path}");
    match git.object_type(&spec).await.as_deref() {
        Some("blob") => {
            let bytes = git.blob_bytes(&spec).await.unwrap_or_default();
            let sha = git.blob_sha(&spec).await.unwrap_or_default();
            // GitHub wraps base64 at 60 columns.
            let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
            let wrapped: Vec<String> = b64
                .as_bytes()
                .chunks(60)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            Json(json!({
                "type": "file",
                "path": path,
                "sha": sha,
                "encoding": "base64",
                "content": wrapped.join("\n"),
            }))
            .into_response()
        }
        Some("tree") => Json(json!([])).into_response(),
        _ => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}
