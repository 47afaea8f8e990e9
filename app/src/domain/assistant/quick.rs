//! Shortcuts for people in a hurry: the defaults for every remaining
//! input in one step once the required ones are known, the quick replies
//! under a question (the default is the primary one, a risky non-default
//! never is), and what an empty Enter does (what the primary reply does).

use super::{Conversation, plain, show};
use crate::domain::registry::{Input, InputType, Module, Risk};
use serde_json::Value;

/// The reply of the "Use the defaults for the rest" button.
pub const USE_DEFAULTS: &str = "Use the defaults for the rest";

/// Replies that accept the defaults of every remaining input (compared
/// lowercased, without trailing punctuation, `’` read as `'`).
const ALL_DEFAULTS: [&str; 16] = [
    "defaults",
    "the defaults",
    "use defaults",
    "use the defaults",
    "use the defaults for the rest",
    "defaults for the rest",
    "the rest as defaults",
    "keep the defaults",
    "keep defaults",
    "defaults are fine",
    "the defaults are fine",
    "defaults please",
    "that's all",
    "thats all",
    "that is all",
    "nothing else",
];

/// Whether a reply asks for the defaults of every remaining input.
pub fn wants_defaults(text: &str) -> bool {
    let t = text
        .trim()
        .trim_end_matches(['.', '!', ','])
        .trim()
        .replace('’', "'")
        .to_ascii_lowercase();
    ALL_DEFAULTS.contains(&t.as_str())
}

/// An input's default as people read it (`none` when it has none).
pub fn default_text(input: &Input) -> String {
    match &input.default {
        Some(d) => show(input, d),
        None => plain(&Value::Null),
    }
}

/// A button under the chat: its label and the reply it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickReply {
    /// What the button says ("No (default)").
    pub label: String,
    /// What it sends; empty for "keep the default", like an empty Enter.
    pub reply: String,
    /// The filled button; an empty Enter does the same.
    pub primary: bool,
    /// A non-default choice of a high-risk input.
    pub risky: bool,
}

/// An input as the answers list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown<'m> {
    /// The input.
    pub input: &'m Input,
    /// Its value as people read it.
    pub value: String,
    /// Left to its default (or empty) rather than answered.
    pub default: bool,
}

/// Enums with more values than this get no buttons (typing is quicker).
const MAX_CHOICES: usize = 6;

impl Conversation {
    /// Whether every required input has an answer.
    pub fn required_known(&self, module: &Module) -> bool {
        module
            .inputs
            .iter()
            .all(|i| !i.required || self.answers.contains_key(&i.name))
    }

