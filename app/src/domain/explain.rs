//! The change in plain words: two or three sentences from a request's
//! module, inputs, environment and plan, for the request page, the Slack
//! plan-ready message and the PR description.
//!
//! "Creates 1 S3 bucket `team-logs` in dev with versioning on; objects
//! expire after 90 days. Nothing is changed or destroyed."
//!
//! Destructive changes come first and in words ("Destroys the SQS queue
//! `orders-dlq` in dev and everything in it."); resource types are counted
//! and pluralised ([`words`]); inputs are said through their registry
//! `explain` phrases ([`settings`]), never a sensitive one. Only the
//! request's own block is described; the rest of the plan is counted.
//! Before a plan exists, [`asks`] says what is asked for. Deterministic:
//! the same facts give the same sentences.

mod settings;
mod words;

pub use words::type_words;

use super::config::Config;
use super::ids::RequestId;
use super::registry::Module;
use super::request::{Attempt, PlanSummary, Request};
use super::scope::{PlannedChange, owner};
use words::{count, list};

/// What is explained: one request's module, inputs and environment.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The request, whose block's changes are its own.
    pub request: RequestId,
    /// Its registry module.
    pub module: &'a Module,
    /// Its inputs.
    pub config: &'a Config,
    /// Its environment.
    pub environment: &'a str,
}

impl<'a> Subject<'a> {
    /// The subject of a stored request.
    pub fn of(doc: &'a Request, module: &'a Module) -> Self {
        Self {
            request: doc.id,
            module,
            config: &doc.config,
            environment: doc.environment.as_str(),
        }
    }

    /// " `team-logs`": the request's `name` input, unless it is sensitive.
    fn named(&self) -> String {
        let shown = self.module.input("name").is_some_and(|i| !i.sensitive);
        match self.config.get("name").and_then(|v| v.as_str()) {
            Some(name) if shown && !name.is_empty() => format!(" `{name}`"),
            _ => String::new(),
        }
    }

    /// "the S3 bucket `team-logs`".
    fn the(&self) -> String {
        format!("the {}{}", self.module.title, self.named())
    }

    fn settings(&self) -> Option<String> {
        let phrases = settings::phrases(self.module, self.config);
        (!phrases.is_empty()).then(|| phrases.join("; "))
    }
}

/// What a request asks for, said before its plan exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// A new request (revision 1).
    Create,
    /// A new revision of its inputs.
    Change,
    /// Its destruction.
    Destroy,
    /// Adopting (importing) a resource that already exists.
    Adopt,
}

/// What is asked for, before a plan shows the exact changes.
pub fn asks(subject: &Subject, ask: Ask) -> String {
    let env = subject.environment;
    let title = &subject.module.title;
    let named = subject.named();
    match ask {
        Ask::Create => format!(
            "Asks for 1 {title}{named} in {env}{}; the plan will show exact changes.",
            with(" with ", subject.settings())
        ),
        Ask::Change => format!(
            "Asks to change {} in {env}{}; the plan will show exact changes.",
            subject.the(),
            with(", now with ", subject.settings())
        ),
        Ask::Destroy => format!(
            "Asks to destroy {} in {env} and everything in it.",
            subject.the()
        ),
        Ask::Adopt => format!(
            "Asks to adopt an existing {title}{named} in {env}{}: it is imported, not created; \
             the plan will show exact changes.",
            with(" with ", subject.settings())
        ),
    }
}

/// A request explained from its newest recorded plan: the destroy run's
/// once destroy is asked for, else the newest successful plan's; without
/// one, what it asks for.
pub fn request(doc: &Request, module: &Module) -> String {
    let subject = Subject::of(doc, module);
    if doc.cleanup_pr.is_some() || doc.runs.destroy.latest().is_some() {
        return match doc
            .runs
            .destroy
            .latest()
            .filter(|a| a.succeeded() || a.is_blocked())
            .and_then(recorded)
        {
            Some((changes, summary)) => explain(&subject, changes, summary),
            None => asks(&subject, Ask::Destroy),
        };
    }
    match doc
        .runs
        .plan
        .latest()
        .filter(|a| a.succeeded())
        .and_then(recorded)
    {
        Some((changes, summary)) => explain(&subject, changes, summary),
        None if doc.revision > 1 => asks(&subject, Ask::Change),
        None if doc.kind == super::request::Kind::Adopt => asks(&subject, Ask::Adopt),
        None => asks(&subject, Ask::Create),
    }
}

