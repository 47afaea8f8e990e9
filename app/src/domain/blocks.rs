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

mod scan;
use scan::{check_id, find, find_existing, normalize_body, scan_blocks};

#[cfg(test)]
mod tests;
