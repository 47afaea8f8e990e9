//! The bounded-block editor's unit tests.

use super::*;

fn block(id: &str, body: &str) -> String {
    format!("{}\n{body}{}\n", begin_marker(id), end_marker(id))
}

#[test]
fn markers() {
    assert_eq!(begin_marker("a1"), "# --- tfpilot:begin:a1 ---");
    assert_eq!(end_marker("a1"), "# --- tfpilot:end:a1 ---");
}

#[test]
fn scan_finds_spans() {
    let a = block("a", "x = 1\n");
    let b = "# --- tfpilot:begin:b ---\r\ny = 2\r\n# --- tfpilot:end:b ---";
    let text = format!("top\n{a}mid\n{b}");
    let spans = scan(&text).unwrap();
    assert_eq!(
        spans,
        vec![
            BlockSpan {
                id: "a".into(),
                start: 4,
                end: 4 + a.len(),
                begin_line: 2,
            },
            BlockSpan {
                id: "b".into(),
                start: 4 + a.len() + 4,
                end: text.len(),
                begin_line: 6,
            },
        ]
    );
    assert_eq!(body(&text, "b").unwrap(), Some("y = 2\r\n"));
    assert_eq!(body(&text, "c").unwrap(), None);
}

#[test]
fn lookalike_lines_are_not_markers() {
    let text = "  # --- tfpilot:begin:a ---\n# -- tfpilot:begin:a ---\n#--- tfpilot:x\n";
    assert_eq!(scan(text).unwrap(), vec![]);
}

#[test]
fn scan_errors() {
    let id40 = "a".repeat(40);
    let id41 = "a".repeat(41);
    let ok40 = block(&id40, "");
    assert_eq!(scan(&ok40).unwrap().len(), 1);
    let malformed = |line: usize, text: &str| BlockError::MalformedMarker {
        line,
        text: text.into(),
    };
    let bad_begin41 = begin_marker(&id41);
    let cases: Vec<(String, BlockError)> = vec![
        ("# --- tfpilot:\n".into(), malformed(1, "# --- tfpilot:")),
        (
            "x\n# --- tfpilot:begin:A ---\n".into(),
            malformed(2, "# --- tfpilot:begin:A ---"),
        ),
        (
            "# --- tfpilot:begin:a ---  \n".into(),
            malformed(1, "# --- tfpilot:begin:a ---  "),
        ),
        (
            "# --- tfpilot:begin: ---\r\n".into(),
            malformed(1, "# --- tfpilot:begin: ---"),
        ),
        (
            "# --- tfpilot:start:a ---".into(),
            malformed(1, "# --- tfpilot:start:a ---"),
        ),
        (
            "# --- tfpilot:end:a-b ---\n".into(),
            malformed(1, "# --- tfpilot:end:a-b ---"),
        ),
        (format!("{bad_begin41}\n"), malformed(1, &bad_begin41)),
        (
            "a\n# --- tfpilot:begin:x ---\nbody\n".into(),
            BlockError::Unterminated {
                id: "x".into(),
                line: 2,
            },
        ),
        (
            "a\nb\n# --- tfpilot:end:x ---\n".into(),
            BlockError::UnexpectedEnd {
                id: "x".into(),
                line: 3,
            },
        ),
        (
            "# --- tfpilot:begin:x ---\n# --- tfpilot:end:y ---\n".into(),
            BlockError::MismatchedEnd {
                expected: "x".into(),
                found: "y".into(),
                line: 2,
                begin_line: 1,
            },
        ),
        (
            "# --- tfpilot:begin:x ---\n\n# --- tfpilot:begin:y ---\n".into(),
            BlockError::Nested {
                id: "y".into(),
                outer: "x".into(),
                line: 3,
                outer_line: 1,
            },
        ),
        (
            format!("{}\n{}", block("x", "1\n"), block("x", "2\n")),
            BlockError::Duplicate {
                id: "x".into(),
                line: 5,
                first_line: 1,
            },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(scan(&text), Err(want.clone()), "text {text:?}");
        // Every editing operation refuses a broken file the same way.
        assert_eq!(insert(&text, "zz", "b"), Err(want.clone()));
        assert_eq!(remove(&text, "zz"), Err(want.clone()));
        assert_eq!(replace(&text, "zz", "b"), Err(want.clone()));
        assert_eq!(upsert(&text, "zz", "b"), Err(want.clone()));
        assert_eq!(body(&text, "zz"), Err(want));
    }
}

#[test]
fn request_errors() {
    let text = format!("a\n\n{}", block("x", "1\n"));
    assert_eq!(
        insert(&text, "x", "2"),
        Err(BlockError::AlreadyPresent {
            id: "x".into(),
            line: 3,
        })
    );
    for id in ["", "X", "a-b", "a b", "é", &"a".repeat(41)] {
        let want = Err(BlockError::InvalidId { id: id.into() });
        assert_eq!(insert(&text, id, "b"), want);
        assert_eq!(remove(&text, id), want);
        assert_eq!(replace(&text, id, "b"), want);
        assert_eq!(upsert(&text, id, "b"), want);
        assert_eq!(
            body(&text, id),
            Err(BlockError::InvalidId { id: id.into() })
        );
    }
    let marker_bodies = [
        ("# --- tfpilot:end:x ---", 1),
        ("ok\n# --- tfpilot:", 2),
        ("a\nb\n# --- tfpilot:junk\n", 3),
    ];
    for (body, line) in marker_bodies {
        let want = Err(BlockError::BodyContainsMarker { line });
        assert_eq!(insert(&text, "y", body), want);
        assert_eq!(replace(&text, "x", body), want);
        assert_eq!(upsert(&text, "x", body), want);
    }
    let want = Err(BlockError::NotFound { id: "y".into() });
    assert_eq!(remove(&text, "y"), want);
    assert_eq!(replace(&text, "y", "b"), want);
}

#[test]
fn insert_separator_rule() {
    let b = block("x", "k = 1\n");
    let cases = [
        ("", b.clone()),
        ("a", format!("a\n{b}")),
        ("a\n", format!("a\n\n{b}")),
        ("a\r\n", format!("a\r\n\n{b}")),
    ];
    for (text, want) in cases {
        assert_eq!(insert(text, "x", "k = 1").unwrap(), want);
        assert_eq!(remove(&want, "x").unwrap(), text);
    }
    assert_eq!(insert("", "x", "").unwrap(), block("x", ""));
}

#[test]
fn replace_keeps_markers_and_surroundings() {
    let text = "pre\n# --- tfpilot:begin:x ---\r\nold\r\n# --- tfpilot:end:x ---\r\npost";
    let want = "pre\n# --- tfpilot:begin:x ---\r\nnew\n# --- tfpilot:end:x ---\r\npost";
    assert_eq!(replace(text, "x", "new").unwrap(), want);
    assert_eq!(upsert(text, "x", "new").unwrap(), want);
    assert_eq!(body(want, "x").unwrap(), Some("new\n"));
}

#[test]
fn remove_first_of_two_at_file_start() {
    let both = insert(&insert("", "a", "1").unwrap(), "b", "2").unwrap();
    assert_eq!(remove(&both, "a").unwrap(), insert("", "b", "2").unwrap());
    assert_eq!(remove(&both, "b").unwrap(), insert("", "a", "1").unwrap());
}
