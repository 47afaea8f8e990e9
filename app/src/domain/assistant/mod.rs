//! The deterministic assistant: it asks each input's `question` in
//! registry order, skips what is known, shows defaults and risk notes,
//! reads free answers by type, takes several values from a first sentence,
//! and can go back to any input. No model is involved; a model-backed
//! assistant can later sit behind the same [`Conversation`] surface.

mod extract;
pub mod intake;
mod kind;
mod parse;
mod quick;
mod settle;
pub mod transcript;

pub use extract::extract;
pub use kind::{ASKING_KIND, KIND_QUESTION, read_kind};
pub use parse::{Answer, is_yes, parse_answer};
pub use quick::{QuickReply, Shown, USE_DEFAULTS, default_text, wants_defaults};
pub use settle::{Settled, settle};

use super::config::{Config, REDACTED};
use super::registry::{Input, InputType, Module, Risk};
use super::request::Kind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// Who said a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// tfpilot.
    Assistant,
    /// The requester.
    User,
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Who.
    pub from: Speaker,
    /// What (a sensitive answer is stored as `(sensitive)`).
    pub text: String,
}

/// Where a conversation stands: the answers so far and what is asked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Answers given, by input name.
    pub answers: Config,
    /// Inputs left to their default on purpose.
    pub defaulted: BTreeSet<String>,
    /// The input being asked, if any.
    pub asking: Option<String>,
    /// A value offered with "did you mean", waiting for yes or no.
    pub offered: Option<Value>,
    /// Lines so far.
    pub transcript: Vec<Line>,
    /// New or existing, once answered (modules that can adopt only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
}

