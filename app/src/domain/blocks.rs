//! Bounded-block editor: tfpilot only ever changes the bytes between its markers.
//!
//! A block is a begin marker line, a body and an end marker line:
//!
//! ```text
//! # --- tfpilot:begin:<id> ---
//! <body>
//! # --- tfpilot:end:<id> ---
//! ```
//!
//! `<id>` is 1 to 40 lowercase ASCII letters or digits. Lines end with `\n`;
//! a `\r` before it is ignored when recognising markers but kept byte for
//! byte. Any line that starts with `# --- tfpilot:` must be a well-formed
//! marker, so a damaged marker is refused instead of silently ignored.

use std::borrow::Cow;
use std::ops::Range;

/// Every marker line starts with this; no other line may.
const MARKER_PREFIX: &str = "# --- tfpilot:";
const MARKER_SUFFIX: &str = " ---";
const MAX_ID_LEN: usize = 40;

/// Where a block sits in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockSpan {
    /// The block id.
    pub id: String,
    /// Byte offset of the first byte of the begin marker line.
    pub start: usize,
    /// Byte offset just past the end marker line, including its line ending if any.
    pub end: usize,
    /// 1-based line number of the begin marker.
    pub begin_line: usize,
}

/// Why a text or a request was refused. Line numbers are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// A line starts with `# --- tfpilot:` but is not a valid marker.
    #[error(
        "line {line}: malformed tfpilot marker {text:?}; a marker line must be exactly \
         `# --- tfpilot:begin:<id> ---` or `# --- tfpilot:end:<id> ---` where <id> is \
         1 to 40 lowercase letters or digits"
    )]
    MalformedMarker {
        /// Line of the bad marker.
        line: usize,
        /// The line's text, without its line ending.
        text: String,
    },
    /// A begin marker has no matching end marker.
    #[error(
        "line {line}: block `{id}` is never closed; add `# --- tfpilot:end:{id} ---` after its body"
    )]
    Unterminated {
        /// Id of the open block.
        id: String,
        /// Line of its begin marker.
        line: usize,
    },
    /// An end marker appears while no block is open.
    #[error(
        "line {line}: end marker for block `{id}` has no begin marker before it; \
         remove it or add `# --- tfpilot:begin:{id} ---` above the block"
    )]
    UnexpectedEnd {
        /// Id named by the end marker.
        id: String,
        /// Line of the end marker.
        line: usize,
    },
    /// An end marker names a different block than the one that is open.
    #[error(
        "line {line}: end marker names block `{found}`, but block `{expected}` \
         (begun on line {begin_line}) is the one open; close `{expected}` first"
    )]
    MismatchedEnd {
        /// Id of the open block.
        expected: String,
        /// Id named by the end marker.
        found: String,
        /// Line of the end marker.
        line: usize,
        /// Line of the open block's begin marker.
        begin_line: usize,
    },
    /// A begin marker appears inside an open block.
    #[error(
        "line {line}: block `{id}` begins inside block `{outer}` (begun on line {outer_line}); \
         blocks cannot be nested, close `{outer}` first"
    )]
    Nested {
        /// Id of the inner block.
        id: String,
        /// Id of the open block.
        outer: String,
        /// Line of the inner begin marker.
        line: usize,
        /// Line of the open block's begin marker.
        outer_line: usize,
    },
    /// The same block id is used twice.
    #[error(
        "line {line}: block `{id}` appears a second time (first on line {first_line}); \
         remove one of the two blocks"
    )]
    Duplicate {
        /// The repeated id.
        id: String,
        /// Line of the second begin marker.
        line: usize,
        /// Line of the first begin marker.
        first_line: usize,
    },
    /// `insert` was asked for an id that already has a block.
    #[error("line {line}: block `{id}` already exists; replace it instead of inserting it again")]
    AlreadyPresent {
        /// The existing id.
        id: String,
        /// Line of its begin marker.
        line: usize,
    },
    /// The id is not 1 to 40 lowercase letters or digits.
    #[error("invalid block id {id:?}: an id is 1 to 40 lowercase letters or digits")]
    InvalidId {
        /// The rejected id.
        id: String,
    },
    /// The body has a line that would be read as a marker.
    #[error(
        "line {line} of the new block body starts with `# --- tfpilot:`, \
         which is reserved for block markers"
    )]
    BodyContainsMarker {
        /// Line within the body.
        line: usize,
    },
    /// No block with this id exists.
    #[error("no block `{id}` in the file")]
    NotFound {
        /// The missing id.
        id: String,
    },
}