/// The changes an attempt recorded, with the plan's counts.
fn recorded(a: &Attempt) -> Option<(&[PlannedChange], PlanSummary)> {
    Some((a.changes.as_deref()?, a.summary.unwrap_or_default()))
}

/// The changes of `plan` to request `id`'s own block, as an attempt keeps
/// them (reads and no-ops left out).
pub fn own_changes(
    id: RequestId,
    plan: impl IntoIterator<Item = PlannedChange>,
) -> Vec<PlannedChange> {
    plan.into_iter()
        .filter(|c| {
            (kind(&c.action).is_some() || c.action == "import") && owner(&c.address) == Some(id)
        })
        .collect()
}

/// What a change does, in the order it is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Delete,
    Replace,
    Create,
    Update,
}

fn kind(action: &str) -> Option<Kind> {
    Some(match action {
        "delete" => Kind::Delete,
        "replace" => Kind::Replace,
        "create" => Kind::Create,
        "update" => Kind::Update,
        _ => return None,
    })
}

/// The request's changes of one kind: (type in words, count, is the
/// module's own kind of resource), the module's kind first, then the most
/// numerous, then by name.
struct Group {
    kind: Kind,
    parts: Vec<(String, usize, bool)>,
    total: usize,
}

fn groups(subject: &Subject, changes: &[PlannedChange]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for c in changes {
        let Some(k) = kind(&c.action) else { continue };
        if owner(&c.address) != Some(subject.request) {
            continue;
        }
        let Some((ty, _)) = words::resource(&c.address) else {
            continue;
        };
        let w = type_words(ty);
        let primary = w.eq_ignore_ascii_case(&subject.module.title);
        let i = match out.iter().position(|g| g.kind == k) {
            Some(i) => i,
            None => {
                out.push(Group {
                    kind: k,
                    parts: Vec::new(),
                    total: 0,
                });
                out.len() - 1
            }
        };
        let group = &mut out[i];
        group.total += 1;
        match group.parts.iter_mut().find(|p| p.0 == w) {
            Some(p) => p.1 += 1,
            None => group.parts.push((w, 1, primary)),
        }
    }
    for g in &mut out {
        g.parts
            .sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    }
    out.sort_by_key(|g| g.kind);
    out
}

