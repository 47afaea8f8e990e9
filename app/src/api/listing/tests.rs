//! Table tests of the dashboard filter predicate and the filter URLs.

use super::*;

fn row() -> Row {
    Row {
        id: "01m8abc".into(),
        title: "S3 bucket Été-logs".into(),
        project: "sandbox".into(),
        environment: "dev".into(),
        module: "s3-bucket".into(),
        status: "plan_ready".into(),
        requester: "Ana".into(),
        updated_at: "2026-11-22T05:50:01Z".into(),
        note: String::new(),
        etag: String::new(),
        drifted: false,
    }
}

fn filters(set: &[(&str, &str)]) -> Filters {
    let mut f = Filters::default();
    for (field, value) in set {
        let value = (*value).to_owned();
        match *field {
            "status" => f.status = value,
            "environment" => f.environment = value,
            "module" => f.module = value,
            "project" => f.project = value,
            "q" => f.q = value,
            "drift" => f.drift = value,
            _ => f.cursor = value,
        }
    }
    f
}

#[test]
fn the_predicate_matches_fields_exactly_and_text_ignoring_case() {
    let cases: &[(&[(&str, &str)], bool)] = &[
        (&[], true),
        (&[("environment", "dev")], true),
        (&[("environment", "prod")], false),
        (&[("environment", "DEV")], false),
        (&[("status", "plan_ready"), ("module", "s3-bucket")], true),
        (&[("status", "failed")], false),
        (&[("project", "sandbox"), ("environment", "dev")], true),
        (&[("project", "other")], false),
        (&[("q", "ANA")], true),
        (&[("q", "  ana  ")], true),
        (&[("q", "   ")], true),
        (&[("q", "01M8")], true),
        (&[("q", "bucket été")], true),
        (&[("q", "ÉTÉ-LOGS")], true),
        (&[("q", "bob")], false),
        (&[("environment", "dev"), ("q", "ana")], true),
        (&[("environment", "prod"), ("q", "ana")], false),
        (&[("cursor", "01m8zzz")], true),
        (&[("drift", "no")], true),
        (&[("drift", "yes")], false),
        (&[("drift", "yes"), ("environment", "dev")], false),
    ];
    for (set, want) in cases {
        let f = filters(set);
        assert_eq!(f.matches(&row()), *want, "{set:?}");
        assert_eq!(f.matcher().matches(&row().fields()), *want, "{set:?}");
    }
}

#[test]
fn filters_count_what_is_set_and_keep_the_url() {
    let f = filters(&[("environment", "dev"), ("q", "ANA"), ("cursor", "x")]);
    assert_eq!(f.active(), 2, "the cursor is not a filter");
    assert_eq!(
        f.href_with("status", "failed"),
        "/requests?status=failed&environment=dev&q=ANA&cursor=x"
    );
    assert_eq!(
        f.href_with("q", "a b&c"),
        "/requests?environment=dev&q=a%20b%26c&cursor=x"
    );
    assert_eq!(Filters::default().href_with("cursor", ""), "/requests");
}

#[test]
fn a_row_without_a_note_or_etag_leaves_them_out_and_reads_back() {
    let json = serde_json::to_value(row()).unwrap();
    assert!(json.get("note").is_none() && json.get("etag").is_none());
    let back: Row = serde_json::from_value(json).unwrap();
    assert_eq!(back, row());
}

#[test]
fn times_are_shortened_to_the_minute() {
    assert_eq!(short_time("2026-11-22T05:50:01Z"), "2026-11-22 05:50");
    assert_eq!(short_time("soon"), "soon");
}

#[test]
fn the_drift_filter_keeps_drifted_rows_and_its_url() {
    let drifted = Row {
        drifted: true,
        ..row()
    };
    for (value, want) in [("yes", true), ("no", false), ("", true)] {
        let f = filters(&[("drift", value)]);
        assert_eq!(f.matches(&drifted), want, "drift={value}");
    }
    let f = filters(&[("drift", "yes")]);
    assert_eq!(f.active(), 1);
    assert_eq!(
        f.href_with("status", "applied"),
        "/requests?status=applied&drift=yes"
    );
}
