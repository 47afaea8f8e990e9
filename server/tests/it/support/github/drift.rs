//! The drift workflow's job, as `tfpilot-drift.yml` runs it: check out
//! the default branch as the job starts, `terraform plan
//! -detailed-exitcode -out` on the repo + environment's state, `show
//! -json` when it exits 0 or 2; the artifact holds `exitcode.txt`,
//! `plan.json`, `plan.txt` and `ran_at.txt`. Any other exit fails the run.

use super::Fake;
use super::actions::{Run, tf, zip_of};
use serde_json::Value;
use tokio::process::Command;

/// Whether the job succeeded, and the zip of the files it uploads.
pub async fn job(
    fake: &Fake,
    owner: &str,
    repo: &str,
    run: &Run,
) -> Result<(bool, Vec<u8>), String> {
    let env = run
        .inputs
        .get("environment")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let git = fake.repo(&format!("{owner}/{repo}"));
    let checkout = tempfile::tempdir().map_err(|e| e.to_string())?;
    // `github.event.repository.default_branch`, the fake's `main`.
    let sha = git.resolve("main").await.ok_or("no main branch")?;
    git.export(&sha, checkout.path()).await;
    let dir = checkout.path().join("envs").join(&env);
    let state = fake
        .state_dir()
        .join(owner)
        .join(repo)
        .join(format!("{env}.tfstate"));
    std::fs::create_dir_all(state.parent().unwrap()).map_err(|e| e.to_string())?;
    let backend = format!("-backend-config=path={}", state.display());
    tf(&dir, &["init", "-input=false", "-no-color", &backend]).await?;
    let plan = Command::new("terraform")
        .args([
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            "-lock-timeout=60s",
            "-out=tfplan",
        ])
        .current_dir(&dir)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .await
        .map_err(|e| format!("terraform: {e}"))?;
    let code = plan.status.code().unwrap_or(-1);
    let mut log = plan.stdout;
    log.extend_from_slice(&plan.stderr);
    let mut files = vec![
        ("ran_at.txt", format!("{sha}\n").into_bytes()),
        ("exitcode.txt", format!("{code}\n").into_bytes()),
        ("plan.txt", log),
    ];
    if code != 0 && code != 2 {
        return Ok((false, zip_of(&files)?));
    }
    files.push(("plan.json", tf(&dir, &["show", "-json", "tfplan"]).await?));
    Ok((true, zip_of(&files)?))
}
