//! A run of the fake: waits `pending` for its turn (a person's lock, or an
//! earlier apply run of the workspace still going), then unpacks its
//! configuration version and runs real terraform in the workspace's
//! working directory with the workspace's state: `plan -json -out`
//! (`-target` for each `target-addrs`), `show -json`, the cost estimate
//! and policy check the workspace has, and for a confirmable run waits for
//! `actions/apply` (then `apply` of the saved plan) or `actions/discard`.

use super::{Decision, Fake, Policy, Run};
use std::path::Path;
use std::time::Duration;
use tokio::process::Command;

const STEP: Duration = Duration::from_millis(20);

fn set(fake: &Fake, id: &str, f: impl FnOnce(&mut Run)) {
    let mut s = fake.state.lock().unwrap();
    if let Some(run) = s.run_mut(id) {
        f(run);
    }
}

fn get(fake: &Fake, id: &str) -> Run {
    let s = fake.state.lock().unwrap();
    s.runs.iter().find(|r| r.id == id).unwrap().clone()
}

/// Whether `id` may start, and how many runs wait ahead of it.
fn turn(fake: &Fake, id: &str) -> (bool, u32) {
    let s = fake.state.lock().unwrap();
    let run = s.runs.iter().find(|r| r.id == id).unwrap();
    let person = s.ws(&run.ws).is_some_and(|w| w.locked);
    if run.plan_only {
        return (!person, 0);
    }
    let ahead = s
        .runs
        .iter()
        .take_while(|r| r.id != id)
        .filter(|r| r.ws == run.ws && !r.plan_only && !r.fin)
        .count() as u32;
    (!person && ahead == 0, ahead)
}

pub async fn execute(fake: Fake, id: String) {
    loop {
        let (go, ahead) = turn(&fake, &id);
        set(&fake, &id, |r| r.position = ahead);
        if go {
            break;
        }
        tokio::time::sleep(STEP).await;
    }
    let outcome = run(&fake, &id).await;
    if let Err(e) = outcome {
        eprintln!("fake HCP Terraform: run {id} errored: {e}");
        set(&fake, &id, |r| {
            if r.plan_status == "running" {
                r.plan_status = "errored".into();
                r.plan_log.push_str(&format!("\nError: {e}\n"));
            } else {
                r.apply_status = "errored".into();
                r.apply_log.push_str(&format!("\nError: {e}\n"));
            }
            r.status = "errored".into();
            r.confirmable = false;
        });
    }
    set(&fake, &id, |r| r.fin = true);
}

async fn run(fake: &Fake, id: &str) -> Result<(), String> {
    set(fake, id, |r| r.status = "fetching".into());
    tokio::time::sleep(STEP).await;
    let run = get(fake, id);
    let (archive, ws) = {
        let s = fake.state.lock().unwrap();
        let cv = s.cvs.iter().find(|c| c.id == run.cv).unwrap();
        (cv.archive.clone().unwrap(), s.ws(&run.ws).unwrap().clone())
    };
    let checkout = tempfile::tempdir().map_err(|e| e.to_string())?;
    tar::Archive::new(flate2::read::GzDecoder::new(&archive[..]))
        .unpack(checkout.path())
        .map_err(|e| format!("cannot unpack the configuration: {e}"))?;
    let dir = checkout.path().join(&ws.working_dir);
    set(fake, id, |r| {
        r.status = "planning".into();
        r.plan_status = "running".into();
    });
    let state = fake.state_file(&ws.id);
    std::fs::create_dir_all(state.parent().unwrap()).map_err(|e| e.to_string())?;
    let backend = format!("-backend-config=path={}", state.display());
    let init = tf(&dir, &["init", "-input=false", "-no-color", &backend]).await?;
    set(fake, id, |r| r.plan_log.push_str(&init));
    let mut args: Vec<String> = ["plan", "-input=false", "-no-color", "-json", "-out=tfplan"]
        .map(String::from)
        .to_vec();
    args.push(
        if run.plan_only {
            "-lock=false"
        } else {
            "-lock-timeout=60s"
        }
        .into(),
    );
    args.extend(run.targets.iter().map(|t| format!("-target={t}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let plan = tf(&dir, &args).await?;
    let json = tf(&dir, &["show", "-json", "tfplan"]).await?;
    let changes = serde_json::from_str::<serde_json::Value>(&json)
        .ok()
        .and_then(|v| {
            v["resource_changes"].as_array().map(|a| {
                a.iter()
                    .filter(|c| c["change"]["actions"] != serde_json::json!(["no-op"]))
                    .count()
            })
        })
        .unwrap_or(0);
    set(fake, id, |r| {
        r.plan_log.push_str(&plan);
        r.plan_json = Some(json.into_bytes());
        r.has_changes = changes > 0;
        r.plan_status = "finished".into();
        r.status = "planned".into();
    });
    tokio::time::sleep(STEP).await;
    if ws.cost.is_some() {
        set(fake, id, |r| r.status = "cost_estimating".into());
        tokio::time::sleep(STEP).await;
        set(fake, id, |r| r.status = "cost_estimated".into());
    }
    if let Some(failing) = ws.opa {
        let status = if failing == 0 { "passed" } else { "failed" };
        set(fake, id, |r| {
            r.opa = Some((status.into(), 2 - failing, failing))
        });
    }
    if let Some(policy) = ws.policy {
        set(fake, id, |r| r.status = "policy_checking".into());
        tokio::time::sleep(STEP).await;
        let (status, passed, soft, hard, next) = match policy {
            Policy::Pass => ("passed", 2, 0, 0, "policy_checked"),
            Policy::SoftFail if run.plan_only => ("soft_failed", 1, 1, 0, "policy_soft_failed"),
            Policy::SoftFail => ("soft_failed", 1, 1, 0, "policy_override"),
            Policy::HardFail => ("hard_failed", 1, 0, 1, "errored"),
        };
        set(fake, id, |r| {
            r.policy = Some((status.into(), passed, soft, hard));
            r.status = next.into();
        });
        if next != "policy_checked" && next != "policy_override" {
            return Ok(());
        }
    }
    if run.plan_only || changes == 0 {
        set(fake, id, |r| {
            if r.status != "policy_soft_failed" {
                r.status = "planned_and_finished".into();
            }
        });
        return Ok(());
    }
    set(fake, id, |r| r.confirmable = r.status != "policy_override");
    let decision = loop {
        if let Some(d) = get(fake, id).decision {
            break d;
        }
        tokio::time::sleep(STEP).await;
    };
    if decision == Decision::Discard {
        return Ok(());
    }
    set(fake, id, |r| {
        r.status = "applying".into();
        r.apply_status = "running".into();
    });
    let apply = tf(
        &dir,
        &[
            "apply",
            "-input=false",
            "-no-color",
            "-json",
            "-lock-timeout=60s",
            "tfplan",
        ],
    )
    .await?;
    set(fake, id, |r| {
        r.apply_log.push_str(&apply);
        r.apply_status = "finished".into();
        r.status = "applied".into();
    });
    Ok(())
}

async fn tf(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .await
        .map_err(|e| format!("terraform: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "terraform {}: {}{}",
            args[0],
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
