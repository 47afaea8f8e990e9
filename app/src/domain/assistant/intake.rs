//! From a first message ("I need an s3 bucket called team-logs in dev") to a project, an environment and a module, or the question to ask when unsure; and the commands a chat understands: `help` and the questions about platform state of [`question`] (`status <id>`, `my requests`, "what is waiting for my approval?", "what failed in prod this week?", "who approved <id>?").

mod question;

pub use question::{FORMS, Period, Question, question};

use crate::domain::ids::{EnvName, ModuleType, ProjectKey};
use crate::domain::registry::{Module, Registry};

/// A project and its environments, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The project.
    pub project: ProjectKey,
    /// Its environments.
    pub environments: Vec<EnvName>,
}

/// What a message names; `None` where it is not clear.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pick {
    /// The project.
    pub project: Option<ProjectKey>,
    /// The environment (one of the project's).
    pub environment: Option<EnvName>,
    /// The module.
    pub module: Option<ModuleType>,
}

/// What a chat message asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A question about platform state (`status <id>`, `my requests`, …).
    Ask(Question),
    /// `help`, or nothing at all.
    Help,
    /// Anything else: a request in words.
    Request(String),
}

/// The message without Slack mentions (`<@U123>`) and surrounding blanks.
pub fn strip_mentions(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| !(w.starts_with("<@") && w.ends_with('>')))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The command in `text` (mentions already stripped or not).
pub fn command(text: &str) -> Command {
    let text = strip_mentions(text);
    let low = text.to_lowercase();
    let words: Vec<&str> = low.split_whitespace().collect();
    match words.as_slice() {
        [] | ["help"] | ["help", ..] => Command::Help,
        _ => match question(&text) {
            Some(q) => Command::Ask(q),
            None => Command::Request(text),
        },
    }
}

/// Whether `word` names the environment `env`: its name or one of the
/// other names people give it (`production` for `prod`).
pub fn names_env(env: &str, word: &str) -> bool {
    env == word || env_aliases(env).contains(&word)
}

