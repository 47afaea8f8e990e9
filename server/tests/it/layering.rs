//! The layers of ARCHITECTURE.md ("Architecture invariant:" lines), checked
//! by reading every crate-internal path the sources name.
//!
//! A path counts wherever it appears outside comments and string literals:
//! in `use` lines (grouped ones included) and written inline in the code.

use std::path::{Path, PathBuf};

/// A file of one crate, named by its module path (`service::flow::advance`).
struct Source {
    file: PathBuf,
    module: String,
    text: String,
}

/// One broken rule: where, what it names and which invariant forbids it.
#[derive(Debug, PartialEq)]
struct Violation {
    file: String,
    line: usize,
    import: String,
    rule: &'static str,
}

/// The adapters of the server's ports, each a module other adapters must
/// not name. The GitHub API client (`github`) is shared by the two GitHub
/// adapters and is not itself an adapter of a port.
const ADAPTERS: &[&str] = &[
    "store::fs",
    "store::s3",
    "git::local",
    "git::github",
    "exec::local",
    "exec::actions",
    "exec::fake",
    "exec::tfc",
    "slack::web",
    "assistant::model",
];

/// Whether `module` is `prefix` or inside it.
fn within(module: &str, prefix: &str) -> bool {
    module == prefix
        || module
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with("::"))
}

/// Which adapter `module` belongs to, if any.
fn adapter_of(module: &str) -> Option<&'static str> {
    ADAPTERS.iter().copied().find(|a| within(module, a))
}

/// The rules of the `server` crate for a file of `module` naming `path`
/// (`crate::` stripped).
fn server_rule(module: &str, path: &str) -> Option<&'static str> {
    if within(module, "service") {
        if within(path, "http") {
            return Some("service never imports http");
        }
        if within(path, "slack") {
            return Some("service never imports slack");
        }
        if adapter_of(path).is_some() {
            return Some("service never imports a concrete adapter");
        }
    }
    if let Some(mine) = adapter_of(module)
        && let Some(theirs) = adapter_of(path)
        && mine != theirs
    {
        return Some("adapters never import each other");
    }
    if (within(module, "store")
        || within(module, "git")
        || within(module, "exec")
        || within(module, "notify")
        || within(module, "assistant"))
        && (within(path, "http") || within(path, "service") || within(path, "slack"))
    {
        return Some("ports and adapters never import service, http or slack");
    }
    if within(module, "slack") && within(path, "http") {
        return Some("slack never imports http");
    }
    None
}

/// The rules of the `app` crate.
fn app_rule(module: &str, path: &str) -> Option<&'static str> {
    if within(module, "domain") && !within(path, "domain") {
        return Some("domain imports nothing of the crate but domain");
    }
    if within(module, "api") && !within(path, "domain") && !within(path, "api") {
        return Some("api imports only domain");
    }
    None
}

/// The text of `line` without its `//` comment and string literals.
fn code_of(line: &str) -> String {
    let mut out = String::new();
    let mut in_str = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}

/// Every crate-internal path `source` names, with its line: `crate::a::b`
/// inline, and the members of `use crate::{a::b, c}` groups.
fn paths(source: &Source) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let lines: Vec<String> = source.text.lines().map(code_of).collect();
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        if let Some(at) = line.find("crate::{") {
            // A grouped import, possibly over several lines.
            let mut group = line[at + "crate::{".len()..].to_owned();
            let start = i;
            let depth = |g: &str| 1 + g.matches('{').count() as i64 - g.matches('}').count() as i64;
            while depth(&group) > 0 && i + 1 < lines.len() {
                i += 1;
                group.push_str(&lines[i]);
            }
            for item in top_level(&group) {
                found.push((start + 1, item));
            }
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().last();
            let tail = &rest[at + "crate::".len()..];
            rest = tail;
            if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '$')) {
                continue; // part of a longer name, or a macro's `$crate::`
            }
            let path: String = tail
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let path = path.trim_end_matches(':').to_owned();
            if !path.is_empty() {
                found.push((i + 1, path));
            }
        }
        for path in relative_paths(line, &source.module) {
            found.push((i + 1, path));
        }
        i += 1;
    }
    found
}

