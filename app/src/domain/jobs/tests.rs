//! Table tests of claims, renewals and hand-overs.

use super::*;

fn job(status: JobStatus, lease: Option<(&str, u64)>, attempts: u32) -> Job {
    Job {
        id: "01hzzzzzzzzzzzzz".into(),
        status,
        alert: JobAlert::default(),
        policy: Some("p".into()),
        action: None,
        request: None,
        attempts,
        lease: lease.map(|(holder, expires_at)| JobLease {
            holder: holder.into(),
            expires_at,
        }),
        steps: JobSteps::default(),
        result: None,
        created_at: "t0".into(),
        updated_at: "t0".into(),
        finished_at: None,
    }
}

/// Status, lease (holder, expiry), attempts, and what a claim at 500 gives.
type Case = (JobStatus, Option<(&'static str, u64)>, u32, &'static str);

#[test]
fn a_job_is_claimed_when_queued_or_its_lease_ran_out() {
    use JobStatus::*;
    #[rustfmt::skip]
    let table: &[Case] = &[
        (Queued, None, 0, "taken"),
        (Running, Some(("a/0", 1_000)), 1, "busy"),
        (Running, Some(("a/0", 500)), 1, "taken"),   // expired exactly now
        (Running, Some(("a/0", 499)), 1, "taken"),
        (Running, None, 1, "taken"),
        (Running, Some(("a/0", 400)), MAX_ATTEMPTS, "given up"),
        (Succeeded, None, 1, "busy"),
        (Failed, None, 1, "busy"),
        (WaitingApproval, None, 1, "busy"),
        (Skipped, None, 0, "busy"),
    ];
    for (status, lease, attempts, want) in table {
        let j = job(*status, *lease, *attempts);
        let got = match claim(&j, "b/1", 500, 30_000, "t1") {
            Claim::Taken(next) => {
                assert_eq!(next.status, Running);
                assert_eq!(next.attempts, attempts + 1);
                assert!(next.held_by("b/1", 500) && !next.held_by("a/0", 500));
                assert_eq!(next.lease.unwrap().expires_at, 30_500);
                "taken"
            }
            Claim::GivenUp(next) => {
                assert_eq!(next.status, Failed);
                assert!(next.result.unwrap().contains("given up after 5 attempts"));
                assert!(next.lease.is_none());
                "given up"
            }
            Claim::Busy => "busy",
        };
        assert_eq!(got, *want, "{status:?} {lease:?} {attempts}");
    }
}

#[test]
fn only_the_holder_renews_and_only_while_it_holds() {
    let j = job(JobStatus::Running, Some(("a/0", 1_000)), 1);
    let renewed = renew(&j, "a/0", 900, 30_000).unwrap();
    assert_eq!(renewed.lease.unwrap().expires_at, 30_900);
    assert!(renew(&j, "b/1", 900, 30_000).is_none(), "not the holder");
    assert!(
        renew(&j, "a/0", 1_000, 30_000).is_none(),
        "expired: someone may have it"
    );
    let done = finish(&j, JobStatus::Succeeded, "applied", "t2");
    assert!(done.lease.is_none() && done.finished_at.as_deref() == Some("t2"));
    assert!(renew(&done, "a/0", 900, 30_000).is_none());
}

#[test]
fn statuses_round_trip_by_name() {
    for s in JobStatus::ALL {
        assert_eq!(JobStatus::parse(s.as_str()), Some(s));
        assert_eq!(
            serde_json::to_value(s).unwrap(),
            serde_json::json!(s.as_str())
        );
    }
    assert_eq!(JobStatus::Skipped.words(), "no policy matched");
    assert!(JobStatus::Queued.is_open() && !JobStatus::WaitingApproval.is_open());
}

#[test]
fn a_job_waits_on_its_request_until_its_deadline() {
    // since, now, limit (s), overdue?
    let cases: [(u64, u64, u64, bool); 5] = [
        (1_000, 1_000, 3600, false),
        (1_000, 3_600_999, 3600, false),
        (1_000, 3_601_000, 3600, true),
        (5_000, 1_000, 60, false),
        (0, 60_000, 60, true),
    ];
    for (since, now, limit, want) in cases {
        let got = overdue("r1", "planning", since, now, limit);
        assert_eq!(got.is_some(), want, "{since} {now} {limit}: {got:?}");
    }
    assert_eq!(
        overdue("r1", "planning", 0, 3_600_000, 3600).unwrap(),
        "gave up waiting after 1 h: request r1 is still planning (the limit is TFPILOT_JOBS_WAIT_SECS)"
    );
    for (secs, words) in [
        (3600, "1 h"),
        (5400, "90 min"),
        (45, "45 s"),
        (7200, "2 h"),
        (61, "61 s"),
    ] {
        assert_eq!(span(secs), words);
    }
}