/// The begin marker line for `id`, without a line ending.
#[must_use]
pub fn begin_marker(id: &str) -> String {
    format!("{MARKER_PREFIX}begin:{id}{MARKER_SUFFIX}")
}

/// The end marker line for `id`, without a line ending.
#[must_use]
pub fn end_marker(id: &str) -> String {
    format!("{MARKER_PREFIX}end:{id}{MARKER_SUFFIX}")
}

/// Lists the blocks of `text` in order, refusing a text whose markers are broken.
pub fn scan(text: &str) -> Result<Vec<BlockSpan>, BlockError> {
    Ok(scan_blocks(text)?.into_iter().map(|b| b.span).collect())
}

/// Appends a new block `id` at the end of `text`.
///
/// A non-empty `text` gets exactly one `\n` before the begin marker, which
/// [`remove`] takes away again. A non-empty `body` gets a trailing `\n` if it
/// lacks one; an empty `body` gives a block with no body lines.
pub fn insert(text: &str, id: &str, body: &str) -> Result<String, BlockError> {
    check_id(id)?;
    if let Some(block) = find(&scan_blocks(text)?, id) {
        return Err(BlockError::AlreadyPresent {
            id: id.to_owned(),
            line: block.span.begin_line,
        });
    }
    let body = normalize_body(body)?;
    let mut out = String::with_capacity(text.len() + body.len() + 2 * id.len() + 64);
    out.push_str(text);
    if !text.is_empty() {
        out.push('\n');
    }
    out.push_str(&begin_marker(id));
    out.push('\n');
    out.push_str(&body);
    out.push_str(&end_marker(id));
    out.push('\n');
    Ok(out)
}

/// Removes block `id` and the one `\n` separating it from the text before it.
///
/// When the block is at the very start of the text, the `\n` of an empty line
/// right after it is removed instead, so that removing the first of several
/// inserted blocks leaves the text as if it had never been inserted.
pub fn remove(text: &str, id: &str) -> Result<String, BlockError> {
    let block = find_existing(text, id)?;
    let (mut start, mut end) = (block.span.start, block.span.end);
    if start > 0 {
        start -= 1; // A line start after the first line is always preceded by `\n`.
    } else if text[end..].starts_with('\n') {
        end += 1;
    }
    Ok([&text[..start], &text[end..]].concat())
}

/// Replaces the body of block `id`, keeping every other byte (markers included).
///
/// `body` is normalized as in [`insert`].
pub fn replace(text: &str, id: &str, body: &str) -> Result<String, BlockError> {
    let block = find_existing(text, id)?;
    let body = normalize_body(body)?;
    Ok([&text[..block.body.start], &body, &text[block.body.end..]].concat())
}

/// Replaces the body of block `id` if it exists, otherwise inserts the block.
pub fn upsert(text: &str, id: &str, body: &str) -> Result<String, BlockError> {
    check_id(id)?;
    match find(&scan_blocks(text)?, id) {
        Some(_) => replace(text, id, body),
        None => insert(text, id, body),
    }
}

/// The current body of block `id` (every byte between its marker lines), if present.
pub fn body<'a>(text: &'a str, id: &str) -> Result<Option<&'a str>, BlockError> {
    check_id(id)?;
    Ok(find(&scan_blocks(text)?, id).map(|b| &text[b.body.clone()]))
}

/// A block found by the scanner: its public span plus the byte range of its body.
struct Block {
    span: BlockSpan,
    body: Range<usize>,
}

