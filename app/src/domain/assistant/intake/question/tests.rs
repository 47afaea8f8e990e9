//! The questions a chat answers, as a table of how people ask; and what must stay a request.

use super::super::{Command, command};
use super::*;

fn failed(environment: Option<&str>, period: Period) -> Option<Question> {
    Some(Question::Failed {
        environment: environment.map(str::to_owned),
        period,
    })
}

#[test]
fn questions_are_read_in_many_phrasings() {
    let id = "01jd5x8k2m";
    let status = || Some(Question::Status(id.into()));
    let who = || Some(Question::WhoApproved(id.into()));
    let table: Vec<(String, Option<Question>)> = vec![
        // Waiting for my approval.
        (
            "what is waiting for my approval?".into(),
            Some(Question::Approvals),
        ),
        (
            "What's waiting for my approval".into(),
            Some(Question::Approvals),
        ),
        ("whats waiting for me?".into(), Some(Question::Approvals)),
        (
            "anything for me to approve?".into(),
            Some(Question::Approvals),
        ),
        (
            "Is there anything for me to approve".into(),
            Some(Question::Approvals),
        ),
        ("pending approvals".into(), Some(Question::Approvals)),
        ("my approvals".into(), Some(Question::Approvals)),
        ("approvals".into(), Some(Question::Approvals)),
        ("what needs my approval".into(), Some(Question::Approvals)),
        ("what can I approve?".into(), Some(Question::Approvals)),
        (
            "do I have anything to approve".into(),
            Some(Question::Approvals),
        ),
        (
            "hey tfpilot, anything pending for me?".into(),
            Some(Question::Approvals),
        ),
        // Status.
        (format!("status of {id}"), status()),
        (format!("status {id}"), status()),
        (format!("Status of {}…", id.to_uppercase()), status()),
        (format!("where is {id}?"), status()),
        (format!("where's {id}"), status()),
        (format!("what's the status of {id}?"), status()),
        (format!("how is {id} doing"), status()),
        (id.to_owned(), status()),
        (format!("{id} status please"), status()),
        (
            "status 0000000000000000".into(),
            Some(Question::Status("0000000000000000".into())),
        ),
        ("status foo".into(), Some(Question::Status("foo".into()))),
        // What failed.
        (
            "what failed in prod this week?".into(),
            failed(Some("prod"), Period::ThisWeek),
        ),
        (
            "What failed in production today".into(),
            failed(Some("production"), Period::Today),
        ),
        ("what failed?".into(), failed(None, Period::DEFAULT)),
        ("failed".into(), failed(None, Period::DEFAULT)),
        ("anything fail today?".into(), failed(None, Period::Today)),
        (
            "what failed in the last 7 days".into(),
            failed(None, Period::LastDays(7)),
        ),
        (
            "failures in dev over the past 3 days".into(),
            failed(Some("dev"), Period::LastDays(3)),
        ),
        (
            "failures in dev in the past 3 days".into(),
            failed(Some("dev"), Period::LastDays(3)),
        ),
        (
            "prod failures this week".into(),
            failed(Some("prod"), Period::ThisWeek),
        ),
        (
            "what broke in staging last week?".into(),
            failed(Some("staging"), Period::LastDays(7)),
        ),
        (
            "what went wrong in payments-prod".into(),
            failed(Some("payments-prod"), Period::DEFAULT),
        ),
        (
            "which requests failed this week in prod".into(),
            failed(Some("prod"), Period::ThisWeek),
        ),
        (
            "were any applies blocked in the past 2 weeks".into(),
            failed(None, Period::LastDays(14)),
        ),
        (
            "failed plans in the last seven days".into(),
            failed(None, Period::LastDays(7)),
        ),
        (
            "what failed in the past day".into(),
            failed(None, Period::LastDays(1)),
        ),
        // Who approved.
        (format!("who approved {id}?"), who()),
        (format!("Who has approved {id}"), who()),
        (format!("who signed off on {id}"), who()),
        (format!("approvals of {id}"), who()),
        (format!("approvers for {id}"), who()),
        (format!("was {id} approved?"), who()),
        (format!("approval history of {id}"), who()),
        // Mine.
        ("my requests".into(), Some(Question::Mine)),
        ("my requests in prod".into(), Some(Question::Mine)),
        ("what are my requests?".into(), Some(Question::Mine)),
        ("show my open requests".into(), Some(Question::Mine)),
        ("mine".into(), Some(Question::Mine)),
        ("list".into(), Some(Question::Mine)),
    ];
    for (text, want) in table {
        assert_eq!(question(&text), want, "{text}");
    }
}

#[test]
fn requests_in_words_are_not_questions() {
    let id = "01jd5x8k2m";
    let table = [
        "I need a bucket for logs".to_owned(),
        "an s3 bucket called team-logs in dev with 30 day expiration".into(),
        "a queue for failed orders in prod".into(),
        "dead letter handling for failed jobs".into(),
        "a bucket for build failures".into(),
        "my bucket failed".into(),
        "bucket failed in prod because of something".into(),
        "I need approval for a new bucket in prod".into(),
        "a bucket called approvals in dev".into(),
        "where is my bucket".into(),
        "what failed in prod and dev".into(),
        "what failed in prod in the last 500 days".into(),
        format!("approve {id}"),
        format!("who can approve {id}"),
        format!("status of {id} and 01jd5x8k3n"),
        format!("a bucket like {id}"),
        "status page bucket in dev".into(),
        "a queue between the checkout service and the mailer".into(),
        "we want to process order events asynchronously".into(),
    ];
    for text in table {
        assert_eq!(question(&text), None, "{text}");
    }
}

#[test]
fn the_description_table_stays_requests() {
    // From `descriptions_in_peoples_words_find_their_module`: how people
    // ask for infrastructure must never read as a question.
    let table = [
        "somewhere to drop our nightly postgres dumps for 90 days",
        "we need a place to store user uploads",
        "static website assets for the marketing site",
        "archive the audit logs for a year",
        "storage for build artifacts from CI",
        "a bucket for terraform plans",
        "keep backups of the wiki",
        "fifo messages for payments, exactly once",
        "buffer incoming webhooks so workers can pick them up later",
        "dead letter handling for failed jobs",
        "a job backlog for the thumbnail workers",
        "run our api container on fargate",
        "we need 3 tasks of the worker image running all the time",
        "a long running process that listens on port 8080",
    ];
    for text in table {
        assert_eq!(command(text), Command::Request(text.into()), "{text}");
    }
}

#[test]
fn periods_start_at_midnight_monday_or_n_days_back() {
    const DAY: u64 = 86_400_000;
    // 2024-05-15 was a Wednesday; 10:30 UTC.
    let wednesday = 19_858 * DAY + 37_800_000;
    assert_eq!(Period::Today.since(wednesday), 19_858 * DAY);
    assert_eq!(
        Period::ThisWeek.since(wednesday),
        19_856 * DAY,
        "Monday 13 May"
    );
    assert_eq!(Period::LastDays(7).since(wednesday), wednesday - 7 * DAY);
    // On a Monday the week starts that midnight.
    assert_eq!(Period::ThisWeek.since(19_856 * DAY + 5), 19_856 * DAY);
    // 1970-01-05 was a Monday; the Sunday after is still its week.
    assert_eq!(Period::ThisWeek.since(10 * DAY + 5), 4 * DAY);
    assert_eq!(Period::ThisWeek.words(), "this week");
    assert_eq!(Period::LastDays(3).words(), "in the last 3 days");
}
