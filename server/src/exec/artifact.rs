//! What an Actions run leaves in its zip artifact (`tfpilot-<kind>-<request>-<attempt>`):
//! `plan.txt` and `plan.json` (every run), and for applies and destroys
//! `check.json` (the changes outside the scope), `ran_at.txt` (the tip of
//! main the run used) and `apply.txt`. Read once per completed run and kept
//! in a small bounded cache. A drift run's (`tfpilot-drift-<run id>`) holds
//! `exitcode.txt`, `plan.json`, `plan.txt` and `ran_at.txt`.

use super::plan::{PlanOutput, parse_show_json};
use super::{ExecError, RunInfo, Unexpected};
use app::domain::request::Conclusion;
use serde::Deserialize;
use std::collections::VecDeque;
use std::io::Read as _;
use std::sync::{Arc, Mutex};

/// How many runs' artifacts are kept in memory.
pub const CACHED_RUNS: usize = 256;

/// The files of one run's artifact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunArtifact {
    /// `plan.json` and `plan.txt`, when the plan got that far.
    pub plan: Option<PlanOutput>,
    /// `check.json`: the changes the check refused (empty when none, or
    /// when the check did not run).
    pub blocked: Vec<Unexpected>,
    /// `ran_at.txt`: the commit of main the run checked out.
    pub ran_at: Option<String>,
    /// `apply.txt`, when the saved plan was applied.
    pub apply_log: Option<String>,
}

#[derive(Deserialize)]
struct CheckJson {
    #[serde(default)]
    blocked: Vec<Unexpected>,
}

fn unavailable(e: impl std::fmt::Display) -> ExecError {
    ExecError::Unavailable(e.to_string())
}

/// A reader of the files of an artifact zip (`None`: no such file).
fn files(zip: &[u8]) -> Result<impl FnMut(&str) -> Option<Vec<u8>> + '_, ExecError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))
        .map_err(|e| unavailable(format!("the run's artifact is not a zip: {e}")))?;
    Ok(move |name: &str| -> Option<Vec<u8>> {
        let mut file = archive.by_name(name).ok()?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).ok()?;
        Some(bytes)
    })
}

/// What a drift run leaves in its artifact (`tfpilot-drift-<run id>`):
/// `exitcode.txt` of `terraform plan -detailed-exitcode`, `plan.json` (0
/// or 2), `plan.txt` and `ran_at.txt` (the commit planned).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftArtifact {
    /// The plan's exit code: 0 no drift, 2 drift, anything else failed.
    pub exit_code: Option<i32>,
    /// `terraform show -json` of the saved plan.
    pub plan_json: Option<Vec<u8>>,
    /// The plan's output.
    pub log: String,
    /// The commit planned.
    pub ran_at: Option<String>,
}

/// Reads a drift run's artifact zip.
pub fn read_drift(zip: &[u8]) -> Result<DriftArtifact, ExecError> {
    let mut read = files(zip)?;
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).trim().to_owned();
    Ok(DriftArtifact {
        exit_code: read("exitcode.txt").and_then(|b| text(b).parse().ok()),
        plan_json: read("plan.json"),
        log: read("plan.txt")
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default(),
        ran_at: read("ran_at.txt").map(text).filter(|s| !s.is_empty()),
    })
}

/// Reads the artifact zip.
pub fn read(zip: &[u8]) -> Result<RunArtifact, ExecError> {
    let mut read = files(zip)?;
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    let plan_log = read("plan.txt").map(text).unwrap_or_default();
    let plan = match read("plan.json") {
        Some(json) => {
            let (summary, changes) = parse_show_json(&json)
                .map_err(|e| unavailable(format!("plan.json of the artifact: {e}")))?;
            Some(PlanOutput {
                summary,
                changes,
                log: plan_log,
            })
        }
        None => None,
    };
    let blocked = match read("check.json") {
        Some(json) => {
            serde_json::from_slice::<CheckJson>(&json)
                .map_err(|e| unavailable(format!("check.json of the artifact: {e}")))?
                .blocked
        }
        None => Vec::new(),
    };
    let ran_at = read("ran_at.txt")
        .map(text)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let apply_log = read("apply.txt").map(text);
    Ok(RunArtifact {
        plan,
        blocked,
        ran_at,
        apply_log,
    })
}

/// What a completed apply or destroy left in its artifact, added to `info`:
/// the plan's counts, the commit of main it ran at, and a blocked check,
/// which makes the run `Blocked` (GitHub reports it failed).
pub fn report(mut info: RunInfo, artifact: &RunArtifact) -> RunInfo {
    info.summary = artifact.plan.as_ref().map(|p| p.summary);
    info.ran_at = artifact.ran_at.clone();
    if !artifact.blocked.is_empty() && info.conclusion != Some(Conclusion::Success) {
        info.conclusion = Some(Conclusion::Blocked);
        info.error = Some(app::domain::scope::describe(&artifact.blocked));
        info.blocked = artifact.blocked.clone();
    }
    info
}

/// The newest [`CACHED_RUNS`] artifacts read, by key; the oldest is
/// dropped first.
#[derive(Default)]
pub struct Cache {
    entries: Mutex<VecDeque<(String, Arc<RunArtifact>)>>,
}

