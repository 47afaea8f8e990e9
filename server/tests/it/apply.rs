//! The apply model with real terraform and real git (embedded mode): an
//! apply runs on the tip of main as a checked saved plan, never rolls main
//! back and never touches what was not approved; plans go stale when main
//! moves.

use crate::flow::{act, status_of};
use crate::support::{TestApp, WAIT, root, wait_until};
use app::domain::ids::ProjectKey;
use app::domain::policy::Role;
use serde_json::{Value, json};
use server::git::local::{LocalGit, MAIN};
use server::git::{FileChange, GitHost};

struct World {
    app: TestApp,
    alice: String,
    bob: String,
    git: LocalGit,
}

impl World {
    async fn new() -> World {
        let app = TestApp::spawn().await;
        let alice = app.token("alice", Role::Requester).await;
        let bob = app.token("bob", Role::Approver).await;
        let git = LocalGit::new(
            app.data.path().join("git"),
            root().join("infra-workflows/template"),
            Some(root().join("infra-workflows/sandbox")),
            app.requests_store(),
        );
        git.ensure_repo(&sandbox()).await.unwrap();
        World {
            app,
            alice,
            bob,
            git,
        }
    }

    async fn file(&self, name: &str) -> String {
        self.app
            .file(&self.alice, "dev", "s3-bucket", json!({ "name": name }))
            .await
    }

    async fn ok(&self, id: &str, action: &str) {
        let res = act(&self.app, &self.bob, id, action).await;
        let status = res.status();
        assert_eq!(status, 202, "{action}: {}", res.text().await.unwrap());
    }

    /// Waits until plan attempt `n` of the request is ready.
    async fn planned(&self, id: &str, n: u64) -> Value {
        wait_until(WAIT, &format!("plan {n} of {id} to be ready"), || async {
            let view = status_of(&self.app, &self.bob, id).await;
            if view["status"] == "plan_ready"
                && view["request"]["runs"]["plan"]["current_attempt"] == n
            {
                return Ok(view);
            }
            Err(format!("{view:#}"))
        })
        .await
    }

    /// Approves the request's current plan and merges it.
    async fn approve_and_merge(&self, id: &str) {
        self.app
            .wait_for_status(&self.bob, id, "plan_ready", WAIT)
            .await;
        self.ok(id, "approve").await;
        self.ok(id, "merge").await;
    }

    fn state(&self) -> String {
        std::fs::read_to_string(self.app.data.path().join("exec/state/sandbox/dev.tfstate"))
            .unwrap_or_default()
    }