/// The plan of `subject` in words: its own destructive changes first,
/// then what it creates and changes, then what is left alone — or, counted
/// from `summary`, what the plan does outside the request (what it
/// destroys there right after the request's own destructive changes).
pub fn explain(subject: &Subject, changes: &[PlannedChange], summary: PlanSummary) -> String {
    let groups = groups(subject, changes);
    let has = |k: Kind| groups.iter().any(|g| g.kind == k);
    let n = |k: Kind| groups.iter().find(|g| g.kind == k).map_or(0, |g| g.total);
    let own_add = n(Kind::Create) + n(Kind::Replace);
    let own_destroy = n(Kind::Delete) + n(Kind::Replace);
    let others = |all: u32, own: usize| (all as usize).saturating_sub(own);
    let (o_add, o_change, o_destroy) = (
        others(summary.add, own_add),
        others(summary.change, n(Kind::Update)),
        others(summary.destroy, own_destroy),
    );
    let elsewhere = |parts: &[(&str, usize)]| {
        list(
            &parts
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(verb, n)| format!("{verb} {}", count(*n, "resource")))
                .collect::<Vec<_>>(),
        )
    };
    // Imports are counted from the summary: an imported resource may also
    // be updated, and then it is one of the request's changes too.
    let adopted = (summary.import > 0).then(|| {
        let n = summary.import as usize;
        format!(
            "Adopts {}: imported into the state, not created.",
            count(n, "existing resource")
        )
    });
    if groups.is_empty() {
        let lead = adopted.map(|a| a + " ").unwrap_or_default();
        return if o_destroy + o_add + o_change == 0 {
            format!("{lead}Nothing changes.")
        } else {
            let all = [
                ("destroys", o_destroy),
                ("creates", o_add),
                ("changes", o_change),
            ];
            format!(
                "{lead}Nothing of this request changes. Outside it, the plan {}.",
                elsewhere(&all)
            )
        };
    }
    let mut place = Some(format!(" in {}", subject.environment));
    let mut out: Vec<String> = adopted.into_iter().collect();
    for g in groups.iter().filter(|g| g.kind <= Kind::Replace) {
        out.push(sentence(subject, g, &mut place, None));
    }
    if o_destroy > 0 {
        out.push(format!(
            "Outside this request, the plan {}.",
            elsewhere(&[("destroys", o_destroy)])
        ));
    }
    let settings = subject.settings();
    let settle = if has(Kind::Create) {
        Kind::Create
    } else {
        Kind::Update
    };
    for g in groups.iter().filter(|g| g.kind > Kind::Replace) {
        let with = (g.kind == settle).then(|| settings.clone()).flatten();
        out.push(sentence(subject, g, &mut place, with));
    }
    if o_add + o_change > 0 {
        out.push(format!(
            "Outside this request, the plan {}.",
            elsewhere(&[("creates", o_add), ("changes", o_change)])
        ));
    }
    if o_add + o_change + o_destroy == 0 {
        let created = has(Kind::Create) || has(Kind::Replace);
        let destroyed = has(Kind::Delete) || has(Kind::Replace);
        let missing: Vec<&str> = [
            (!created).then_some("created"),
            (!has(Kind::Update)).then_some("changed"),
            (!destroyed).then_some("destroyed"),
        ]
        .into_iter()
        .flatten()
        .collect();
        match missing.as_slice() {
            [] => {}
            [one] => out.push(format!("Nothing is {one}.")),
            [a, b, ..] => out.push(format!("Nothing is {a} or {b}.")),
        }
    }
    out.join(" ")
}

/// One sentence about one group; `place` (" in dev") goes into the first.
fn sentence(
    subject: &Subject,
    g: &Group,
    place: &mut Option<String>,
    settings: Option<String>,
) -> String {
    let one = g.total == 1;
    let definite = g.kind <= Kind::Replace;
    let prep = if g.kind == Kind::Create { "for" } else { "of" };
    let (head, tail) = match g.parts.as_slice() {
        [(_, 1, true)] if definite => (subject.the(), String::new()),
        [(_, 1, true)] => (
            format!("1 {}{}", subject.module.title, subject.named()),
            String::new(),
        ),
        [(w, 1, false)] => (format!("1 {w} {prep} {}", subject.the()), String::new()),
        parts => (
            format!("{} {prep} {}", count(g.total, "resource"), subject.the()),
            format!(
                " ({})",
                list(
                    &parts
                        .iter()
                        .map(|(w, n, _)| count(*n, w))
                        .collect::<Vec<_>>()
                )
            ),
        ),
    };
    let at = place.take().unwrap_or_default();
    let (it, it_is, it_holds) = if one {
        ("it", "it is", "it holds")
    } else {
        ("them", "they are", "they hold")
    };
    match g.kind {
        Kind::Delete => format!("Destroys {head}{at}{tail} and everything in {it}."),
        Kind::Replace => format!(
            "Replaces {head}{at}{tail}: {it_is} destroyed and created again, and what {it_holds} is lost."
        ),
        Kind::Create => format!("Creates {head}{at}{tail}{}.", with(" with ", settings)),
        Kind::Update => format!(
            "Changes {head}{at}{tail} in place{}.",
            with(", now with ", settings)
        ),
    }
}

fn with(lead: &str, settings: Option<String>) -> String {
    settings.map(|s| format!("{lead}{s}")).unwrap_or_default()
}

#[cfg(test)]
mod tests;
