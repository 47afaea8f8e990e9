//! The remediation job queue: `TFPILOT_WORKERS` (how many jobs this
//! replica runs at once; 0 runs none) and `TFPILOT_JOBS_MAX_QUEUED` (how
//! many jobs may wait across every replica before the alert receiver
//! answers 503).

use super::ConfigError;

/// The job queue's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobSettings {
    /// Workers of this replica (`TFPILOT_WORKERS`, default 2, 0 to 64).
    pub workers: usize,
    /// Jobs queued or running before alerts are refused
    /// (`TFPILOT_JOBS_MAX_QUEUED`, default 1000, 1 to 1,000,000).
    pub max_queued: usize,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            workers: 2,
            max_queued: 1000,
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
        for (var, bad) in [
            ("TFPILOT_WORKERS", "65"),
            ("TFPILOT_WORKERS", "two"),
            ("TFPILOT_JOBS_MAX_QUEUED", "0"),
        ] {
            let err = read(&[(var, bad)]).unwrap_err().to_string();
            assert!(err.contains(var), "{err}");
        }
    }
}
