//! The one question that is not an input: for a module that can adopt an
//! existing resource, "Is this a new resource or one that already
//! exists?". It is asked first; an answer that is not about it (the
//! requester starts with the bucket's name, or a sentence) reads as "new"
//! and is taken as the answer it is.

use super::{Conversation, QuickReply};
use crate::domain::registry::Module;
use crate::domain::request::Kind;

/// What the conversation's `asking` holds while the question is asked
/// (never an input name: those have no dash).
pub const ASKING_KIND: &str = "new-or-existing";

/// The question.
pub const KIND_QUESTION: &str = "Is this a new resource or one that already exists?";

/// What a reply says about the kind, and whether it said nothing else.
/// `None` when it does not answer the question.
pub fn read_kind(text: &str) -> Option<(Kind, bool)> {
    let t = text
        .trim()
        .trim_end_matches(['.', '!', '?'])
        .to_lowercase()
        .replace('’', "'");
    let words: Vec<&str> = t.split_whitespace().collect();
    let short = words.len() <= 4;
    let has = |set: &[&str]| words.iter().any(|x| set.contains(&x.trim_matches(',')));
    if has(&[
        "exist", "exists", "existing", "adopt", "adopted", "import", "imported",
    ]) {
        return Some((Kind::Adopt, short));
    }
    if short && has(&["new", "create", "created"]) {
        return Some((Kind::Create, true));
    }
    None
}

impl Conversation {
    /// Whether the request is new or adopts an existing resource: what
    /// was answered, else new.
    pub fn kind(&self) -> Kind {
        self.kind.unwrap_or_default()
    }

    /// Whether the kind question is the one being asked.
    pub fn asking_kind(&self) -> bool {
        self.asking.as_deref() == Some(ASKING_KIND)
    }

    /// Asks the kind question when `module` can adopt and it is not
    /// answered yet; returns whether it did.
    pub(super) fn ask_kind(&mut self, module: &Module) -> bool {
        if module.import.is_none() || self.kind.is_some() {
            return false;
        }
        self.offered = None;
        self.asking = Some(ASKING_KIND.to_owned());
        self.say(format!(
            "{KIND_QUESTION} (default: new; an existing one is imported, nothing is created)"
        ));
        true
    }

    /// Takes a reply to the kind question. Returns the text still to be
    /// read as an answer to the inputs, if any.
    pub(super) fn answer_kind<'t>(&mut self, module: &Module, text: &'t str) -> Option<&'t str> {
        match read_kind(text) {
            Some((kind, all)) => {
                self.kind = Some(kind);
                self.say(match kind {
                    Kind::Adopt => format!(
                        "An existing {}: tfpilot imports it, nothing is created.",
                        module.title
                    ),
                    Kind::Create => format!("A new {}.", module.title),
                });
                self.asking = None;
                (!all).then_some(text)
            }
            None => {
                self.kind = Some(Kind::Create);
                self.asking = None;
                Some(text)
            }
        }
    }

    /// Sets the kind from the form view; moves on when it was being asked.
    pub fn set_kind(&mut self, module: &Module, kind: Kind) {
        if module.import.is_none() {
            return;
        }
        self.kind = Some(kind);
        if self.asking_kind() {
            self.asking = None;
            self.ask_next(module);
        }
    }

    /// The kind as the answers list shows it (`new`, `existing`), once
    /// answered, for a module that can adopt.
    pub fn kind_shown(&self, module: &Module) -> Option<&'static str> {
        module.import.as_ref()?;
        self.kind.map(|k| match k {
            Kind::Create => "new",
            Kind::Adopt => "existing (imported)",
        })
    }

    /// The buttons under the kind question: new (the default) first.
    pub(super) fn kind_replies(&self) -> Vec<QuickReply> {
        vec![
            QuickReply {
                label: "New (default)".into(),
                reply: "new".into(),
                primary: true,
                risky: false,
            },
            QuickReply {
                label: "It already exists".into(),
                reply: "it already exists".into(),
                primary: false,
                risky: false,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_answers() {
        let cases: [(&str, Option<(Kind, bool)>); 13] = [
            ("new", Some((Kind::Create, true))),
            ("A new one.", Some((Kind::Create, true))),
            ("create it", Some((Kind::Create, true))),
            ("it already exists", Some((Kind::Adopt, true))),
            ("Existing", Some((Kind::Adopt, true))),
            ("one that already exists", Some((Kind::Adopt, true))),
            ("adopt", Some((Kind::Adopt, true))),
            ("import it", Some((Kind::Adopt, true))),
            (
                "adopt the existing bucket logs-archive please",
                Some((Kind::Adopt, false)),
            ),
            ("logs-archive", None),
            ("existing-data", None),
            ("a new versioned bucket called logs-archive", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(read_kind(text), expected, "{text:?}");
        }
    }
}
