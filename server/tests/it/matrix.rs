//! The authorization matrix at the HTTP level: every action × role ×
//! environment × allow-list membership × own request, through the REST
//! API, against a table written from the product rules (not from the
//! policy code). A refused case must be a 403 naming the expected rule; an
//! allowed case must go through (202, or 200 for an update) on a real
//! request in a state where the action makes sense.

use crate::support::TestApp;
use app::domain::ids::RequestId;
use app::domain::policy::Role;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const ACTIONS: [&str; 6] = ["plan", "approve", "merge", "apply", "update", "destroy"];
const ROLES: [Role; 4] = [Role::Viewer, Role::Requester, Role::Approver, Role::Admin];
const ENVS: [&str; 2] = ["dev", "prod"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    Allowed,
    Refused(&'static str),
}

/// The rules, as the product states them.
pub(crate) fn expected(action: &str, role: Role, prod: bool, listed: bool, own: bool) -> Want {
    use Want::*;
    if role == Role::Viewer {
        return Refused("role.viewer");
    }
    match action {
        // Editing: requesters only their own requests.
        "plan" | "update" if role == Role::Requester && !own => Refused("role.requester_own"),
        "plan" | "update" => Allowed,
        // Shipping: approvers and admins; prod needs the allow-list; nobody
        // approves their own prod request.
        "approve" | "merge" | "apply" if role < Role::Approver => Refused("role.approver"),
        "approve" | "merge" | "apply" if prod && !listed => Refused("prod.allow_list"),
        "approve" if prod && own => Refused("prod.four_eyes"),
        "approve" | "merge" | "apply" => Allowed,
        // Destroying: requesters their own; prod needs the destroy allow-list.
        "destroy" if role == Role::Requester && !own => Refused("role.requester_own"),
        "destroy" if prod && !listed => Refused("prod.destroy_allow_list"),
        "destroy" => Allowed,
        _ => unreachable!("{action}"),
    }
}

fn login(role: Role, listed: bool) -> String {
    format!(
        "{}-{}",
        format!("{role:?}").to_lowercase(),
        if listed { "listed" } else { "unlisted" }
    )
}

/// What state an allowed action needs its request in.
fn needs(action: &str) -> &'static str {
    match action {
        "plan" | "update" | "approve" => "plan_ready",
        "merge" => "approved",
        "apply" => "merged",
        _ => "applied",
    }
}

struct World {
    app: TestApp,
    tokens: std::collections::HashMap<String, String>,
    helper: String,
}

impl World {
    async fn view(&self, id: &str) -> Value {
        self.app
            .get_as(&self.helper, &format!("/api/v1/requests/{id}"))
            .await
            .json()
            .await
            .unwrap()
    }

    async fn wait(&self, id: &str, want: &str) {
        self.app
            .wait_for_status(&self.helper, id, want, Duration::from_secs(300))
            .await;
    }

    async fn helper_does(&self, id: &str, action: &str, then: &str) {
        let res = self
            .app
            .post_as(
                &self.helper,
                &format!("/api/v1/requests/{id}/{action}"),
                &json!({}),
            )
            .await;
        assert_eq!(
            res.status(),
            202,
            "setup {action}: {}",
            res.text().await.unwrap()
        );
        self.wait(id, then).await;
    }

    /// A request of `owner` in `project`/`env`, driven to `state`. Each
    /// allowed case has a project of its own: nothing else moves its main
    /// (which would make its plan stale) or sweeps it into another apply.
    async fn request(&self, owner: &str, project: &str, env: &str, state: &str) -> String {
        let body = json!({"project": project, "environment": env, "module": "sqs-queue",
            "config": {"name": format!("matrix-{project}")}});
        let res = self
            .app
            .post_as(&self.tokens[owner], "/api/v1/requests", &body)
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let id = res.json::<Value>().await.unwrap()["request"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.wait(&id, "plan_ready").await;
        let steps: &[(&str, &str)] = match state {
            "plan_ready" => &[],
            "approved" => &[("approve", "approved")],
            "merged" => &[("approve", "approved"), ("merge", "merged")],
            _ => &[
                ("approve", "approved"),
                ("merge", "merged"),
                ("apply", "applied"),
            ],
        };
        for (action, reached) in steps {
            self.helper_does(&id, action, reached).await;
        }
        id
    }

    /// Performs `action` as `actor`.
    async fn act(&self, actor: &str, id: &str, action: &str) -> (u16, Value) {
        let token = &self.tokens[actor];
        let name = self.view(id).await["request"]["config"]["name"].clone();
        let res = if action == "update" {
            self.app
                .client
                .patch(self.app.url(&format!("/api/v1/requests/{id}")))
                .bearer_auth(token)
                .json(&json!({"config": {"name": name, "visibility_timeout_seconds": 60}}))
                .send()
                .await
                .unwrap()
        } else {
            self.app
                .post_as(
                    token,
                    &format!("/api/v1/requests/{id}/{action}"),
                    &json!({}),
                )
                .await
        };
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or_default())
    }
}

