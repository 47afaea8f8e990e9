//! Invoking `terraform` for a run: checkout, backend, init, plan, the
//! scope check of a saved plan, apply, with the output streamed into the log.

use super::LocalExecutor;
use crate::config::S3Settings;
use crate::exec::checkouts::Checkout;
use crate::exec::plan::parse_show_json;
use crate::exec::{RunKind, RunSpec};
use app::domain::ids::{EnvName, ProjectKey};
use app::domain::scope::PlannedChange;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use tokio::process::Command;

impl LocalExecutor {
    /// The `-backend-config` of a run, after preparing `env_dir` for it.
    pub(super) async fn backend(
        &self,
        project: &ProjectKey,
        environment: &EnvName,
        env_dir: &Path,
    ) -> Result<String, String> {
        let Some((bucket, s3)) = &self.s3_state else {
            let state = self.state_file(project, environment);
            if let Some(parent) = state.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            return Ok(format!("-backend-config=path={}", state.display()));
        };
        // An override file replaces the checkout's backend block.
        let write = |name: &str, text: String| {
            let path = env_dir.join(name);
            async move {
                tokio::fs::write(&path, text)
                    .await
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))
            }
        };
        write(
            "tfpilot_backend_override.tf",
            "terraform {\n  backend \"s3\" {}\n}\n".into(),
        )
        .await?;
        let lit = app::domain::hcl::encode_str;
        let key = format!("{project}/{environment}/terraform.tfstate");
        let mut conf = format!(
            "bucket = {}\nkey = {}\nregion = {}\nuse_lockfile = true\n",
            lit(bucket),
            lit(&key),
            lit(s3.region.as_deref().unwrap_or("us-east-1")),
        );
        if let Some(endpoint) = &s3.endpoint {
            conf.push_str(&format!(
                "endpoints = {{ s3 = {} }}\nuse_path_style = {}\nskip_credentials_validation = true\nskip_requesting_account_id = true\nskip_metadata_api_check = true\nskip_region_validation = true\n",
                lit(endpoint),
                s3.path_style
            ));
        }
        write("tfpilot.s3.tfbackend", conf).await?;
        Ok("-backend-config=tfpilot.s3.tfbackend".into())
    }

    /// Runs terraform on a fresh checkout, removed afterwards whatever
    /// happened; the error is one line for people.
    pub(super) async fn terraform(&self, spec: &RunSpec) -> Result<Done, String> {
        let run_dir = self.run_dir(&spec.run_id());
        // A fresh directory per execution: a run started again after a crash
        // never shares files with what the dead process left behind.
        let checkout = Checkout::reserve(&run_dir)
            .map_err(|e| format!("cannot prepare a checkout in {}: {e}", run_dir.display()))?;
        let outcome = self.terraform_in(spec, &run_dir, &checkout.dir).await;
        let dir = checkout.dir.clone();
        if let Err(e) = checkout.remove().await {
            tracing::warn!(run = %spec.run_id(), "cannot remove the checkout {}: {e}", dir.display());
        }
        outcome
    }

    pub(super) async fn terraform_in(
        &self,
        spec: &RunSpec,
        run_dir: &Path,
        checkout: &Path,
    ) -> Result<Done, String> {
        tokio::fs::create_dir_all(checkout)
            .await
            .map_err(|e| format!("cannot create {}: {e}", checkout.display()))?;
        // Plans run at their commit; applies and destroys on the default
        // branch's tip.
        let sha = match spec.kind {
            RunKind::Plan => spec.sha.clone(),
            RunKind::Apply | RunKind::Destroy => {
                let branch = self.git.default_branch(&spec.project);
                self.git
                    .branch_head(&spec.project, &branch)
                    .await
                    .map_err(|e| format!("cannot read {branch}: {e}"))?
                    .ok_or_else(|| format!("the infra repo has no {branch} branch"))?
            }
        };
        self.git
            .export(&spec.project, &sha, checkout)
            .await
            .map_err(|e| format!("cannot check out {sha}: {e}"))?;
        let env_dir = checkout.join("envs").join(spec.environment.as_str());
        let backend = self
            .backend(&spec.project, &spec.environment, &env_dir)
            .await?;
        let log = run_dir.join("log.txt");
        if spec.kind != RunKind::Plan {
            append(
                &log,
                &format!("# {} on the tip of main, {sha}\n", spec.kind.as_str()),
            )
            .await;
        }
        self.tf(
            &env_dir,
            &log,
            &["init", "-input=false", "-no-color", &backend],
        )
        .await?;
        let mut plan_args = vec![
            "plan".to_owned(),
            "-input=false".into(),
            "-no-color".into(),
            // A local state is guarded by `turn` (plans only read it, applies
            // hold the environment); a shared S3 state by its lock file.
            if self.s3_state.is_some() || spec.kind != RunKind::Plan {
                "-lock-timeout=120s".into()
            } else {
                "-lock=false".into()
            },
            "-out=tfplan".into(),
        ];
        let scope = spec.scope.as_ref();
        if spec.kind == RunKind::Destroy {
            let target = scope
                .and_then(|s| s.target.as_deref())
                .ok_or("a destroy needs the block it targets")?;
            plan_args.push(format!("-target={target}"));
        }
        let plan_args: Vec<&str> = plan_args.iter().map(String::as_str).collect();
        self.tf(&env_dir, &log, &plan_args).await?;
        let json = self
            .tf_output(&env_dir, &["show", "-json", "tfplan"])
            .await?;
        let (summary, changes) =
            parse_show_json(&json).map_err(|e| format!("cannot read the plan: {e}"))?;
        let plan = serde_json::json!({ "summary": summary, "changes": changes });
        tokio::fs::write(run_dir.join("plan.json"), plan.to_string())
            .await
            .map_err(|e| e.to_string())?;
        if spec.kind == RunKind::Plan {
            return Ok(Done {
                summary: Some(summary),
                ran_at: None,
                blocked: Vec::new(),
            });
        }
        let scope = scope.ok_or("an apply needs its scope")?;
        let planned: Vec<PlannedChange> = changes
            .iter()
            .map(|c| PlannedChange {
                address: c.address.clone(),
                action: c.action.clone(),
            })
            .collect();
        let blocked = app::domain::scope::check(scope, &planned);
        if !blocked.is_empty() {
            append(
                &log,
                &format!(
                    "\n# {}\n# Nothing was applied.\n",
                    app::domain::scope::describe(&blocked)
                ),
            )
            .await;
            return Ok(Done {
                summary: Some(summary),
                ran_at: Some(sha),
                blocked,
            });
        }
        append(
            &log,
            "\n# Every planned change is within the run's scope; applying the saved plan.\n",
        )
        .await;
        crate::crash::point(&format!("run.{}.planned", spec.kind.as_str()));
        self.tf(
            &env_dir,
            &log,
            &[
                "apply",
                "-input=false",
                "-no-color",
                "-lock-timeout=120s",
                "tfplan",
            ],
        )
        .await?;
        Ok(Done {
            summary: Some(summary),
            ran_at: Some(sha),
            blocked: Vec::new(),
        })
    }

    pub(super) async fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.terraform);
        cmd.args(args)
            .current_dir(dir)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if std::env::var_os("TF_CLI_CONFIG_FILE").is_none() {
            cmd.env("TF_CLI_CONFIG_FILE", "/dev/null");
        }
        if let Some((
            _,
            S3Settings {
                credentials: Some((id, secret)),
                ..
            },
        )) = &self.s3_state
        {
            cmd.env("AWS_ACCESS_KEY_ID", id)
                .env("AWS_SECRET_ACCESS_KEY", secret);
        }
        cmd
    }

    /// Runs terraform, streaming its output into `log` as it comes (the
    /// log endpoint shows a run in progress).
    pub(super) async fn tf(&self, dir: &Path, log: &Path, args: &[&str]) -> Result<(), String> {
        use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
        append(log, &format!("$ terraform {}\n", args.join(" "))).await;
        let mut cmd = self.command(dir, args).await;
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                "terraform is not on the PATH of the tfpilot server; install it to run plans"
                    .to_owned()
            }
            _ => format!("cannot run terraform: {e}"),
        })?;
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .await
            .map_err(|e| format!("cannot write {}: {e}", log.display()))?;
        let file = Arc::new(tokio::sync::Mutex::new(file));
        // Copies a pipe into the log chunk by chunk; keeps stderr for the error.
        async fn pump(
            mut pipe: impl AsyncRead + Unpin,
            file: Arc<tokio::sync::Mutex<tokio::fs::File>>,
            keep: bool,
        ) -> Vec<u8> {
            let (mut kept, mut buf) = (Vec::new(), vec![0u8; 8192]);
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let _ = file.lock().await.write_all(&buf[..n]).await;
                if keep {
                    kept.extend_from_slice(&buf[..n]);
                }
            }
            kept
        }
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err("cannot read terraform's output".into());
        };
        let out = tokio::spawn(pump(stdout, file.clone(), false));
        let err = tokio::spawn(pump(stderr, file, true));
        let status = match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => return Err(format!("cannot run terraform: {e}")),
            Err(_) => {
                let _ = child.kill().await;
                let message = format!("terraform {} timed out after {:?}", args[0], self.timeout);
                append(log, &format!("\n{message}\n")).await;
                return Err(message);
            }
        };
        let _ = out.await;
        let stderr = err.await.unwrap_or_default();
        if status.success() {
            Ok(())
        } else {
            let last = String::from_utf8_lossy(&stderr)
                .lines()
                .find(|l| l.contains("Error"))
                .unwrap_or("see the run log")
                .trim()
                .to_owned();
            Err(format!("terraform {} failed: {last}", args[0]))
        }
    }

    pub(super) async fn tf_output(&self, dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
        let out = self.run(dir, args).await?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(format!(
                "terraform {} failed: {}",
                args[0],
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    pub(super) async fn run(
        &self,
        dir: &Path,
        args: &[&str],
    ) -> Result<std::process::Output, String> {
        let mut cmd = self.command(dir, args).await;
        let child = cmd.output();
        match tokio::time::timeout(self.timeout, child).await {
            Err(_) => Err(format!(
                "terraform {} timed out after {:?}",
                args[0], self.timeout
            )),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Err(
                "terraform is not on the PATH of the tfpilot server; install it to run plans"
                    .into(),
            ),
            Ok(Err(e)) => Err(format!("cannot run terraform: {e}")),
            Ok(Ok(out)) => Ok(out),
        }
    }
}

/// What a finished terraform run reports.
pub(super) struct Done {
    pub(super) summary: Option<app::domain::request::PlanSummary>,
    pub(super) ran_at: Option<String>,
    pub(super) blocked: Vec<app::domain::scope::Unexpected>,
}

pub(super) async fn append(log: &Path, text: &str) {
    use tokio::io::AsyncWriteExt;
    if let Some(parent) = log.parent() {
        let _ = tokio::fs::create_dir_all(parent).await;
    }
    if let Ok(mut f) = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .await
    {
        let _ = f.write_all(text.as_bytes()).await;
    }
}
