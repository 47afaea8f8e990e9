//! The scanner: finds every block's markers, body and span, and refuses damaged ones.

use super::{BlockError, BlockSpan, MARKER_PREFIX, MARKER_SUFFIX, MAX_ID_LEN};
use std::borrow::Cow;
use std::ops::Range;

/// A block found by the scanner: its public span plus the byte range of its body.
pub(super) struct Block {
    pub(super) span: BlockSpan,
    pub(super) body: Range<usize>,
}

enum Marker<'a> {
    Begin(&'a str),
    End(&'a str),
}

pub(super) fn scan_blocks(text: &str) -> Result<Vec<Block>, BlockError> {
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

pub(super) fn check_id(id: &str) -> Result<(), BlockError> {
    if is_valid_id(id) {
        Ok(())
    } else {
        Err(BlockError::InvalidId { id: id.to_owned() })
    }
}

pub(super) fn find<'b>(blocks: &'b [Block], id: &str) -> Option<&'b Block> {
    blocks.iter().find(|b| b.span.id == id)
}

pub(super) fn find_existing(text: &str, id: &str) -> Result<Block, BlockError> {
    check_id(id)?;
    scan_blocks(text)?
        .into_iter()
        .find(|b| b.span.id == id)
        .ok_or_else(|| BlockError::NotFound { id: id.to_owned() })
}

/// Refuses a body with a marker-like line and ends a non-empty body with `\n`.
pub(super) fn normalize_body(body: &str) -> Result<Cow<'_, str>, BlockError> {
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
