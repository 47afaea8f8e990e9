//! tfpilot's own check of the `Dockerfile`, beside hadolint: it parses the
//! instructions (line continuations, comments, parser directives) and
//! checks what the image must have — `FROM` first (after `ARG`s), known
//! instruction names, `COPY --from` naming an earlier stage, and in the
//! final stage a `HEALTHCHECK`, a `USER` that is not root and an
//! `ENTRYPOINT`.

/// One instruction: its line, its name (upper case) and its arguments.
#[derive(Debug, PartialEq, Eq)]
pub struct Instruction {
    /// The 1-based line it starts on.
    pub line: usize,
    /// `FROM`, `RUN`, … as written, in upper case.
    pub name: String,
    /// The rest, continuation lines joined with a space.
    pub args: String,
}

const KNOWN: [&str; 18] = [
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// Splits a Dockerfile into instructions; a line ending in `\` goes on,
/// and comment lines inside a continuation are skipped as Docker does.
pub fn parse(text: &str) -> Result<Vec<Instruction>, String> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_none()) {
            continue;
        }
        let (body, goes_on) = match line.strip_suffix('\\') {
            Some(body) => (body.trim_end(), true),
            None => (line, false),
        };
        let (start, mut joined) = current.take().unwrap_or((i + 1, String::new()));
        if !joined.is_empty() && !body.is_empty() {
            joined.push(' ');
        }
        joined.push_str(body);
        if goes_on {
            current = Some((start, joined));
            continue;
        }
        if joined.is_empty() {
            continue;
        }
        let (name, args) = joined
            .split_once(char::is_whitespace)
            .unwrap_or((&joined, ""));
        out.push(Instruction {
            line: start,
            name: name.to_ascii_uppercase(),
            args: args.trim().to_owned(),
        });
    }
    if let Some((line, _)) = current {
        return Err(format!(
            "line {line}: the last instruction ends with a line continuation"
        ));
    }
    Ok(out)
}

/// Every problem of the file, each naming its line; empty when it passes.
pub fn check(text: &str) -> Vec<String> {
    let instructions = match parse(text) {
        Ok(i) => i,
        Err(e) => return vec![e],
    };
    let mut problems = Vec::new();
    match instructions.iter().find(|i| i.name != "ARG") {
        Some(first) if first.name == "FROM" => {}
        Some(first) => problems.push(format!(
            "line {}: the first instruction after ARG is {}, not FROM",
            first.line, first.name
        )),
        None => problems.push("no FROM instruction".into()),
    }
    let mut stages: Vec<String> = Vec::new();
    let mut last_stage = 0;
    for (n, i) in instructions.iter().enumerate() {
        if !KNOWN.contains(&i.name.as_str()) {
            problems.push(format!("line {}: unknown instruction {}", i.line, i.name));
        }
        if i.name == "FROM" {
            last_stage = n;
            let words: Vec<&str> = i.args.split_whitespace().collect();
            match words.iter().position(|w| w.eq_ignore_ascii_case("as")) {
                Some(at) => stages.push(words.get(at + 1).unwrap_or(&"").to_ascii_lowercase()),
                None => stages.push(String::new()),
            }
        }
        if i.name == "COPY"
            && let Some(from) = i
                .args
                .split_whitespace()
                .find_map(|w| w.strip_prefix("--from="))
        {
            let earlier = &stages[..stages.len().saturating_sub(1)];
            let known = from
                .parse::<usize>()
                .map_or(earlier.contains(&from.to_ascii_lowercase()), |k| {
                    k < earlier.len()
                });
            if !known {
                problems.push(format!(
                    "line {}: COPY --from={from} names no earlier stage",
                    i.line
                ));
            }
        }
    }
    let last = &instructions[last_stage.min(instructions.len())..];
    match last.iter().rev().find(|i| i.name == "HEALTHCHECK") {
        None => problems.push("the final stage has no HEALTHCHECK".into()),
        Some(h) if h.args.eq_ignore_ascii_case("none") => {
            problems.push(format!("line {}: HEALTHCHECK NONE turns it off", h.line))
        }
        Some(_) => {}
    }
    match last.iter().rev().find(|i| i.name == "USER") {
        None => problems.push("the final stage has no USER: the image would run as root".into()),
        Some(u) => {
            let user = u.args.split(':').next().unwrap_or("").trim();
            if user == "root" || user == "0" {
                problems.push(format!("line {}: the final USER is root", u.line));
            }
        }
    }
    if !last.iter().any(|i| i.name == "ENTRYPOINT") {
        problems.push("the final stage has no ENTRYPOINT".into());
    }
    problems
}

#[cfg(test)]
mod tests;