enum Marker<'a> {
    Begin(&'a str),
    End(&'a str),
}

fn scan_blocks(text: &str) -> Result<Vec<Block>, BlockError> {
    let mut blocks: Vec<Block> = Vec::new();
    // The open block: id, begin line number, start of its begin line, start of its body.
    let mut open: Option<(&str, usize, usize, usize)> = None;
    let mut offset = 0;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line = index + 1;
        let line_start = offset;
        offset += raw.len();
        let Some(marker) = parse_marker(raw, line)? else {
            continue;
        };
        match (marker, open) {
            (Marker::Begin(id), Some((outer, outer_line, ..))) => {
                return Err(BlockError::Nested {
                    id: id.to_owned(),
                    outer: outer.to_owned(),
                    line,
                    outer_line,
                });
            }
            (Marker::Begin(id), None) => {
                if let Some(first) = find(&blocks, id) {
                    return Err(BlockError::Duplicate {
                        id: id.to_owned(),
                        line,
                        first_line: first.span.begin_line,
                    });
                }
                open = Some((id, line, line_start, offset));
            }
            (Marker::End(id), None) => {
                return Err(BlockError::UnexpectedEnd {
                    id: id.to_owned(),
                    line,
                });
            }
            (Marker::End(id), Some((expected, begin_line, ..))) if id != expected => {
                return Err(BlockError::MismatchedEnd {
                    expected: expected.to_owned(),
                    found: id.to_owned(),
                    line,
                    begin_line,
                });
            }
            (Marker::End(id), Some((_, begin_line, start, body_start))) => {
                blocks.push(Block {
                    span: BlockSpan {
                        id: id.to_owned(),
                        start,
                        end: offset,
                        begin_line,
                    },
                    body: body_start..line_start,
                });
                open = None;
            }
        }
    }
    match open {
        Some((id, line, ..)) => Err(BlockError::Unterminated {
            id: id.to_owned(),
            line,
        }),
        None => Ok(blocks),
    }
}

/// Reads one raw line (with its line ending): `None` for an ordinary line.
fn parse_marker(raw: &str, line: usize) -> Result<Option<Marker<'_>>, BlockError> {
    let content = raw.strip_suffix('\n').unwrap_or(raw);
    let content = content.strip_suffix('\r').unwrap_or(content);
    let Some(rest) = content.strip_prefix(MARKER_PREFIX) else {
        return Ok(None);
    };
    let marker = rest.strip_suffix(MARKER_SUFFIX).and_then(|rest| {
        match (rest.strip_prefix("begin:"), rest.strip_prefix("end:")) {
            (Some(id), _) => Some(Marker::Begin(id)),
            (_, Some(id)) => Some(Marker::End(id)),
            _ => None,
        }
    });
    match marker {
        Some(Marker::Begin(id) | Marker::End(id)) if is_valid_id(id) => Ok(marker),
        _ => Err(BlockError::MalformedMarker {
            line,
            text: content.to_owned(),
        }),
    }
}

fn is_valid_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn check_id(id: &str) -> Result<(), BlockError> {
    if is_valid_id(id) {
        Ok(())
    } else {
        Err(BlockError::InvalidId { id: id.to_owned() })
    }
}

fn find<'b>(blocks: &'b [Block], id: &str) -> Option<&'b Block> {
    blocks.iter().find(|b| b.span.id == id)
}

fn find_existing(text: &str, id: &str) -> Result<Block, BlockError> {
    check_id(id)?;
    scan_blocks(text)?
        .into_iter()
        .find(|b| b.span.id == id)
        .ok_or_else(|| BlockError::NotFound { id: id.to_owned() })
}

/// Refuses a body with a marker-like line and ends a non-empty body with `\n`.
fn normalize_body(body: &str) -> Result<Cow<'_, str>, BlockError> {
    if let Some(index) = body
        .split('\n')
        .position(|line| line.starts_with(MARKER_PREFIX))
    {
        return Err(BlockError::BodyContainsMarker { line: index + 1 });
    }
    Ok(if body.is_empty() || body.ends_with('\n') {
        Cow::Borrowed(body)
    } else {
        Cow::Owned(format!("{body}\n"))
    })
}

#[cfg(test)]
mod tests {
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
}