/// The lowercase words of `text`, punctuation trimmed.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '"' | '`'))
        .map(|w| {
            w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-')
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Other names people give an environment.
fn env_aliases(env: &str) -> &'static [&'static str] {
    match env {
        "prod" => &["production", "prd", "live"],
        "dev" => &["development", "develop"],
        "stage" | "staging" => &["staging", "stage", "stg"],
        "test" => &["testing", "qa"],
        _ => &[],
    }
}

/// `word` without a plural `s` (`dumps` → `dump`; `s3` stays).
fn singular(word: &str) -> &str {
    match word.strip_suffix('s') {
        Some(stem) if stem.len() >= 3 => stem,
        _ => word,
    }
}

/// Words too common to tell modules apart.
const COMMON: [&str; 12] = [
    "their", "there", "which", "while", "where", "every", "other", "these", "those", "about",
    "after", "before",
];

/// The words of a message that point at `module`, each with its points:
/// the module's type (4), one of its keywords (3), a part of its type or
/// a word of its title (2), its category or a longer word of its
/// description (1). A keyword of several words counts 3 when the message
/// holds it.
fn hits(module: &Module, words: &[String]) -> Vec<(String, usize)> {
    let parts: Vec<String> = module
        .module_type
        .as_str()
        .split('-')
        .chain(self::words(&module.title).iter().map(String::as_str))
        .map(|w| singular(w).to_owned())
        .collect::<Vec<_>>();
    let keywords: Vec<&str> = module
        .keywords
        .iter()
        .filter(|k| !k.contains(' '))
        .map(|k| singular(k))
        .collect();
    let described: Vec<String> = self::words(&module.description)
        .into_iter()
        .filter(|w| w.len() >= 5 && !COMMON.contains(&w.as_str()))
        .map(|w| singular(&w).to_owned())
        .collect();
    let category = singular(&module.category).to_owned();
    let mut found = Vec::new();
    for w in words {
        let w1 = singular(w);
        let points = if w == module.module_type.as_str() {
            4
        } else if keywords.contains(&w1) {
            3
        } else if parts.iter().any(|p| p == w1) {
            2
        } else if category == w1 || described.iter().any(|d| d == w1) {
            1
        } else {
            0
        };
        if points > 0 && !found.iter().any(|(f, _)| f == w) {
            found.push((w.clone(), points));
        } else if points > 0 {
            found.push((String::new(), points));
        }
    }
    let joined = format!(" {} ", words.join(" "));
    for k in module.keywords.iter().filter(|k| k.contains(' ')) {
        if joined.contains(&format!(" {k} ")) {
            found.push((k.clone(), 3));
        }
    }
    found
}

/// How strongly `words` point at `module` (the sum of [`hits`]).
fn score(module: &Module, words: &[String]) -> usize {
    hits(module, words).iter().map(|(_, p)| p).sum()
}

/// The words of `text` that point at `module`, strongest first, each once
/// (`["dumps", "postgres"]`): the reason a module was picked.
pub fn matched_words(text: &str, module: &Module) -> Vec<String> {
    let mut found = hits(module, &words(text));
    found.retain(|(w, _)| !w.is_empty());
    found.sort_by_key(|(_, p)| std::cmp::Reverse(*p));
    found.into_iter().map(|(w, _)| w).collect()
}

/// The `n` modules closest to `text`, best first: by [`hits`], then by how
/// many words share a beginning of four letters or more with the module's
/// title, description, category and keywords, then in registry order. For
/// a message that names no module, the ones to offer instead.
pub fn closest<'r>(text: &str, registry: &'r Registry, n: usize) -> Vec<&'r Module> {
    let words = words(text);
    let near = |m: &Module| {
        let vocabulary = self::words(&format!(
            "{} {} {} {} {}",
            m.module_type,
            m.title,
            m.description,
            m.category,
            m.keywords.join(" ")
        ));
        words
            .iter()
            .filter(|w| w.len() >= 4)
            .filter(|w| {
                let stem: String = w.chars().take(4).collect();
                vocabulary.iter().any(|v| v.starts_with(&stem))
            })
            .count()
    };
    let mut ranked: Vec<(usize, usize, usize, &Module)> = registry
        .modules
        .values()
        .enumerate()
        .map(|(i, m)| (score(m, &words), near(m), i, m))
        .collect();
    ranked.sort_by_key(|(s, n, i, _)| (std::cmp::Reverse(*s), std::cmp::Reverse(*n), *i));
    ranked.into_iter().take(n).map(|(_, _, _, m)| m).collect()
}

/// What `text` names among `places` and the registry's modules. A single
/// project or environment is taken without being named; a tie between
/// modules leaves the module open.
pub fn pick(text: &str, places: &[Place], registry: &Registry) -> Pick {
    let words = words(text);
    let named = |s: &str| words.iter().any(|w| w == s);
    let project = match places {
        [only] => Some(only),
        _ => places.iter().find(|p| named(p.project.as_str())),
    };
    let envs_of = |p: &Place| p.environments.clone();
    let candidates: Vec<EnvName> = match project {
        Some(p) => envs_of(p),
        None => places.iter().flat_map(envs_of).collect(),
    };
    let mut matching: Vec<EnvName> = candidates
        .iter()
        .filter(|e| named(e.as_str()) || env_aliases(e.as_str()).iter().any(|a| named(a)))
        .cloned()
        .collect();
    matching.dedup();
    let environment = match (matching.as_slice(), project) {
        ([one], _) => Some(one.clone()),
        ([], Some(p)) if p.environments.len() == 1 => p.environments.first().cloned(),
        _ => None,
    };
    let mut scored: Vec<(usize, &Module)> = registry
        .modules
        .values()
        .map(|m| (score(m, &words), m))
        .filter(|(s, _)| *s > 0)
        .collect();
    scored.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    let module = match scored.as_slice() {
        [(best, m), rest @ ..] if rest.first().is_none_or(|(next, _)| next < best) => {
            Some(m.module_type.clone())
        }
        _ => None,
    };
    Pick {
        project: project.map(|p| p.project.clone()),
        environment,
        module,
    }
}

#[cfg(test)]
mod tests;
