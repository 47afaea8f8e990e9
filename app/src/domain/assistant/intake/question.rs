//! Questions about platform state a chat answers without a model: "what is
//! waiting for my approval?", "status of 01j…", "what failed in prod this
//! week?", "who approved 01j…?", "my requests".
//!
//! A message is a question only when every word belongs to the form it
//! asks (a closed vocabulary) besides the one request id or environment
//! the form takes, so a request in words ("I need a bucket for failed
//! jobs") never reads as one.

/// A question the chat answers from the index, the runs and the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// "status of 01j…", "where is 01j…": one request, by its id or the
    /// start of it (as written, lowercase).
    Status(String),
    /// "my requests": the asker's live requests.
    Mine,
    /// "what is waiting for my approval?": what the asker may approve now.
    Approvals,
    /// "what failed in prod this week?": requests whose plan, apply or
    /// destroy failed (or was blocked) in the period.
    Failed {
        /// The environment named, as written (`production`): matched
        /// against the configured ones by name or alias.
        environment: Option<String>,
        /// How far back.
        period: Period,
    },
    /// "who approved 01j…?": one request's approvals.
    WhoApproved(String),
}

/// How far back a question looks, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Since midnight.
    Today,
    /// Since Monday, midnight.
    ThisWeek,
    /// The last N days (N × 24 hours).
    LastDays(u32),
}

/// A day in milliseconds.
const DAY_MS: u64 = 24 * 60 * 60 * 1000;

impl Period {
    /// What a question means when it names no period: the last seven days.
    pub const DEFAULT: Period = Period::LastDays(7);

    /// The start of the period, in Unix milliseconds, for `now_ms`.
    pub fn since(self, now_ms: u64) -> u64 {
        let today = now_ms - now_ms % DAY_MS;
        match self {
            Self::Today => today,
            // 1970-01-01 was a Thursday: day 0 is 3 days after a Monday.
            Self::ThisWeek => today.saturating_sub(((now_ms / DAY_MS + 3) % 7) * DAY_MS),
            Self::LastDays(n) => now_ms.saturating_sub(u64::from(n) * DAY_MS),
        }
    }

    /// The period in words (`today`, `this week`, `in the last 7 days`).
    pub fn words(self) -> String {
        match self {
            Self::Today => "today".into(),
            Self::ThisWeek => "this week".into(),
            Self::LastDays(1) => "in the last day".into(),
            Self::LastDays(n) => format!("in the last {n} days"),
        }
    }
}

/// The forms the chat answers, for help and for "not a question" answers.
pub const FORMS: [&str; 5] = [
    "what is waiting for my approval?",
    "status of <request id>",
    "what failed in prod this week?",
    "who approved <request id>?",
    "my requests",
];

/// The longest period a question may name, in days.
const MAX_DAYS: u32 = 366;

/// Words any question may hold.
const FILLER: &str = "\
    a about all an any anything are at can could currently did do does for get give got \
    has have hello hey hi i in is it its know let list me now of on please pls request \
    requests right see show so something still tell tfpilot thank thanks that the there \
    to was were what which would you";

/// Words of "what is waiting for my approval?" beyond the filler.
const APPROVAL_WORDS: &str = "\
    approval approvals approve approving awaiting mine my need needing needs pending \
    ready should up waiting";

/// Words of "what failed in prod this week?" beyond the filler and the period.
const FAILURE_WORDS: &str = "\
    applies apply blocked break breaks broke broken destroy destroys during error \
    errored errors fail failed failing fails failure failures go happened over plan \
    plans recent recently run runs went within wrong";

/// Words of "status of 01j…" beyond the filler.
const STATUS_WORDS: &str = "current doing going how progress state status where with";

/// Words of "who approved 01j…?" beyond the filler.
const WHO_WORDS: &str = "\
    approval approvals approve approved approver approvers by history off signed who \
    whom";

/// Words of "my requests" beyond the filler.
const MINE_WORDS: &str = "active live mine my open own";

/// Whether `word` is one of the space-separated words of `set`.
fn holds(set: &str, word: &str) -> bool {
    set.split(' ').any(|s| s == word)
}

/// Whether any of `words` is one of `set`'s.
fn any_of(words: &[&str], set: &str) -> bool {
    words.iter().any(|w| holds(set, w))
}

/// Whether every one of `words` is filler or one of `set`'s.
fn only(words: &[&str], set: &str) -> bool {
    words.iter().all(|w| holds(FILLER, w) || holds(set, w))
}

/// The words of a message: lowercase, punctuation trimmed, `what's` read
/// as `what is`.
fn tokens(text: &str) -> Vec<String> {
    let text = text.to_lowercase().replace(['\u{2019}', '\u{2018}'], "'");
    let mut out = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '?' | '!' | '…'))
    {
        let w = raw.trim_matches(|c: char| !c.is_alphanumeric());
        if w.is_empty() {
            continue;
        }
        match w.strip_suffix("'s") {
            Some(stem) => out.extend([stem.replace('\'', ""), "is".into()]),
            None => match w {
                "whats" | "wheres" | "whos" => {
                    out.extend([w.trim_end_matches('s').to_owned(), "is".into()])
                }
                _ => out.push(w.replace('\'', "")),
            },
        }
    }
    out
}

