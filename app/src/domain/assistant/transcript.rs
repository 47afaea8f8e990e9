//! The bounds of a transcript the server keeps as a chat log: how many
//! lines, how long each, and which characters. A conversation stays far
//! inside them; anything beyond is refused whole, naming the line.

use super::Line;

/// The most lines one transcript may have.
pub const MAX_LINES: usize = 500;
/// The most characters one line may have.
pub const MAX_LINE_CHARS: usize = 4_000;

/// Why a transcript is refused: the field at fault and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptError {
    /// `transcript`, or `transcript[<n>].text` for one line (0-based).
    pub field: String,
    /// The rule, in a sentence.
    pub message: String,
}

impl std::fmt::Display for TranscriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Checks a transcript against the bounds: at most [`MAX_LINES`] lines,
/// each at most [`MAX_LINE_CHARS`] characters with no control character
/// but newline and tab.
pub fn check(lines: &[Line]) -> Result<(), TranscriptError> {
    if lines.len() > MAX_LINES {
        return Err(TranscriptError {
            field: "transcript".into(),
            message: format!(
                "a transcript has at most {MAX_LINES} lines; this one has {}",
                lines.len()
            ),
        });
    }
    for (n, line) in lines.iter().enumerate() {
        let field = format!("transcript[{n}].text");
        let chars = line.text.chars().count();
        if chars > MAX_LINE_CHARS {
            return Err(TranscriptError {
                field,
                message: format!(
                    "a line has at most {MAX_LINE_CHARS} characters; this one has {chars}"
                ),
            });
        }
        if let Some((at, c)) = line
            .text
            .chars()
            .enumerate()
            .find(|(_, c)| c.is_control() && *c != '\n' && *c != '\t')
        {
            return Err(TranscriptError {
                field,
                message: format!(
                    "a line may hold no control character but newline and tab; character {} is U+{:04X}",
                    at + 1,
                    u32::from(c)
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Speaker;
    use super::*;

    fn line(text: &str) -> Line {
        Line {
            from: Speaker::User,
            text: text.into(),
        }
    }

    #[test]
    fn a_conversation_within_the_bounds_passes() {
        let mut lines: Vec<Line> = (0..MAX_LINES)
            .map(|n| line(&format!("answer {n}")))
            .collect();
        lines[0] = line(&"é".repeat(MAX_LINE_CHARS));
        lines[1] = line("two\nlines\tand a tab");
        assert_eq!(check(&lines), Ok(()));
        assert_eq!(check(&[]), Ok(()));
    }

    #[test]
    fn too_many_lines_are_refused_naming_the_transcript() {
        let lines: Vec<Line> = (0..=MAX_LINES).map(|_| line("yes")).collect();
        let e = check(&lines).unwrap_err();
        assert_eq!(e.field, "transcript");
        assert!(e.message.contains("at most 500 lines"), "{e}");
    }

    #[test]
    fn a_long_line_is_refused_naming_it() {
        let lines = [line("ok"), line(&"a".repeat(MAX_LINE_CHARS + 1))];
        let e = check(&lines).unwrap_err();
        assert_eq!(e.field, "transcript[1].text");
        assert!(e.message.contains("at most 4000 characters"), "{e}");
    }

    #[test]
    fn control_characters_but_newline_and_tab_are_refused() {
        for bad in ["\u{7}", "\r", "\u{0}", "\u{1b}[31m", "\u{85}"] {
            let e = check(&[line(&format!("x{bad}"))]).unwrap_err();
            assert_eq!(e.field, "transcript[0].text", "{bad:?}");
            assert!(e.message.contains("character 2"), "{e}");
        }
    }
}