/// The `super::…` paths of `line`, made absolute from `module`.
fn relative_paths(line: &str, module: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("super::") {
        let before = rest[..at].chars().last();
        let mut tail = &rest[at..];
        rest = &rest[at + "super::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | ':')) {
            continue;
        }
        let mut base: Vec<&str> = module.split("::").collect();
        while let Some(after) = tail.strip_prefix("super::") {
            base.pop();
            tail = after;
        }
        rest = tail;
        let path: String = tail
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let path = path.trim_end_matches(':');
        if !path.is_empty() && !path.starts_with('{') {
            base.push(path);
            found.push(base.join("::"));
        }
    }
    found
}

/// The first segment paths of a `{…}` group (`a::b, c::{d, e}` → `a::b`, `c`).
fn top_level(group: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        if depth == 0 && c != '}' {
            current.push(c);
        }
    }
    items.push(current);
    items
        .into_iter()
        .map(|i| i.trim().trim_end_matches("::").trim().to_owned())
        .filter(|i| !i.is_empty() && i != "self")
        .collect()
}

/// The `.rs` files under `root`, named by module path.
fn sources(root: &Path) -> Vec<Source> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable source dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).expect("under root");
                let mut parts: Vec<String> = rel
                    .with_extension("")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if parts.last().is_some_and(|p| p == "mod") {
                    parts.pop();
                }
                out.push(Source {
                    text: std::fs::read_to_string(&path).expect("readable source"),
                    module: parts.join("::"),
                    file: path,
                });
            }
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

fn check(sources: &[Source], rule: fn(&str, &str) -> Option<&'static str>) -> Vec<Violation> {
    let mut violations = Vec::new();
    for source in sources {
        for (line, path) in paths(source) {
            if let Some(rule) = rule(&source.module, &path) {
                violations.push(Violation {
                    file: source.file.display().to_string(),
                    line,
                    import: format!("crate::{path}"),
                    rule,
                });
            }
        }
    }
    violations
}

/// Pairs of modules that name each other (a module and its own
/// submodules excepted): each path resolves to the innermost module it
/// names.
fn circles(sources: &[Source]) -> Vec<String> {
    let modules: Vec<&str> = sources.iter().map(|s| s.module.as_str()).collect();
    let mut edges = std::collections::BTreeMap::new();
    for source in sources {
        for (line, path) in paths(source) {
            let Some(target) = modules
                .iter()
                .filter(|m| !m.is_empty() && within(&path, m))
                .max_by_key(|m| m.len())
            else {
                continue;
            };
            if !within(&source.module, target) && !within(target, &source.module) {
                edges
                    .entry((source.module.clone(), target.to_string()))
                    .or_insert_with(|| format!("{}:{line}", source.file.display()));
            }
        }
    }
    edges
        .iter()
        .filter(|((a, b), _)| a < b)
        .filter_map(|((a, b), at)| {
            let back = edges.get(&(b.clone(), a.clone()))?;
            Some(format!("{a} ({at}) <-> {b} ({back})"))
        })
        .collect()
}

fn report(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}:{}: `{}` — {}", v.file, v.line, v.import, v.rule))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_server_keeps_its_layers() {
    let root = super::support::root().join("server/src");
    let violations = check(&sources(&root), server_rule);
    assert!(
        violations.is_empty(),
        "architecture invariants broken:\n{}",
        report(&violations)
    );
}

#[test]
fn the_shared_crate_keeps_its_layers() {
    let root = super::support::root().join("app/src");
    let violations = check(&sources(&root), app_rule);
    assert!(
        violations.is_empty(),
        "architecture invariants broken:\n{}",
        report(&violations)
    );
}

/// The lines of `sources` whose code (not comments or strings) names
/// `needle`, in modules `allowed` does not accept.
fn naming(sources: &[Source], needle: &str, allowed: fn(&str) -> bool) -> Vec<String> {
    sources
        .iter()
        .filter(|s| !allowed(&s.module))
        .flat_map(|s| {
            s.text
                .lines()
                .enumerate()
                .filter(|(_, line)| code_of(line).contains(needle))
                .map(|(n, line)| format!("{}:{}: {}", s.file.display(), n + 1, line.trim()))
        })
        .collect()
}