/// Whether `word` reads as a request id or the start of one: 4 to 16
/// characters of the ids' alphabet, a digit among them.
fn id_like(word: &str) -> bool {
    (4..=16).contains(&word.len())
        && word
            .bytes()
            .all(|b| b.is_ascii_digit() || (b.is_ascii_lowercase() && !b"ilou".contains(&b)))
        && word.bytes().any(|b| b.is_ascii_digit())
}

/// Environment names and aliases that read as one wherever they stand.
const KNOWN_ENVS: &str = "\
    dev develop development live prd prod production qa sandbox stage staging stg test \
    testing";

/// Takes the period out of `words` (`today`, `this week`, `last 3 days`,
/// `past week`); `None` when none is named.
fn take_period(words: &mut Vec<&str>) -> Option<Period> {
    for i in 0..words.len() {
        let next = |k: usize| words.get(i + k).copied();
        let (period, len) = match (words[i], next(1), next(2)) {
            ("today", _, _) => (Period::Today, 1),
            ("this", Some("week"), _) => (Period::ThisWeek, 2),
            ("last" | "past", Some("day" | "24h"), _) => (Period::LastDays(1), 2),
            ("last" | "past", Some("week"), _) => (Period::LastDays(7), 2),
            ("last" | "past", Some(n), Some(unit @ ("day" | "days" | "week" | "weeks"))) => {
                let Some(n) = number(n) else { continue };
                let days = if unit.starts_with("week") { n * 7 } else { n };
                if !(1..=MAX_DAYS).contains(&days) {
                    return None;
                }
                (Period::LastDays(days), 3)
            }
            _ => continue,
        };
        words.drain(i..i + len);
        return Some(period);
    }
    None
}

fn number(word: &str) -> Option<u32> {
    let small = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    match small.iter().position(|w| *w == word) {
        Some(i) => u32::try_from(i + 1).ok(),
        None => word.parse().ok(),
    }
}

/// Takes the one environment out of `words`: a known name or alias
/// anywhere, or any name after `in`, `on` or `for`. `Err` when there are
/// other words left that the form does not hold.
fn take_environment(words: &mut Vec<&str>, form: &str) -> Result<Option<String>, ()> {
    let strange: Vec<usize> = (0..words.len())
        .filter(|&i| !only(&words[i..=i], form))
        .collect();
    let env = match strange.as_slice() {
        [] => return Ok(None),
        [i] => *i,
        _ => return Err(()),
    };
    let word = words[env];
    let after_preposition = env > 0 && matches!(words[env - 1], "in" | "on" | "for");
    let shaped = word.starts_with(|c: char| c.is_ascii_lowercase())
        && word
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if shaped && (after_preposition || holds(KNOWN_ENVS, word)) {
        words.remove(env);
        Ok(Some(word.to_owned()))
    } else {
        Err(())
    }
}

/// The question `text` asks, if it is one of the [`FORMS`] (or a close
/// variant); `None` for anything else, such as a request in words.
pub fn question(text: &str) -> Option<Question> {
    let owned = tokens(text);
    let mut words: Vec<&str> = owned.iter().map(String::as_str).collect();
    // `status <anything>`: the one form that takes any id, as before.
    if let ["status", id] = words.as_slice() {
        return Some(Question::Status((*id).to_owned()));
    }
    let ids: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !holds(FILLER, w) && id_like(w))
        .collect();
    words.retain(|w| !ids.contains(w));
    match ids.as_slice() {
        [id] => about_one(&words, id),
        [] => about_many(words),
        _ => None,
    }
}

/// A question naming one request.
fn about_one(words: &[&str], id: &str) -> Option<Question> {
    let asks_who = any_of(words, "approved approver approvers approval approvals")
        || (any_of(words, "who") && any_of(words, "approve signed"));
    if asks_who && only(words, WHO_WORDS) && !any_of(words, "can could should") {
        return Some(Question::WhoApproved(id.to_owned()));
    }
    let asks_status = words.is_empty() || any_of(words, STATUS_WORDS);
    (asks_status && only(words, STATUS_WORDS)).then(|| Question::Status(id.to_owned()))
}

/// A question naming no request.
fn about_many(mut words: Vec<&str>) -> Option<Question> {
    if words.is_empty() {
        return None;
    }
    let failure_keys = "blocked break breaks broke broken error errored errors fail failed \
                        failing fails failure failures wrong";
    if any_of(&words, failure_keys) {
        let period = take_period(&mut words);
        let environment = take_environment(&mut words, FAILURE_WORDS).ok()?;
        return only(&words, FAILURE_WORDS).then(|| Question::Failed {
            environment,
            period: period.unwrap_or(Period::DEFAULT),
        });
    }
    let waiting_on_me = any_of(&words, "waiting awaiting pending") && any_of(&words, "me my i");
    if (any_of(&words, "approval approvals approve approving") || waiting_on_me)
        && only(&words, APPROVAL_WORDS)
    {
        return Some(Question::Approvals);
    }
    if words.starts_with(&["my", "requests"]) || words.starts_with(&["my", "request"]) {
        return Some(Question::Mine);
    }
    let mine = (any_of(&words, "my") && any_of(&words, "requests request"))
        || words == ["mine"]
        || words == ["list"];
    (mine && only(&words, MINE_WORDS)).then_some(Question::Mine)
}

#[cfg(test)]
mod tests;