    /// The inputs neither answered nor left to their default, high-risk
    /// first, then medium, then the rest, each group in registry order.
    pub fn rest<'m>(&self, module: &'m Module) -> Vec<&'m Input> {
        let open = |risk: Risk| {
            module.inputs.iter().filter(move |i| {
                i.risk == risk
                    && !self.answers.contains_key(&i.name)
                    && !self.defaulted.contains(&i.name)
            })
        };
        open(Risk::High)
            .chain(open(Risk::Medium))
            .chain(open(Risk::Low))
            .collect()
    }

    /// Whether "Use the defaults for the rest" is offered: every required
    /// input is known and some others are still open.
    pub fn offers_defaults(&self, module: &Module) -> bool {
        self.required_known(module) && !self.rest(module).is_empty()
    }

    /// Leaves every remaining input to its default and says which values
    /// those are, high-risk first. Refused, naming them, while a required
    /// input is still unknown.
    pub(super) fn use_defaults(&mut self, module: &Module) {
        self.offered = None;
        let missing: Vec<&str> = module
            .inputs
            .iter()
            .filter(|i| i.required && !self.answers.contains_key(&i.name))
            .map(|i| i.name.as_str())
            .collect();
        if !missing.is_empty() {
            self.say(format!(
                "{} {} no default, so {} an answer first.",
                missing.join(", "),
                if missing.len() == 1 { "has" } else { "have" },
                if missing.len() == 1 {
                    "it needs"
                } else {
                    "they need"
                },
            ));
            return self.ask_next(module);
        }
        let rest = self.rest(module);
        if rest.is_empty() {
            self.say("Every input is already answered or left to its default.".into());
            return self.ask_next(module);
        }
        let summary = rest
            .iter()
            .map(|i| {
                let risk = if i.risk == Risk::High {
                    " (high risk)"
                } else {
                    ""
                };
                format!("{} = {}{risk}", i.name, default_text(i))
            })
            .collect::<Vec<_>>()
            .join(", ");
        for input in rest {
            self.defaulted.insert(input.name.clone());
        }
        self.say(format!(
            "Keeping the defaults: {summary}. Use “change” next to any of them to answer it."
        ));
        self.ask_next(module);
    }

    /// The buttons under the current question (or the "did you mean").
    /// The default comes first and is the primary one; a choice other
    /// than the default of a high-risk input is never primary.
    pub fn quick_replies(&self, module: &Module) -> Vec<QuickReply> {
        if self.asking_kind() {
            return self.kind_replies();
        }
        let Some(input) = self.asking.as_deref().and_then(|n| module.input(n)) else {
            return Vec::new();
        };
        let high = input.risk == Risk::High;
        if let Some(offer) = &self.offered {
            let safe = !high || input.default.as_ref() == Some(offer);
            return vec![
                QuickReply {
                    label: "Yes".into(),
                    reply: "yes".into(),
                    primary: safe,
                    risky: !safe,
                },
                QuickReply {
                    label: "No".into(),
                    reply: "no".into(),
                    primary: false,
                    risky: false,
                },
            ];
        }
        let choices: Vec<(Value, String, String)> = match input.ty {
            InputType::Bool => vec![
                (Value::Bool(true), "Yes".into(), "yes".into()),
                (Value::Bool(false), "No".into(), "no".into()),
            ],
            InputType::Enum if input.values.len() <= MAX_CHOICES => input
                .values
                .iter()
                .map(|v| (Value::String(v.clone()), v.clone(), v.clone()))
                .collect(),
            _ => Vec::new(),
        };
        if choices.is_empty() {
            return match (&input.default, input.required) {
                (Some(d), _) => vec![QuickReply {
                    label: format!("Keep the default ({})", show(input, d)),
                    reply: String::new(),
                    primary: true,
                    risky: false,
                }],
                (None, false) => vec![QuickReply {
                    label: "Leave it empty".into(),
                    reply: String::new(),
                    primary: true,
                    risky: false,
                }],
                (None, true) => Vec::new(),
            };
        }
        let replies = choices.into_iter().map(|(value, label, reply)| {
            let default = input.default.as_ref() == Some(&value);
            QuickReply {
                label: if default {
                    format!("{label} (default)")
                } else {
                    label
                },
                reply: if default { String::new() } else { reply },
                primary: default,
                risky: high && !default,
            }
        });
        // The default first.
        let (mut out, rest): (Vec<_>, Vec<_>) = replies.partition(|q| q.primary);
        out.extend(rest);
        out
    }

    /// The chat field's placeholder: what an empty Enter does.
    pub fn placeholder(&self, module: &Module) -> String {
        match self.quick_replies(module).into_iter().find(|q| q.primary) {
            Some(q) => format!("Type an answer, or press Enter for “{}”", q.label),
            None if self.asking.is_none() => "Everything is answered".into(),
            None => "Type an answer, or describe what you need".into(),
        }
    }

    /// Every answered or defaulted input, in registry order.
    pub fn shown<'m>(&self, module: &'m Module) -> Vec<Shown<'m>> {
        module
            .inputs
            .iter()
            .filter_map(|input| {
                if let Some(v) = self.answers.get(&input.name) {
                    Some(Shown {
                        input,
                        value: show(input, v),
                        default: false,
                    })
                } else {
                    self.defaulted.contains(&input.name).then(|| Shown {
                        input,
                        value: default_text(input),
                        default: true,
                    })
                }
            })
            .collect()
    }
}