#[test]
fn the_server_uses_the_ui_only_to_mount_it() {
    let found = naming(
        &sources(&super::support::root().join("server/src")),
        "app::ui",
        |module| module == "http",
    );
    assert!(
        found.is_empty(),
        "Architecture invariant: wire types live in app::api; only http/mod.rs mounts app::ui:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_wire_types_know_nothing_of_the_pages() {
    let api: Vec<Source> = sources(&super::support::root().join("app/src"))
        .into_iter()
        .filter(|s| within(&s.module, "api"))
        .collect();
    assert!(!api.is_empty(), "app/src/api exists");
    let found = naming(&api, "leptos", |_| false);
    assert!(
        found.is_empty(),
        "Architecture invariant: app::api builds without leptos:\n{}",
        found.join("\n")
    );
}

#[test]
fn time_and_randomness_come_from_the_clock_and_ids_ports() {
    // The adapters themselves; tower-sessions' dates moved onto the clock;
    // the GitHub App's JWT, which GitHub checks against the real time.
    let allowed = |module: &str| ["clock", "ids", "auth::sessions", "github"].contains(&module);
    let server = sources(&super::support::root().join("server/src"));
    for needle in ["SystemTime::now", "OffsetDateTime::now_utc", "getrandom"] {
        let found = naming(&server, needle, allowed);
        assert!(
            found.is_empty(),
            "Architecture invariant: the wall clock and randomness are read through the Clock and Ids ports:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn no_two_modules_import_each_other() {
    for krate in ["server/src", "app/src"] {
        let found = circles(&sources(&super::support::root().join(krate)));
        assert!(
            found.is_empty(),
            "import circles in {krate}:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn the_checker_finds_what_the_rules_forbid() {
    let file = |module: &str, text: &str| Source {
        file: PathBuf::from(format!("{module}.rs")),
        module: module.into(),
        text: text.into(),
    };
    let sources = [
        file(
            "service::flow",
            "use crate::http::error::ApiError;\nuse crate::store::repo::RequestRepo;\n",
        ),
        file(
            "service::requests",
            "use crate::{\n    store::repo,\n    git::local::{LocalGit, X},\n};\n",
        ),
        file(
            "exec::actions",
            "fn f() { crate::http::webhooks::parse(\"crate::git::local\"); } // crate::git::local\n",
        ),
        file(
            "exec::local::terraform",
            "use crate::git::local::LocalGit;\n",
        ),
        file("exec::local::records", "use crate::exec::local::Records;\n"),
        file("notify::outbox", "use crate::slack::SlackNotifier;\n"),
        file(
            "slack::bot",
            "use crate::service::flow::Flow;\nuse crate::http::AppState;\n",
        ),
    ];
    let found: Vec<(String, usize, String)> = check(&sources, server_rule)
        .into_iter()
        .map(|v| (v.file, v.line, v.import))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "service::flow.rs".into(),
                1,
                "crate::http::error::ApiError".into()
            ),
            ("service::requests.rs".into(), 1, "crate::git::local".into()),
            (
                "exec::actions.rs".into(),
                1,
                "crate::http::webhooks::parse".into()
            ),
            (
                "exec::local::terraform.rs".into(),
                1,
                "crate::git::local::LocalGit".into()
            ),
            (
                "notify::outbox.rs".into(),
                1,
                "crate::slack::SlackNotifier".into()
            ),
            ("slack::bot.rs".into(), 2, "crate::http::AppState".into()),
        ]
    );
    let app = [
        file(
            "domain::policy",
            "use crate::domain::ids::RequestId;\nuse crate::ui::x;\n",
        ),
        file(
            "api::listing",
            "use crate::domain::status::Status;\nuse crate::services::Refusal;\n",
        ),
    ];
    let found: Vec<(usize, String)> = check(&app, app_rule)
        .into_iter()
        .map(|v| (v.line, v.import))
        .collect();
    assert_eq!(
        found,
        vec![
            (2, "crate::ui::x".into()),
            (2, "crate::services::Refusal".into())
        ]
    );
    let circle = [
        file("service::feed", "use super::index::Index;\n"),
        file(
            "service::index",
            "fn f() -> crate::service::feed::Change { Change::new() }\n",
        ),
        file(
            "service::flow",
            "use super::super::service::feed;\nuse self::x;\n",
        ),
        file("service::flow::advance", "use super::Flow;\n"),
    ];
    assert_eq!(
        circles(&circle),
        vec!["service::feed (service::feed.rs:1) <-> service::index (service::index.rs:1)"]
    );
}
