//! The HCP Terraform executor beyond the contract, against the fake: what
//! it uploads, the API's refusals (401, 404, 429), a busy workspace,
//! blocked applies, cost and policy checks, and the API calls a plan and
//! an apply make.

mod calls;
mod errors;
mod flow;
mod github;
mod runs;

use crate::support::tfc::{Fake, Run};
use std::time::{Duration, Instant};

/// Waits until the fake's only run whose message starts with `name`
/// satisfies `done`; returns it.
pub async fn wait_run(fake: &Fake, name: &str, done: impl Fn(&Run) -> bool) -> Run {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(run) = fake
            .runs()
            .into_iter()
            .find(|r| r.message.starts_with(name) && done(r))
        {
            return run;
        }
        assert!(Instant::now() < deadline, "the run {name} never got there");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
