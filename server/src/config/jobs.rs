//! The remediation job queue: `TFPILOT_WORKERS` (how many jobs this
//! replica runs at once; 0 runs none) and `TFPILOT_JOBS_MAX_QUEUED` (how
//! many jobs may wait across every replica before the alert receiver
//! answers 503), `TFPILOT_JOBS_LEASE_SECS` (how long a claim lasts
//! without renewal: a dead worker's job is taken over after it) and
//! `TFPILOT_JOBS_WAIT_SECS` (how long a job follows its request through
//! plan and apply before it fails).

use super::ConfigError;

/// The job queue's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobSettings {
    /// Workers of this replica (`TFPILOT_WORKERS`, default 2, 0 to 64).
    pub workers: usize,
    /// Jobs queued or running before alerts are refused
    /// (`TFPILOT_JOBS_MAX_QUEUED`, default 1000, 1 to 1,000,000).
    pub max_queued: usize,
    /// Seconds a claim lasts without renewal, renewed every third of it
    /// (`TFPILOT_JOBS_LEASE_SECS`, default 30, 3 to 3600).
    pub lease_secs: u64,
    /// Seconds a job waits on its request (plans, applies, refusals while
    /// the flow plans again) before it fails (`TFPILOT_JOBS_WAIT_SECS`,
    /// default 3600, 1 to 604800).
    pub wait_secs: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            workers: 2,
            max_queued: 1000,
            lease_secs: 30,
            wait_secs: 3600,
        }
    }
}

pub(super) fn job_settings(
    env: &impl Fn(&str) -> Option<String>,
) -> Result<JobSettings, ConfigError> {
    let number =
        |var: &'static str, default: usize, min: usize, max: usize, what: &str| match env(var)
            .map(|v| v.trim().to_owned())
        {
            None => Ok(default),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ConfigError::Env {
                    var,
                    message: format!("`{v}` is not a number of {what} from {min} to {max}"),
                }),
            },
        };
    Ok(JobSettings {
        workers: number("TFPILOT_WORKERS", 2, 0, 64, "workers")?,
        max_queued: number("TFPILOT_JOBS_MAX_QUEUED", 1000, 1, 1_000_000, "jobs")?,
        lease_secs: number("TFPILOT_JOBS_LEASE_SECS", 30, 3, 3600, "seconds")? as u64,
        wait_secs: number("TFPILOT_JOBS_WAIT_SECS", 3600, 1, 604_800, "seconds")? as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_and_the_queue_bound_read_from_the_environment() {
        let read = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            job_settings(&|k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
        };
        assert_eq!(read(&[]).unwrap(), JobSettings::default());
        let set = read(&[("TFPILOT_WORKERS", "0"), ("TFPILOT_JOBS_MAX_QUEUED", "5")]).unwrap();
        assert_eq!((set.workers, set.max_queued), (0, 5));
        let set = read(&[
            ("TFPILOT_JOBS_LEASE_SECS", "5"),
            ("TFPILOT_JOBS_WAIT_SECS", "60"),
        ])
        .unwrap();
        assert_eq!((set.lease_secs, set.wait_secs), (5, 60));
        for (var, bad) in [
            ("TFPILOT_WORKERS", "65"),
            ("TFPILOT_WORKERS", "two"),
            ("TFPILOT_JOBS_MAX_QUEUED", "0"),
            ("TFPILOT_JOBS_LEASE_SECS", "2"),
            ("TFPILOT_JOBS_WAIT_SECS", "0"),
        ] {
            let err = read(&[(var, bad)]).unwrap_err().to_string();
            assert!(err.contains(var), "{err}");
        }
    }
}