/// A copy of `id`'s document filed under a new id by `owner` (viewers
/// cannot file requests, but the matrix needs "their own").
async fn clone_for(app: &TestApp, id: &str, owner: &str, n: u32) -> String {
    let repo = server::store::repo::RequestRepo::new(app.requests_store());
    let mut doc = repo.get(&RequestId::parse(id).unwrap()).await.unwrap().doc;
    doc.id = RequestId::generate(1_800_000_000_000 + u64::from(n), n);
    doc.created_by = owner.to_owned();
    // Its PR is the original's; closed here, so the step driver leaves the
    // copy alone (refusals are decided before the state).
    if let Some(pr) = doc.pr.as_mut() {
        pr.state = app::domain::request::PrState::Closed;
    }
    repo.create(&doc).await.unwrap();
    doc.id.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_action_role_environment_and_allow_list_is_decided_at_the_api() {
    let mut cases = Vec::new();
    for action in ACTIONS {
        for role in ROLES {
            for env in ENVS {
                for on_list in [true, false] {
                    for own in [true, false] {
                        cases.push((action, role, env, on_list, own));
                    }
                }
            }
        }
    }
    let expected_count = ACTIONS.len() * ROLES.len() * ENVS.len() * 2 * 2;
    assert_eq!(cases.len(), expected_count);

    // One project for the shared requests, and one per allowed case.
    let data = tempfile::tempdir().unwrap();
    let mut projects = String::from("[projects.sandbox]\nenvironments = [\"dev\", \"prod\"]\n");
    for (n, &(action, role, env, on_list, own)) in cases.iter().enumerate() {
        if expected(action, role, env == "prod", on_list, own) == Want::Allowed {
            projects.push_str(&format!(
                "[projects.case-{n}]\nenvironments = [\"dev\", \"prod\"]\n"
            ));
        }
    }
    let config = data.path().join("tfpilot.toml");
    std::fs::write(&config, projects).unwrap();
    let listed: Vec<String> = ROLES.iter().map(|r| login(*r, true)).collect();
    let lists = format!("{},helper", listed.join(","));
    let app = TestApp::spawn_with(
        data,
        &[
            ("TFPILOT_CONFIG", config.to_str().unwrap()),
            ("TFPILOT_PROD_ALLOWED_USERS", &lists),
            ("TFPILOT_DESTROY_PROD_ALLOWED_USERS", &lists),
        ],
    )
    .await;
    let mut tokens = std::collections::HashMap::new();
    for role in ROLES {
        for on_list in [true, false] {
            let name = login(role, on_list);
            tokens.insert(name.clone(), app.token(&name, role).await);
        }
    }
    tokens.insert("owner".into(), app.token("owner", Role::Requester).await);
    let helper = app.token("helper", Role::Approver).await;
    let world = Arc::new(World {
        app,
        tokens,
        helper,
    });

    // Refused cases act on one shared request per environment and owner:
    // authorization is decided before the state.
    let mut shared = std::collections::HashMap::new();
    for env in ENVS {
        let base = world.request("owner", "sandbox", env, "plan_ready").await;
        let mut n = 0;
        for role in ROLES {
            for on_list in [true, false] {
                n += 1;
                let owner = login(role, on_list);
                shared.insert(
                    (env, owner.clone()),
                    clone_for(
                        &world.app,
                        &base,
                        &owner,
                        n + if env == "prod" { 100 } else { 0 },
                    )
                    .await,
                );
            }
        }
        shared.insert((env, "owner".into()), base);
    }

    let gate = Arc::new(tokio::sync::Semaphore::new(6));
    let mut tasks = Vec::new();
    for (n, (action, role, env, on_list, own)) in cases.into_iter().enumerate() {
        let world = world.clone();
        let gate = gate.clone();
        let shared_id = shared[&(
            env,
            if own {
                login(role, on_list)
            } else {
                "owner".into()
            },
        )]
            .clone();
        tasks.push(tokio::spawn(async move {
            let _slot = gate.acquire().await.unwrap();
            let actor = login(role, on_list);
            let want = expected(action, role, env == "prod", on_list, own);
            let id = match want {
                Want::Refused(_) => shared_id,
                Want::Allowed => {
                    let owner = if own {
                        actor.clone()
                    } else {
                        "owner".to_owned()
                    };
                    world
                        .request(&owner, &format!("case-{n}"), env, needs(action))
                        .await
                }
            };
            let (status, body) = world.act(&actor, &id, action).await;
            let case = format!("{action} by {actor} ({role:?}) in {env}, own={own}");
            match want {
                Want::Refused(rule) => {
                    assert_eq!(status, 403, "{case}: {body}");
                    assert_eq!(body["error"]["rule"], rule, "{case}: {body}");
                    // Main moves under the shared requests (other cases
                    // merge), so their version does; the refused actor
                    // left no trace in them.
                    let doc = &world.view(&id).await["request"];
                    let traces = doc["events"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|e| e["actor"] == actor.as_str())
                        .count();
                    assert_eq!(traces, 0, "{case}: a refusal changes nothing: {doc:#}");
                    assert_ne!(doc["approval"]["by"], actor.as_str(), "{case}");
                }
                Want::Allowed => {
                    let ok = if action == "update" { 200 } else { 202 };
                    assert_eq!(status, ok, "{case}: {body}");
                }
            }
            want
        }));
    }
    let mut run = 0;
    let mut refused = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), Want::Refused(_)) {
            refused += 1;
        }
        run += 1;
    }
    let line = format!(
        "authorization matrix: {run} cases run / {expected_count} cases expected ({refused} refused, {} allowed)",
        run - refused
    );
    println!("{line}");
    // `cargo xtask test` prints it at the end of the run.
    if let Some(dir) = std::env::var_os("TFPILOT_E2E_ARTIFACTS") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("matrix.txt"), format!("{line}\n")).unwrap();
    }
    assert_eq!(run, expected_count);
}

