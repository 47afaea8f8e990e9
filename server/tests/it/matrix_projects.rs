//! The authorization matrix's project dimension, at the HTTP level: every
//! action × global role × project membership × project visibility ×
//! environment and the project's own allow-list, against a table written
//! from the product rules. Members act with their project role (up or
//! down from their global one), non-members of an open project with their
//! global role, non-members of a members-only project find nothing there
//! (404), and global admins are admins everywhere. The fake executor
//! finishes runs at once: what is tested is who may act, not terraform.

use crate::matrix::{Want, expected};
use crate::support::{TestApp, WAIT};
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::exec::fake::{FakeExecutor, Outcome};
use std::collections::HashMap;
use std::sync::Arc;

const ACTIONS: [&str; 6] = ["plan", "approve", "merge", "apply", "update", "destroy"];
const ROLES: [Role; 4] = [Role::Viewer, Role::Requester, Role::Approver, Role::Admin];
/// A membership: none, or a role in the project.
const MEMBERSHIPS: [Option<Role>; 4] = [
    None,
    Some(Role::Viewer),
    Some(Role::Requester),
    Some(Role::Approver),
];
const VISIBILITIES: [&str; 2] = ["open", "members"];
/// dev, and prod with the actor on the project's allow-lists or not.
const PLACES: [(&str, bool); 3] = [("dev", false), ("prod", true), ("prod", false)];

fn name(role: Option<Role>) -> String {
    role.map_or("none".into(), |r| r.as_str().to_owned())
}

/// A login per global role, membership and allow-list place.
fn login(role: Role, member: Option<Role>, listed: bool) -> String {
    format!(
        "{}-{}-{}",
        role.as_str(),
        name(member),
        if listed { "listed" } else { "unlisted" }
    )
}

/// The rule for one case, from the product's words.
fn want(
    action: &str,
    role: Role,
    member: Option<Role>,
    visibility: &str,
    env: &str,
    listed: bool,
) -> Option<Want> {
    if role != Role::Admin && member.is_none() && visibility == "members" {
        return None; // 404: the project is not there for them
    }
    let here = if role == Role::Admin {
        Role::Admin
    } else {
        member.unwrap_or(role)
    };
    Some(expected(action, here, env == "prod", listed, false))
}

struct World {
    app: TestApp,
    tokens: HashMap<String, String>,
    admin: String,
    members: Value,
    listed: Vec<String>,
}