impl Cache {
    /// The artifact cached under `key`.
    pub fn get(&self, key: &str) -> Option<Arc<RunArtifact>> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, a)| a.clone())
    }

    /// Keeps `artifact` under `key`, dropping the oldest beyond the bound.
    pub fn put(&self, key: String, artifact: Arc<RunArtifact>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|(k, _)| *k != key);
        entries.push_back((key, artifact));
        while entries.len() > CACHED_RUNS {
            entries.pop_front();
        }
    }

    /// How many artifacts are cached.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::{RunKind, RunSpec};
    use app::domain::ids::{EnvName, ProjectKey, RequestId};
    use app::domain::request::RunStatus;
    use std::io::Write as _;

    fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in files {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn reads_a_blocked_run() {
        let zip = zip_of(&[
            ("plan.txt", "Plan: 1 to add"),
            (
                "plan.json",
                r#"{"resource_changes":[{"address":"terraform_data.hand","change":{"actions":["create"]}}]}"#,
            ),
            (
                "check.json",
                r#"{"blocked":[{"address":"terraform_data.hand","action":"create","owner":null}]}"#,
            ),
            ("ran_at.txt", "0123abcd\n"),
        ]);
        let a = read(&zip).unwrap();
        assert_eq!(a.plan.as_ref().unwrap().summary.add, 1);
        assert_eq!(a.plan.unwrap().log, "Plan: 1 to add");
        assert_eq!(a.blocked.len(), 1);
        assert_eq!(a.blocked[0].address, "terraform_data.hand");
        assert_eq!(a.blocked[0].owner, None);
        assert_eq!(a.ran_at.as_deref(), Some("0123abcd"));
        assert_eq!(a.apply_log, None);
    }

    #[test]
    fn a_failed_plan_leaves_only_what_exists() {
        let a = read(&zip_of(&[("ran_at.txt", "abc")])).unwrap();
        assert_eq!(a.plan, None);
        assert!(a.blocked.is_empty());
        assert_eq!(a.ran_at.as_deref(), Some("abc"));
    }

    #[test]
    fn a_blocked_check_makes_a_failed_run_blocked() {
        let s = RunSpec {
            project: ProjectKey::parse("sandbox").unwrap(),
            environment: EnvName::parse("dev").unwrap(),
            request: RequestId::generate(1_700_000_000_000, 7),
            kind: RunKind::Apply,
            sha: "abc".into(),
            attempt: 1,
            scope: None,
        };
        let failed = RunInfo {
            run_id: s.run_id(),
            spec: s.clone(),
            url: None,
            status: RunStatus::Completed,
            conclusion: Some(Conclusion::Failure),
            summary: None,
            error: Some("the workflow ended Failure".into()),
            ran_at: None,
            blocked: vec![],
            checks: vec![],
        };
        let blocked = vec![Unexpected {
            address: "terraform_data.hand".into(),
            action: "create".into(),
            owner: None,
        }];
        let artifact = RunArtifact {
            blocked: blocked.clone(),
            ran_at: Some("f00d".into()),
            ..Default::default()
        };
        let info = report(failed.clone(), &artifact);
        assert_eq!(info.conclusion, Some(Conclusion::Blocked));
        assert_eq!(info.blocked, blocked);
        assert_eq!(info.ran_at.as_deref(), Some("f00d"));
        assert_eq!(
            info.error.as_deref(),
            Some(app::domain::scope::describe(&blocked).as_str())
        );
        // Without a blocked check a failure stays a failure.
        let info = report(failed, &RunArtifact::default());
        assert_eq!(info.conclusion, Some(Conclusion::Failure));
        assert!(info.blocked.is_empty());
    }

    #[test]
    fn reads_a_drift_run() {
        let zip = zip_of(&[
            ("exitcode.txt", "2\n"),
            ("plan.json", r#"{"resource_changes":[]}"#),
            ("plan.txt", "Plan: 0 to add, 1 to change"),
            ("ran_at.txt", "f00d\n"),
        ]);
        let a = read_drift(&zip).unwrap();
        assert_eq!(a.exit_code, Some(2));
        assert_eq!(
            a.plan_json.as_deref(),
            Some(&br#"{"resource_changes":[]}"#[..])
        );
        assert_eq!(a.log, "Plan: 0 to add, 1 to change");
        assert_eq!(a.ran_at.as_deref(), Some("f00d"));
        // A plan that failed leaves what it got to.
        let a = read_drift(&zip_of(&[("exitcode.txt", "1"), ("plan.txt", "Error: x")])).unwrap();
        assert_eq!((a.exit_code, a.plan_json, a.ran_at), (Some(1), None, None));
    }

    #[test]
    fn the_cache_keeps_the_newest() {
        let cache = Cache::default();
        for n in 0..CACHED_RUNS + 10 {
            cache.put(format!("run{n}"), Arc::new(RunArtifact::default()));
        }
        assert_eq!(cache.len(), CACHED_RUNS);
        assert!(cache.get("run0").is_none());
        assert!(cache.get("run9").is_none());
        assert!(cache.get("run10").is_some());
        assert!(cache.get(&format!("run{}", CACHED_RUNS + 9)).is_some());
    }
}