/// Four-eyes over every revision: an approver or admin who changed a
/// request's config (a revision of their own) may not approve it in
/// production, on or off the allow-list; in dev they may.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whoever_authored_a_revision_may_not_approve_it_in_production() {
    let mut cases = Vec::new();
    for role in [Role::Approver, Role::Admin] {
        for env in ENVS {
            for on_list in [true, false] {
                cases.push((role, env, on_list));
            }
        }
    }
    let data = tempfile::tempdir().unwrap();
    let mut projects = String::new();
    for n in 0..cases.len() {
        projects.push_str(&format!(
            "[projects.authored-{n}]\nenvironments = [\"dev\", \"prod\"]\n"
        ));
    }
    let config = data.path().join("tfpilot.toml");
    std::fs::write(&config, projects).unwrap();
    let listed: Vec<String> = ROLES.iter().map(|r| login(*r, true)).collect();
    let lists = format!("{},helper", listed.join(","));
    let app = TestApp::spawn_with(
        data,
        &[
            ("TFPILOT_CONFIG", config.to_str().unwrap()),
            ("TFPILOT_PROD_ALLOWED_USERS", &lists),
        ],
    )
    .await;
    let mut tokens = std::collections::HashMap::new();
    for &(role, _, on_list) in &cases {
        let name = login(role, on_list);
        if !tokens.contains_key(&name) {
            tokens.insert(name.clone(), app.token(&name, role).await);
        }
    }
    tokens.insert("owner".into(), app.token("owner", Role::Requester).await);
    let helper = app.token("helper", Role::Approver).await;
    let world = Arc::new(World {
        app,
        tokens,
        helper,
    });
    let mut tasks = Vec::new();
    for (n, (role, env, on_list)) in cases.into_iter().enumerate() {
        let world = world.clone();
        tasks.push(tokio::spawn(async move {
            let actor = login(role, on_list);
            let case = format!("approve after an update by {actor} in {env}");
            let id = world
                .request("owner", &format!("authored-{n}"), env, "plan_ready")
                .await;
            let (status, body) = world.act(&actor, &id, "update").await;
            assert_eq!(status, 200, "{case}: the update: {body}");
            world.wait(&id, "plan_ready").await;
            let (status, body) = world.act(&actor, &id, "approve").await;
            let want = match (env, on_list) {
                ("prod", false) => Some("prod.allow_list"),
                ("prod", true) => Some("prod.four_eyes"),
                _ => None,
            };
            match want {
                Some(rule) => {
                    assert_eq!(status, 403, "{case}: {body}");
                    assert_eq!(body["error"]["rule"], rule, "{case}: {body}");
                }
                None => assert_eq!(status, 202, "{case}: {body}"),
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}