impl World {
    /// A project of its own: the members, visibility and allow-lists of
    /// every case.
    async fn project(&self, key: &str, visibility: &str) {
        let res = self
            .app
            .post_as(
                &self.admin,
                "/api/v1/projects",
                &json!({"key": key, "title": key, "environments": ["dev", "prod"]}),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let res = self
            .app
            .client
            .patch(self.app.url(&format!("/api/v1/projects/{key}")))
            .bearer_auth(&self.admin)
            .json(&json!({
                "visibility": visibility,
                "members": self.members,
                "prod_allowed_users": self.listed,
                "destroy_prod_allowed_users": self.listed,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }

    /// A request of `owner` in `project`/`env`, driven to `state` by the
    /// admin.
    async fn request(&self, project: &str, env: &str, state: &str) -> String {
        let owner = &self.tokens["owner"];
        let body = json!({"project": project, "environment": env, "module": "sqs-queue",
            "config": {"name": format!("pm-{project}")}});
        let res = self.app.post_as(owner, "/api/v1/requests", &body).await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let id = res.json::<Value>().await.unwrap()["request"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.app
            .wait_for_status(owner, &id, "plan_ready", WAIT)
            .await;
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
            let res = self
                .app
                .post_as(
                    &self.admin,
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
            self.app
                .wait_for_status(&self.admin, &id, reached, WAIT)
                .await;
        }
        id
    }

    async fn act(&self, actor: &str, id: &str, action: &str) -> (u16, Value) {
        let token = &self.tokens[actor];
        let res = if action == "update" {
            let view: Value = self
                .app
                .get_as(&self.admin, &format!("/api/v1/requests/{id}"))
                .await
                .json()
                .await
                .unwrap();
            let name = view["request"]["config"]["name"].clone();
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

fn needs(action: &str) -> &'static str {
    match action {
        "plan" | "update" | "approve" => "plan_ready",
        "merge" => "approved",
        "apply" => "merged",
        _ => "applied",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_action_is_decided_with_the_project_role_at_the_api() {
    let exec = Arc::new(FakeExecutor::new().with_auto_complete(|_| Outcome::success()));
    let app = TestApp::builder().executor(exec).spawn().await;
    let mut tokens = HashMap::new();
    let mut members = serde_json::Map::new();
    let mut listed = vec!["helper".to_owned()];
    for role in ROLES {
        for member in MEMBERSHIPS {
            for listed_here in [true, false] {
                let login = login(role, member, listed_here);
                tokens.insert(login.clone(), app.token(&login, role).await);
                if let Some(m) = member {
                    members.insert(login.clone(), json!(m.as_str()));
                }
                if listed_here {
                    listed.push(login);
                }
            }
        }
    }
    tokens.insert("owner".into(), app.token("owner", Role::Requester).await);
    members.insert("owner".into(), json!("requester"));
    let admin = app.token("helper", Role::Admin).await;
    let world = Arc::new(World {
        app,
        tokens,
        admin,
        members: Value::Object(members),
        listed,
    });

    let mut cases = Vec::new();
    for action in ACTIONS {
        for role in ROLES {
            for member in MEMBERSHIPS {
                for visibility in VISIBILITIES {
                    for (env, listed) in PLACES {
                        cases.push((action, role, member, visibility, env, listed));
                    }
                }
            }
        }
    }
    let expected_count =
        ACTIONS.len() * ROLES.len() * MEMBERSHIPS.len() * VISIBILITIES.len() * PLACES.len();
    assert_eq!(cases.len(), expected_count);

    // Refused and hidden cases act on one shared request per visibility
    // and environment (who is decided before the state); each allowed
    // case gets a project of its own, so nothing else moves its main.
    let mut shared = HashMap::new();
    for visibility in VISIBILITIES {
        let key = format!("shared-{visibility}");
        world.project(&key, visibility).await;
        for env in ["dev", "prod"] {
            let id = world.request(&key, env, "plan_ready").await;
            shared.insert((visibility, env), id);
        }
    }

    let gate = Arc::new(tokio::sync::Semaphore::new(6));
    let mut tasks = Vec::new();
    for (n, (action, role, member, visibility, env, listed)) in cases.into_iter().enumerate() {
        let world = world.clone();
        let gate = gate.clone();
        let shared_id = shared[&(visibility, env)].clone();
        tasks.push(tokio::spawn(async move {
            let _slot = gate.acquire().await.unwrap();
            let actor = login(role, member, listed);
            let want = want(action, role, member, visibility, env, listed);
            let id = match want {
                Some(Want::Allowed) => {
                    let key = format!("case-{n}");
                    world.project(&key, visibility).await;
                    world.request(&key, env, needs(action)).await
                }
                _ => shared_id,
            };
            let (status, body) = world.act(&actor, &id, action).await;
            let case = format!(
                "{action} by {actor} (global {}, member {}) in a {visibility} project's {env}",
                role.as_str(),
                name(member)
            );
            match want {
                None => {
                    assert_eq!(status, 404, "{case}: {body}");
                    let read = world
                        .app
                        .get_as(&world.tokens[&actor], &format!("/api/v1/requests/{id}"))
                        .await;
                    assert_eq!(read.status(), 404, "{case}: reading it");
                }
                Some(Want::Refused(rule)) => {
                    assert_eq!(status, 403, "{case}: {body}");
                    assert_eq!(body["error"]["rule"], rule, "{case}: {body}");
                }
                Some(Want::Allowed) => {
                    let ok = if action == "update" { 200 } else { 202 };
                    assert_eq!(status, ok, "{case}: {body}");
                }
            }
            want
        }));
    }
    let (mut run, mut refused, mut hidden) = (0, 0, 0);
    for t in tasks {
        match t.await.unwrap() {
            None => hidden += 1,
            Some(Want::Refused(_)) => refused += 1,
            Some(Want::Allowed) => {}
        }
        run += 1;
    }
    let line = format!(
        "authorization matrix, project dimension: {run} cases run / {expected_count} cases expected ({hidden} hidden (404), {refused} refused, {} allowed)",
        run - refused - hidden
    );
    println!("{line}");
    if let Some(dir) = std::env::var_os("TFPILOT_E2E_ARTIFACTS") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("matrix-projects.txt"), format!("{line}\n")).unwrap();
    }
    assert_eq!(run, expected_count);
}