    async fn main_file(&self, path: &str) -> String {
        self.git
            .read_file(&sandbox(), MAIN, path)
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// Commits `content` to `path` on main by hand, outside tfpilot.
    async fn commit_on_main(&self, path: &str, content: &str) {
        let tip = self
            .git
            .branch_head(&sandbox(), MAIN)
            .await
            .unwrap()
            .unwrap();
        let change = FileChange {
            path: path.into(),
            content: Some(content.into()),
        };
        self.git
            .commit(&sandbox(), MAIN, &tip, &[change], "by hand")
            .await
            .unwrap();
    }

    async fn log(&self, id: &str, kind: &str) -> String {
        self.app
            .get_as(&self.bob, &format!("/api/v1/requests/{id}/log?kind={kind}"))
            .await
            .text()
            .await
            .unwrap()
    }

    /// Waits until the newest attempt of `kind` has completed; returns it.
    async fn completed(&self, id: &str, kind: &str) -> Value {
        wait_until(WAIT, &format!("{kind} of {id} to complete"), || async {
            let view = status_of(&self.app, &self.bob, id).await;
            let attempts = view["request"]["runs"][kind]["attempts"].clone();
            if let Some(last) = attempts.as_array().and_then(|a| a.last())
                && last["status"] == "completed"
            {
                return Ok(last.clone());
            }
            Err(format!("{view:#}"))
        })
        .await
    }
}

fn sandbox() -> ProjectKey {
    ProjectKey::parse("sandbox").unwrap()
}

fn resource(id: &str) -> String {
    format!("module.s3-bucket_{id}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn applying_after_a_newer_merge_keeps_both_changes() {
    let w = World::new().await;
    let a = w.file("apply-order-a").await;
    let b = w.file("apply-order-b").await;
    // A: plan → approve → merge, not applied.
    w.approve_and_merge(&a).await;
    // Main moved: B's plan was of an older main; it is planned again on the
    // new main (its branch brought up to date) before it can be approved.
    let b_view = w.planned(&b, 2).await;
    let plans = b_view["request"]["runs"]["plan"]["attempts"]
        .as_array()
        .unwrap();
    assert_eq!(
        plans.len(),
        2,
        "B was planned again after A merged: {b_view:#}"
    );
    assert!(
        plans[1]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("main moved"),
        "{b_view:#}"
    );
    w.approve_and_merge(&b).await;
    // B applies the tip of main, which holds A's approved block too.
    w.ok(&b, "apply").await;
    w.app.wait_for_status(&w.bob, &b, "applied", WAIT).await;
    let state = w.state();
    assert!(state.contains(&resource(&a)), "A's resource was added");
    assert!(state.contains(&resource(&b)), "B's resource was added");
    let b_log = w.log(&b, "apply").await;
    assert!(
        b_log.contains("Resources: 2 added, 0 changed, 0 destroyed")
            && !b_log.contains("will be destroyed"),
        "{b_log}"
    );
    // A is marked applied by B's run; applying it again is refused.
    let a_view = w.app.wait_for_status(&w.bob, &a, "applied", WAIT).await;
    let b_run =
        status_of(&w.app, &w.bob, &b).await["request"]["runs"]["apply"]["attempts"][0]["run_id"]
            .clone();
    assert_eq!(
        a_view["request"]["runs"]["apply"]["attempts"][0]["via"],
        b_run
    );
    let again = act(&w.app, &w.bob, &a, "apply").await;
    assert_eq!(again.status(), 409);
    let message = again.json::<Value>().await.unwrap()["error"]["message"].clone();
    assert!(
        message.as_str().unwrap().contains(&format!(
            "already applied by run {}",
            b_run.as_str().unwrap()
        )),
        "{message}"
    );
    // Nothing of B was ever destroyed.
    assert!(w.state().contains(&resource(&b)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_older_merge_applied_later_runs_on_the_tip_of_main() {
    let w = World::new().await;
    let a = w.file("older-merge-a").await;
    let b = w.file("older-merge-b").await;
    w.approve_and_merge(&a).await;
    w.planned(&b, 2).await;
    w.approve_and_merge(&b).await;
    let tip = w.git.branch_head(&sandbox(), MAIN).await.unwrap().unwrap();
    // A's own merge is older than main's tip; its apply uses the tip.
    w.ok(&a, "apply").await;
    w.app.wait_for_status(&w.bob, &a, "applied", WAIT).await;
    let run = w.completed(&a, "apply").await;
    assert_eq!(run["ran_at"], tip.as_str(), "{run:#}");
    assert_ne!(run["head_sha"], tip.as_str(), "A's merge is not the tip");
    let state = w.state();
    assert!(state.contains(&resource(&a)) && state.contains(&resource(&b)));
    let b_view = w.app.wait_for_status(&w.bob, &b, "applied", WAIT).await;
    assert_eq!(
        b_view["request"]["runs"]["apply"]["attempts"][0]["via"], run["run_id"],
        "B was applied by A's run"
    );
    let log = w.log(&a, "apply").await;
    assert!(log.contains(&format!("on the tip of main, {tip}")), "{log}");
    assert!(
        log.contains("-out=tfplan") && log.contains("within the run's scope"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unexpected_destroy_blocks_the_apply_until_the_cause_is_fixed() {
    let w = World::new().await;
    let a = w.file("removed-by-hand").await;
    w.approve_and_merge(&a).await;
    w.ok(&a, "apply").await;
    w.app.wait_for_status(&w.bob, &a, "applied", WAIT).await;
    // Someone removes A's block from main by hand.
    let path = "envs/dev/tfpilot.s3.tf";
    let with_a = w.main_file(path).await;
    let without = app::domain::blocks::remove(&with_a, &a).expect("A's block is on main");
    w.commit_on_main(path, &without).await;
    let before = w.state();

    let c = w.file("blocked-by-hand").await;
    w.approve_and_merge(&c).await;
    w.ok(&c, "apply").await;
    let run = w.completed(&c, "apply").await;
    assert_eq!(run["conclusion"], "blocked", "{run:#}");
    assert_eq!(
        run["blocked"][0]["address"],
        format!("{}.terraform_data.this", resource(&a))
    );
    assert_eq!(run["blocked"][0]["action"], "delete");
    assert_eq!(run["blocked"][0]["owner"], a.as_str());
    assert_eq!(w.state(), before, "nothing was applied");
    let view = status_of(&w.app, &w.bob, &c).await;
    assert_eq!(view["status"], "failed");
    let events = view["request"]["events"].to_string();
    assert!(
        events.contains("blocked before anything was applied") && events.contains(&a),
        "{events}"
    );

    // Confirming anything but exactly the listed changes is refused.
    let wrong = w
        .app
        .post_as(
            &w.bob,
            &format!("/api/v1/requests/{c}/confirm"),
            &json!({"addresses": ["x.y"]}),
        )
        .await;
    assert_eq!(wrong.status(), 409);
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["error"]["rule"],
        "confirm.mismatch"
    );
    let requester = w
        .app
        .post_as(
            &w.alice,
            &format!("/api/v1/requests/{c}/confirm"),
            &json!({"addresses": ["x.y"]}),
        )
        .await;
    assert_eq!(requester.status(), 403, "only approvers confirm");

    // The block is put back on main; a retry then goes through.
    w.commit_on_main(path, &with_a_plus(&w, path, &with_a, &a).await)
        .await;
    w.ok(&c, "retry").await;
    w.app.wait_for_status(&w.bob, &c, "applied", WAIT).await;
    let state = w.state();
    assert!(
        state.contains(&resource(&a)),
        "A's resource was never destroyed"
    );
    assert!(state.contains(&resource(&c)));
}

/// Main's file now, with A's block (as it was in `with_a`) put back.
async fn with_a_plus(w: &World, path: &str, with_a: &str, a: &str) -> String {
    let now = w.main_file(path).await;
    let span = app::domain::blocks::scan(with_a)
        .unwrap()
        .into_iter()
        .find(|b| b.id == a)
        .expect("A's block");
    format!("{now}{}", &with_a[span.start..span.end])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_confirmed_change_outside_tfpilot_is_applied_once_confirmed() {
    let w = World::new().await;
    let hand = "resource \"terraform_data\" \"hand_written\" {\n  input = \"by hand\"\n}\n";
    w.commit_on_main("envs/dev/hand.tf", hand).await;
    let a = w.file("confirm-me").await;
    w.approve_and_merge(&a).await;
    w.ok(&a, "apply").await;
    let run = w.completed(&a, "apply").await;
    assert_eq!(run["conclusion"], "blocked", "{run:#}");
    assert_eq!(run["blocked"][0]["address"], "terraform_data.hand_written");
    assert_eq!(run["blocked"][0]["owner"], Value::Null);
    assert!(!w.state().contains("hand_written"));
    let view = status_of(&w.app, &w.bob, &a).await;
    let allowed: Vec<&str> = view["allowed_actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["decision"] == "allowed")
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(
        allowed.contains(&"confirm") && allowed.contains(&"retry"),
        "{allowed:?}"
    );
    // A requester may not confirm; the refusal is audited.
    let denied = w
        .app
        .post_as(
            &w.alice,
            &format!("/api/v1/requests/{a}/confirm"),
            &json!({"addresses": ["terraform_data.hand_written"]}),
        )
        .await;
    assert_eq!(denied.status(), 403);
    // Through the API, only the exact list is accepted.
    let wrong = w
        .app
        .post_as(
            &w.bob,
            &format!("/api/v1/requests/{a}/confirm"),
            &json!({"addresses": ["terraform_data.other"]}),
        )
        .await;
    assert_eq!(wrong.status(), 409);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"]["rule"], "confirm.mismatch", "{body:#}");
    // The request page offers it with the addresses it shows …
    let carol = w.app.signed_in("carol", Role::Approver).await;
    let (_, html) = w.app.page_as(&carol, &format!("/requests/{a}")).await;
    assert!(html.contains("data-action=\"confirm\""), "{html}");
    let note = "blocked: 1 change outside what was approved";
    assert!(html.contains(note), "the request page says why");
    let (_, dashboard) = w.app.page_as(&carol, "/requests").await;
    assert!(dashboard.contains(note), "and so does its dashboard row");
    assert!(
        html.contains("name=\"addresses\" value=\"create terraform_data.hand_written\""),
        "the form carries the listed changes"
    );
    // … and its server function refuses a list that is not the run's …
    let sfn = w
        .app
        .client
        .post(w.app.url("/sfn/act"))
        .header("cookie", &carol)
        .header("origin", w.app.url(""))
        .header("accept", "application/json")
        .json(&json!({"id": a, "action": "confirm", "addresses": ["terraform_data.x"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(sfn.status(), 409, "{}", sfn.text().await.unwrap());
    // … and so does its form for the same address with another action …
    let other = w
        .app
        .client
        .post(w.app.url(&format!("/requests/{a}/act")))
        .header("cookie", &carol)
        .header("origin", w.app.url(""))
        .form(&[
            ("action", "confirm"),
            ("addresses", "delete terraform_data.hand_written"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 303);
    assert!(
        other.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error="),
        "another action is not what was shown"
    );
    // … while the page's form, posted without JavaScript, confirms it.
    let posted = w
        .app
        .client
        .post(w.app.url(&format!("/requests/{a}/act")))
        .header("cookie", &carol)
        .header("origin", w.app.url(""))
        .form(&[
            ("action", "confirm"),
            ("addresses", "create terraform_data.hand_written"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 303);
    assert_eq!(
        posted.headers()["location"],
        format!("/requests/{a}").as_str()
    );
    let done = w.app.wait_for_status(&w.bob, &a, "applied", WAIT).await;
    assert_eq!(done["request"]["confirmation"]["by"], "carol");
    assert!(w.state().contains("hand_written") && w.state().contains(&resource(&a)));
    let audit: Value = w
        .app
        .get_as(&w.bob, &format!("/api/v1/audit?request={a}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(audit.to_string().contains("request.confirm"), "{audit:#}");
    assert!(
        audit.to_string().contains("confirm refused by"),
        "the refused confirm is audited: {audit:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stale_plan_cannot_be_approved_until_it_is_planned_again() {
    let w = World::new().await;
    let a = w.file("stale-plan").await;
    w.app.wait_for_status(&w.bob, &a, "plan_ready", WAIT).await;
    // Main moves outside tfpilot: A's plan no longer shows what apply will do.
    w.commit_on_main("README.md", "moved by hand\n").await;
    let refused = act(&w.app, &w.bob, &a, "approve").await;
    assert_eq!(refused.status(), 409);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["rule"], "approval.stale", "{body:#}");
    // tfpilot brings the branch up to date and plans it again.
    let view = w.planned(&a, 2).await;
    let tip = w.git.branch_head(&sandbox(), MAIN).await.unwrap().unwrap();
    assert_eq!(view["request"]["pr"]["base_sha"], tip.as_str());
    assert_eq!(
        view["request"]["runs"]["plan"]["attempts"][1]["base_sha"],
        tip.as_str()
    );
    w.ok(&a, "approve").await;
    let approved = status_of(&w.app, &w.bob, &a).await;
    assert_eq!(approved["request"]["approval"]["plan_attempt"], 2);
    assert_eq!(approved["request"]["approval"]["base_sha"], tip.as_str());
    // The approval of a plan goes with a re-plan, and the timeline says so.
    w.ok(&a, "plan").await;
    let view = status_of(&w.app, &w.bob, &a).await;
    assert!(view["request"]["approval"].is_null());
    assert!(
        view["request"]["events"]
            .to_string()
            .contains("approval_voided")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pr_merged_outside_tfpilot_needs_a_fresh_approval() {
    let w = World::new().await;
    let a = w.file("merged-outside").await;
    let ready = w.app.wait_for_status(&w.bob, &a, "plan_ready", WAIT).await;
    let pr = ready["request"]["pr"]["number"].as_u64().unwrap();
    let head = ready["request"]["pr"]["head_sha"]
        .as_str()
        .unwrap()
        .to_owned();
    // Someone merges the unapproved PR on the host.
    w.git.merge_pr(&sandbox(), pr, &head).await.unwrap();
    // The reconciler notices the merge.
    let view = w.app.wait_for_status(&w.bob, &a, "merged", WAIT).await;
    assert!(view["request"]["approval"].is_null());
    let apply = act(&w.app, &w.bob, &a, "apply").await;
    assert_eq!(apply.status(), 409);
    assert_eq!(
        apply.json::<Value>().await.unwrap()["error"]["rule"],
        "approval.missing"
    );
    // A plan of the merged change on main's tip, an approval, then the apply.
    w.ok(&a, "plan").await;
    let plan = w.completed(&a, "plan").await;
    assert_eq!(plan["conclusion"], "success", "{plan:#}");
    w.ok(&a, "approve").await;
    w.ok(&a, "apply").await;
    w.app.wait_for_status(&w.bob, &a, "applied", WAIT).await;
    assert!(w.state().contains(&resource(&a)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approved_pr_merged_outside_onto_a_newer_main_is_stale_at_apply() {
    let w = World::new().await;
    let a = w.file("merged-onto-newer").await;
    w.app.wait_for_status(&w.bob, &a, "plan_ready", WAIT).await;
    w.ok(&a, "approve").await;
    let approved = status_of(&w.app, &w.bob, &a).await;
    let pr = approved["request"]["pr"]["number"].as_u64().unwrap();
    let head = approved["request"]["pr"]["head_sha"]
        .as_str()
        .unwrap()
        .to_owned();
    // Main moves, and someone merges the approved PR on the host right away:
    // the merge ships a main that the approved plan never saw.
    w.commit_on_main("envs/dev/moved.tf", "# moved by hand\n")
        .await;
    let onto = w.git.branch_head(&sandbox(), MAIN).await.unwrap().unwrap();
    w.git.merge_pr(&sandbox(), pr, &head).await.unwrap();
    let view = w.app.wait_for_status(&w.bob, &a, "merged", WAIT).await;
    assert!(view["request"]["approval"].is_null(), "{view:#}");
    assert_eq!(view["request"]["pr"]["main_sha"], onto.as_str());
    assert!(
        view["request"]["events"]
            .to_string()
            .contains("which its plan did not include"),
        "the timeline says why the approval went"
    );
    let apply = act(&w.app, &w.bob, &a, "apply").await;
    assert_eq!(apply.status(), 409);
    let body: Value = apply.json().await.unwrap();
    assert_eq!(body["error"]["rule"], "approval.stale", "{body:#}");
    // A plan of the merged change on the tip, a fresh approval, the apply.
    w.ok(&a, "plan").await;
    let plan = w.completed(&a, "plan").await;
    assert_eq!(plan["conclusion"], "success", "{plan:#}");
    w.ok(&a, "approve").await;
    w.ok(&a, "apply").await;
    w.app.wait_for_status(&w.bob, &a, "applied", WAIT).await;
    assert!(w.state().contains(&resource(&a)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_commit_or_a_new_revision_voids_the_approval() {
    let w = World::new().await;
    let a = w.file("voided").await;
    let ready = w.app.wait_for_status(&w.bob, &a, "plan_ready", WAIT).await;
    w.ok(&a, "approve").await;
    // A commit pushed to the PR's branch by hand.
    let branch = ready["request"]["pr"]["branch"]
        .as_str()
        .unwrap()
        .to_owned();
    let head = ready["request"]["pr"]["head_sha"]
        .as_str()
        .unwrap()
        .to_owned();
    let change = FileChange {
        path: "envs/dev/extra.tf".into(),
        content: Some("# pushed by hand\n".into()),
    };
    w.git
        .commit(&sandbox(), &branch, &head, &[change], "by hand")
        .await
        .unwrap();
    let view = wait_until(WAIT, "the approval to end with a new commit", || async {
        let view = status_of(&w.app, &w.bob, &a).await;
        if view["request"]["approval"].is_null() {
            return Ok(view);
        }
        Err("the approval outlived a new commit".to_owned())
    })
    .await;
    assert!(
        view["request"]["events"]
            .to_string()
            .contains("the PR has a new commit"),
        "{view:#}"
    );
    assert_ne!(view["status"], "approved");
    // The new head is planned; approved again; then a new revision.
    wait_until(WAIT, "the new head to be approvable", || async {
        if status_of(&w.app, &w.bob, &a).await["status"] == "plan_ready"
            && act(&w.app, &w.bob, &a, "approve").await.status() == 202
        {
            return Ok(());
        }
        Err("never approvable again".to_owned())
    })
    .await;
    let res = w
        .app
        .client
        .patch(w.app.url(&format!("/api/v1/requests/{a}")))
        .bearer_auth(&w.alice)
        .json(&json!({"config": {"name": "voided", "versioning": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let view = status_of(&w.app, &w.bob, &a).await;
    assert!(view["request"]["approval"].is_null(), "{view:#}");
    assert!(
        view["request"]["events"]
            .to_string()
            .contains("a new revision replaces the approved one")
    );
}