/// A value as people read it (`yes`, `90`, `a, b`, `k=v`); sensitive
/// inputs read `(sensitive)`.
pub fn show(input: &Input, value: &Value) -> String {
    if input.sensitive {
        REDACTED.to_owned()
    } else {
        plain(value)
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(m) if m.is_empty() => "none".into(),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
}

/// The question for an input, with its default and risk note.
pub fn question(input: &Input) -> String {
    let mut q = input.question.clone();
    if let Some(d) = &input.default {
        q.push_str(&format!(" (default: {})", show(input, d)));
    } else if !input.required {
        q.push_str(" (optional)");
    }
    match input.risk {
        Risk::High => q.push_str(" ⚠ High risk: approvers look closely at this one."),
        Risk::Medium => q.push_str(" Note: approvers review this one."),
        Risk::Low => {}
    }
    q
}

impl Conversation {
    /// A new conversation for `module`, opening with a greeting and the
    /// first question.
    pub fn start(module: &Module) -> Self {
        let mut c = Self::default();
        c.say(format!(
            "Let's set up your {}. Describe it in a sentence, or answer one question at a time.",
            module.title
        ));
        if !c.ask_kind(module) {
            c.ask_next(module);
        }
        c
    }

    /// A new conversation for `module` that starts from answers taken
    /// from a description (already checked, see [`settle`]): it says what
    /// it took and asks only what is left. The description also says
    /// whether the resource is new or exists already ([`read_kind`]; new
    /// unless it says "existing", "adopt" or "import"), so the kind
    /// question is not asked.
    pub fn seeded(module: &Module, answers: Config, described: &str) -> Self {
        let mut c = Self::default();
        if module.import.is_some() {
            c.kind = Some(read_kind(described).map_or(Kind::Create, |(kind, _)| kind));
        }
        let taken: Vec<String> = module
            .inputs
            .iter()
            .filter_map(|i| {
                answers
                    .get(&i.name)
                    .map(|v| format!("{} = {}", i.name, show(i, v)))
            })
            .collect();
        c.answers = answers
            .into_iter()
            .filter(|(name, v)| !v.is_null() && module.input(name).is_some())
            .collect();
        c.say(if taken.is_empty() {
            format!("Let's set up your {}.", module.title)
        } else {
            format!(
                "Let's set up your {}. From your description: {}.",
                module.title,
                taken.join(", ")
            )
        });
        if c.kind == Some(Kind::Adopt) {
            c.say(format!(
                "An existing {}: tfpilot imports it, nothing is created.",
                module.title
            ));
        }
        c.ask_next(module);
        c
    }

    /// A conversation about an existing request: every answer is known;
    /// the user changes what they want ("change" or the form view).
    pub fn resume(module: &Module, answers: Config) -> Self {
        let mut c = Self {
            answers: answers
                .into_iter()
                .filter(|(name, v)| !v.is_null() && module.input(name).is_some())
                .collect(),
            ..Self::default()
        };
        for input in &module.inputs {
            if !c.answers.contains_key(&input.name) {
                c.defaulted.insert(input.name.clone());
            }
        }
        c.say(format!(
            "You are changing this {}. Use “change” next to an answer, or the form view; \
             the new revision gets a new PR and a new plan.",
            module.title
        ));
        c
    }

    fn say(&mut self, text: String) {
        self.transcript.push(Line {
            from: Speaker::Assistant,
            text,
        });
    }

    /// The next input without an answer, in registry order.
    pub fn next_open<'m>(&self, module: &'m Module) -> Option<&'m Input> {
        module
            .inputs
            .iter()
            .find(|i| !self.answers.contains_key(&i.name) && !self.defaulted.contains(&i.name))
    }

    /// Whether every input is answered or left to its default (and the
    /// kind question is not waiting for its answer).
    pub fn is_complete(&self, module: &Module) -> bool {
        !self.asking_kind() && self.next_open(module).is_none()
    }

    fn ask_next(&mut self, module: &Module) {
        self.offered = None;
        match self.next_open(module) {
            Some(input) => {
                self.asking = Some(input.name.clone());
                self.say(question(input));
            }
            None => {
                self.asking = None;
                self.say(
                    "That's everything. Check the block below, then submit the request.".into(),
                );
            }
        }
    }

    /// Takes the user's message and answers it. An empty message does
    /// what the primary quick reply does (keeps the default); "defaults"
    /// or "that's all" leaves every remaining input to its default.
    pub fn reply(&mut self, module: &Module, text: &str) {
        let asking = self.asking.as_ref().and_then(|n| module.input(n));
        let sensitive = asking.is_some_and(|i| i.sensitive);
        let empty = text.trim().is_empty();
        if empty {
            return self.enter(module);
        }
        self.transcript.push(Line {
            from: Speaker::User,
            text: if sensitive {
                REDACTED.into()
            } else {
                text.trim().into()
            },
        });
        if self.asking_kind() {
            let Some(rest) = self.answer_kind(module, text) else {
                return self.ask_next(module);
            };
            // Not (only) about the kind: read as a description (when it
            // names inputs), else as the answer to the first open input.
            let first = self.answers.is_empty() && self.defaulted.is_empty();
            self.asking = match first && !extract(module, rest).is_empty() {
                false => self.next_open(module).map(|i| i.name.clone()),
                true => None,
            };
            return self.answer(module, rest);
        }
        self.answer(module, text);
    }

    /// Reads a reply (already in the transcript) as an answer: several
    /// inputs from a first sentence, or the asked input's value.
    fn answer(&mut self, module: &Module, text: &str) {
        if wants_defaults(text) {
            return self.use_defaults(module);
        }
        let asking = self.asking.as_ref().and_then(|n| module.input(n));
        let first = self.answers.is_empty() && self.defaulted.is_empty();
        if first {
            let found = extract(module, text);
            if found.len() > 1 || (found.len() == 1 && asking.is_none_or(|i| i.name != found[0].0))
            {
                let summary = found
                    .iter()
                    .filter_map(|(n, v)| module.input(n).map(|i| format!("{n} = {}", show(i, v))))
                    .collect::<Vec<_>>()
                    .join(", ");
                for (name, value) in found {
                    self.answers.insert(name, value);
                }
                self.say(format!("Got it: {summary}."));
                self.ask_next(module);
                return;
            }
        }
        let Some(input) = asking else {
            self.say("Everything is answered. Use “change” next to an answer to revise it.".into());
            return;
        };
        if let Some(offer) = self.offered.take() {
            match is_yes(text) {
                Some(true) => return self.accept(module, input, offer),
                Some(false) => {
                    self.say(question(input));
                    return;
                }
                None => {}
            }
        }
        match parse_answer(input, text) {
            Answer::Value(v) => self.accept(module, input, v),
            Answer::Default => self.keep_default(module, input),
            Answer::Suggest(v) => {
                self.say(format!("Did you mean {}? (yes or no)", show(input, &v)));
                self.offered = Some(v);
            }
            Answer::Invalid(why) => self.say(why),
        }
    }

    /// An empty Enter: the primary quick reply, if there is one.
    fn enter(&mut self, module: &Module) {
        if self.asking_kind() {
            return self.reply(module, "new");
        }
        let Some(input) = self.asking.as_ref().and_then(|n| module.input(n)) else {
            return;
        };
        let primary = self.quick_replies(module).into_iter().find(|q| q.primary);
        match primary {
            Some(q) if !q.reply.is_empty() => self.reply(module, &q.reply),
            Some(_) => {
                self.transcript.push(Line {
                    from: Speaker::User,
                    text: match input.default {
                        Some(_) => "(keep the default)".into(),
                        None => "(leave it empty)".into(),
                    },
                });
                self.keep_default(module, input);
            }
            None if self.offered.is_some() => self.say("Please answer yes or no.".into()),
            None if input.default.is_none() && input.required => self.say(format!(
                "{} has no default, so it needs an answer: {}",
                input.name, input.question
            )),
            None => self.say(question(input)),
        }
    }

    fn keep_default(&mut self, module: &Module, input: &Input) {
        self.defaulted.insert(input.name.clone());
        self.answers.remove(&input.name);
        let note = match &input.default {
            Some(d) => format!(
                "Keeping the default for {}: {}.",
                input.name,
                show(input, d)
            ),
            None => format!("Leaving {} empty.", input.name),
        };
        self.say(note);
        self.ask_next(module);
    }

    fn accept(&mut self, module: &Module, input: &Input, value: Value) {
        self.say(format!("{} = {}.", input.name, show(input, &value)));
        self.defaulted.remove(&input.name);
        self.answers.insert(input.name.clone(), value);
        self.ask_next(module);
    }

    /// Goes back to an input (or to the kind question, [`ASKING_KIND`]):
    /// forgets its answer and asks it now.
    pub fn revisit(&mut self, module: &Module, name: &str) {
        if name == ASKING_KIND {
            self.kind = None;
            self.ask_kind(module);
            return;
        }
        let Some(input) = module.input(name) else {
            return;
        };
        self.answers.remove(name);
        self.defaulted.remove(name);
        self.offered = None;
        self.asking = Some(name.to_owned());
        self.say(question(input));
    }

    /// Sets an answer from the form view (already checked by the caller).
    pub fn set(&mut self, module: &Module, name: &str, value: Option<Value>) {
        match value {
            Some(v) => {
                self.defaulted.remove(name);
                self.answers.insert(name.to_owned(), v);
            }
            None => {
                self.answers.remove(name);
                self.defaulted.insert(name.to_owned());
            }
        }
        if self.asking.as_deref() == Some(name) || self.asking.is_none() {
            self.ask_next(module);
        }
    }

    /// The config to submit: the answers (defaults are filled in by
    /// normalization on the server).
    pub fn config(&self) -> Config {
        self.answers.clone()
    }
}

/// The form view's text for an input's current value.
pub fn form_text(input: &Input, value: Option<&Value>) -> String {
    match (value, input.ty) {
        (None, _) | (Some(Value::Null), _) => String::new(),
        (Some(Value::Bool(b)), InputType::Bool) => if *b { "yes" } else { "no" }.into(),
        (Some(v), _) => plain(v),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_quick;
